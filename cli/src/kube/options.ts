// The flags every cluster command takes: the job's name, --kubeconfig, -n and -o.
import type { Argv } from 'yargs';
import { clusterOptions } from './cluster.js';
import { outputOption } from './output.js';

export function jobOptions<T>(yargs: Argv<T>) {
  return outputOption(clusterOptions(yargs.positional('job', { type: 'string', demandOption: true, describe: "the StreamJob's name" })));
}
