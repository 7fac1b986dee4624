// `streamctl validate`'s command line; the work is in index.ts, loaded when the command runs.
import type { CommandModule } from 'yargs';
import { processIo } from '../../kube/io.js';
import { clusterOptions } from '../../kube/options.js';
import type { ValidateArgs } from './index.js';

export const validateCommand: CommandModule<object, ValidateArgs> = {
  command: 'validate <files..>',
  describe: 'check StreamJob, Topic and SchemaSubject manifests against the CRD schemas and their CEL rules, and compile StreamJobs as the runtime will',
  builder: (yargs) =>
    clusterOptions(yargs)
      .positional('files', { type: 'string', array: true, demandOption: true, describe: 'YAML files, several documents each allowed' })
      .option('server', {
        type: 'boolean',
        default: false,
        describe: "also send each manifest to the cluster's API server as a dry-run create (nothing is stored), so its installed CRDs judge it",
      })
      .option('registry', {
        type: 'string',
        describe:
          "the schema registry (URL) to check the fields of StreamJobs whose source names a subject against; by default a SchemaSubject among the files, else the job's registry",
      })
      .example('$0 validate examples/fraud-velocity/*.yaml', 'validate a job with its topics and schema, offline')
      .example('$0 validate job.yaml --server -n fraud', 'also ask the API server, as kubectl apply --dry-run=server would'),
  handler: async (args) => {
    const { validate } = await import('./index.js');
    process.exitCode = await validate(args, processIo);
  },
};
