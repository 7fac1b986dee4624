#!/usr/bin/env node
// `streamctl` (and `kubectl sluice`): the Sluice command line. Only each command's command line is imported here; its
// work, and the Kubernetes client or the runtime it needs, load when it runs, so --help starts as fast as yargs does.
import { basename } from 'node:path';
import yargs, { type Argv, type CommandModule } from 'yargs';
import type * as yargsTypes from 'yargs';
import { hideBin } from 'yargs/helpers';
import { completionCommand } from './commands/completion/command.js';
import { completesJobName, jobNames } from './commands/completion/job-names.js';
import { describeCommand } from './commands/describe/command.js';
import { getCommand } from './commands/get/command.js';
import { logsCommand } from './commands/logs/command.js';
import { resumeCommand } from './commands/resume/command.js';
import { runCommand } from './commands/run-command.js';
import { savepointCommand } from './commands/savepoint/command.js';
import { savepointsCommand } from './commands/savepoints/command.js';
import { scaleCommand } from './commands/scale/command.js';
import { statusCommand } from './commands/status/command.js';
import { suspendCommand } from './commands/suspend/command.js';
import { validateCommand } from './commands/validate/command.js';
import { stdinArgument } from './commands/validate/inputs.js';
import type { ClusterArgs } from './kube/options.js';

const invokedAs = basename(process.argv[1] ?? '');
/**
 * kubectl (1.26 and later) completes `kubectl sluice …` by running kubectl_complete-sluice with the words typed after
 * `kubectl sluice` and the one being completed; it reads one completion a line, then Cobra's directive (`:4`).
 */
const kubectlCompletion = invokedAs.startsWith('kubectl_complete-sluice');
/** kubectl runs a plugin named kubectl-sluice for `kubectl sluice …`; its usage lines should say what the user typed. */
const scriptName = invokedAs.startsWith('kubectl-sluice') || kubectlCompletion ? 'kubectl sluice' : 'streamctl';

const commands: CommandModule<object, never>[] = [
  runCommand,
  validateCommand,
  getCommand,
  describeCommand,
  statusCommand,
  logsCommand,
  savepointCommand,
  savepointsCommand,
  suspendCommand,
  resumeCommand,
  scaleCommand,
  completionCommand,
] as unknown as CommandModule<object, never>[];

/** Exit code of a command line yargs cannot parse, as kubectl and most CLIs use: 1 stays "the command found a problem". */
const usageExitCode = 2;

const nameOf = (command: CommandModule<object, never>): string => String(command.command).split(' ')[0]!;

/** The command the user typed, if any: the first word that names one. */
function typedCommand(args: string[]): CommandModule<object, never> | undefined {
  const first = args.find((arg) => !arg.startsWith('-'));
  return commands.find((command) => nameOf(command) === first);
}

/**
 * A usage error as one line of what is wrong and one line of usage that fixes it — never the whole help, which buries
 * the error. yargs' "Not enough non-option arguments" is said in the command's own words.
 */
function usageError(message: string, args: string[]): string {
  const command = typedCommand(args);
  if (command === undefined) {
    const first = args.find((arg) => !arg.startsWith('-'));
    // recommendCommands' message is only the suggestion; say what was not understood first.
    const said = message.startsWith('Did you mean') && first !== undefined ? `unknown command "${first}"; ${message.replace('Did', 'did')}` : message;
    return `${scriptName}: ${said}\nusage: ${scriptName} <command> [options]; ${scriptName} --help lists the commands\n`;
  }
  const name = nameOf(command);
  const wanted = String(command.command).split(' ').slice(1).join(' ');
  const said = message.startsWith('Not enough non-option arguments') ? `needs ${wanted}` : message;
  return `${scriptName} ${name}: ${said}\nusage: ${scriptName} ${String(command.command)} [options]; see ${scriptName} ${name} --help\n`;
}

/** Job names being asked of the cluster for a completion, if any (see the completion function below). */
let pendingJobNames: Promise<unknown> | undefined;

