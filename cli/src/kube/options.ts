// The flags the cluster commands share — the job's name, --kubeconfig, --context, -n, -o, --wait — with nothing but
// yargs types imported, so that building the command line (and --help) loads no Kubernetes client.
import type { Argv } from 'yargs';

export interface ClusterArgs {
  kubeconfig?: string;
  /** The kubeconfig context to use instead of its current-context, as kubectl --context. */
  context?: string;
  namespace?: string;
}

export const outputFormats = ['table', 'json', 'yaml'] as const;
export type OutputFormat = (typeof outputFormats)[number];

export interface JobArgs extends ClusterArgs {
  job: string;
  output: OutputFormat;
}

export interface WaitArgs {
  wait: boolean;
  timeout: string;
}

export function clusterOptions<T>(yargs: Argv<T>) {
  return yargs
    .option('kubeconfig', { type: 'string', describe: 'the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)' })
    .option('context', { type: 'string', describe: "the kubeconfig context to use (default: the kubeconfig's current-context)" })
    .option('namespace', { alias: 'n', type: 'string', describe: "the job's namespace (default: the kubeconfig context's, else default)" });
}

/** Typed as the union, not the literal, so yargs gives `output` the union type. */
const tableFirst: OutputFormat = outputFormats[0];

export function outputOption<T>(yargs: Argv<T>) {
  return yargs.option('output', {
    alias: 'o',
    choices: outputFormats,
    default: tableFirst,
    describe: 'table for people; json or yaml print the object itself, for scripts',
  });
}

export function jobOptions<T>(yargs: Argv<T>) {
  return outputOption(clusterOptions(yargs.positional('job', { type: 'string', demandOption: true, describe: "the StreamJob's name" })));
}

export function waitOptions<T>(yargs: Argv<T>, waitsFor: string) {
  return yargs
    .option('wait', { type: 'boolean', default: false, describe: `wait until ${waitsFor}` })
    .option('timeout', { type: 'string', default: '5m', describe: 'give up waiting after this long (e.g. 90s, 10m); exit 1' });
}
