// `streamctl get`'s command line; the work is in index.ts, loaded when the command runs.
import type { CommandModule } from 'yargs';
import { processIo } from '../../kube/io.js';
import { clusterOptions } from '../../kube/options.js';
import type { GetArgs } from './index.js';

const listFormats = ['table', 'wide', 'name', 'json', 'yaml'];

export const getCommand: CommandModule<object, GetArgs> = {
  command: 'get [job]',
  describe: 'list StreamJobs (or one) with phase, parallelism, lag, watermark and last savepoint, as kubectl get streamjobs does',
  builder: (yargs) =>
    clusterOptions(yargs)
      .positional('job', { type: 'string', describe: "a StreamJob's name (default: every job in the namespace)" })
      .option('all-namespaces', { alias: 'A', type: 'boolean', default: false, describe: 'list the jobs of every namespace' })
      .option('output', {
        alias: 'o',
        type: 'string',
        default: 'table',
        describe: 'table, wide (more columns), name, json, yaml, or jsonpath=TEMPLATE such as jsonpath={.items[*].metadata.name}',
      })
      .check((args) => {
        if (listFormats.includes(args.output) || args.output.startsWith('jsonpath=')) return true;
        throw new Error(`-o ${args.output} is not an output format; use ${listFormats.join(', ')} or jsonpath=TEMPLATE`);
      })
      .check((args) => {
        if (args.job !== undefined && args['all-namespaces']) throw new Error('name a job or pass -A, not both (a job is looked up in one namespace, -n)');
        return true;
      })
      .example('$0 get', "the jobs in the kubeconfig context's namespace")
      .example('$0 get -A -o wide', 'every job in the cluster, with more columns')
      .example("$0 get fraud-velocity -o jsonpath='{.status.phase}'", 'one field of one job, for scripts'),
  handler: async (args) => {
    const { get } = await import('./index.js');
    process.exitCode = await get(args, processIo);
  },
};