/** Cobra's ShellCompDirective values kubectl understands: leave the shell to complete file names, or not. */
const fileCompletion = ':0';
const noFileCompletion = ':4';

/**
 * What kubectl prints for `kubectl sluice <words> <Tab>`: the completions streamctl's own completion script gets (yargs'
 * --get-yargs-completions, which logs them with console.log and would exit), then the directive: with none (a manifest
 * or folder argument, a job name), the shell completes file names.
 */
async function kubectlCompletions(parser: Argv, words: string[]): Promise<string> {
  const completions: string[] = [];
  const log = console.log;
  console.log = (line: unknown) => completions.push(String(line));
  try {
    await parser.exitProcess(false).parseAsync(['--get-yargs-completions', ...words]);
    // yargs does not wait for a completion function that answers later (job names come from the cluster).
    await pendingJobNames;
  } finally {
    console.log = log;
  }
  // Flags are offered once a dash is typed, as kubectl offers its own; a word that is not a flag may be a file name.
  const current = words.at(-1) ?? '';
  const offered = current.startsWith('-') ? completions : completions.filter((completion) => !completion.startsWith('-'));
  // A job name is never a file name, even when the namespace has no job.
  const directive = offered.length === 0 && pendingJobNames === undefined ? fileCompletion : noFileCompletion;
  return [...offered, directive].map((line) => `${line}\n`).join('');
}

// yargs words completions with descriptions for zsh when it thinks it runs there; kubectl wants the plain words.
if (kubectlCompletion) process.env.SHELL = '/bin/bash';
if (kubectlCompletion) delete process.env.ZSH_NAME;

const args = hideBin(process.argv).map((arg) => (arg === '-' ? stdinArgument : arg));
let parser = yargs(kubectlCompletion ? [] : args)
  .scriptName(scriptName)
  .usage(`$0 <command> [options]\n\nRun, validate and operate Sluice stream jobs.`)
  // yargs' own completions (commands, flags, choices), and a job's name where one is asked for. yargs registers a
  // command for it, hidden here under a name no one types: `streamctl completion bash|zsh` is ours (completion/command.ts).
  .completion('__completion-script', false, ((
    current: string,
    argv: ClusterArgs & { n?: string; _: (string | number)[] },
    defaults: () => unknown,
    done: (names: string[]) => unknown,
  ) => {
    if (!completesJobName(argv._, current)) return void defaults();
    // Parsed before the command's own options are known: -n is not yet an alias of --namespace.
    const { kubeconfig, context } = argv;
    pendingJobNames = jobNames({ kubeconfig, context, namespace: argv.namespace ?? argv.n }, current).then(done);
  }) satisfies yargsTypes.FallbackCompletionFunction);
for (const command of commands) parser = parser.command(command);
parser = parser
  .example('$0 run examples/fraud-velocity/job.yaml --input examples/fraud-velocity/sample.jsonl', 'run a job on this machine over a file')
  .example('$0 validate examples/', 'check every manifest under a folder the way the API server will')
  .example('$0 get -A', 'every StreamJob in the cluster, as kubectl get streamjobs -A')
  .example('$0 status fraud-velocity -n fraud', 'what the controller reports about a job in the cluster')
  .example('$0 savepoint fraud-velocity --wait', 'take a savepoint and print its location')
  .epilogue(
    'Exit codes: 0 done (for validate: every manifest valid), 1 a problem the command found (invalid manifests, a missing job, a refusal), 2 a command line that does not parse.',
  )
  .demandCommand(1, 'name a command')
  .recommendCommands()
  .strict()
  .help()
  .fail((message: string | null, error: Error | undefined) => {
    // A message is a usage error; an error without one was thrown by a command: a bug, shown with its stack.
    if (message === null || message === undefined) throw error ?? new Error('yargs failed without a message');
    process.stderr.write(usageError(message, args));
    process.exit(usageExitCode);
  });
if (kubectlCompletion) process.stdout.write(await kubectlCompletions(parser, args));
else await parser.parseAsync();
