#!/usr/bin/env node
// `sluice-registry`: the Confluent-compatible schema registry's command line.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';

await yargs(hideBin(process.argv))
  .scriptName('sluice-registry')
  .usage('$0 --port P --store file:DIR|kafka:BOOTSTRAP\n\nA Confluent Schema Registry-compatible REST service (the server itself arrives with issue 4).')
  .option('port', { type: 'number', default: 8081, describe: 'port to listen on (127.0.0.1)' })
  .option('store', { type: 'string', default: 'file:./schemas', describe: 'where schemas are kept: file:DIR or kafka:BOOTSTRAP' })
  .example('$0 --port 8081 --store file:/var/lib/sluice/schemas', 'serve the registry from a local folder')
  .strict()
  .demandCommand(0)
  .check(() => {
    throw new Error('the registry server is not built yet (issue 4); point Sluice at an existing Confluent-compatible registry meanwhile');
  })
  .help()
  .parseAsync();
