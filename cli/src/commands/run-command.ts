// `streamctl run`, loaded only when it runs: its module (commands/run/index.ts) imports the whole runtime, which --help
// and the other commands must not wait for. The description is repeated here so the command list needs no import;
// main.test.ts checks it against the module's.
import type { Argv, CommandModule } from 'yargs';

const load = async (): Promise<CommandModule> => (await import('./run/index.js')).runCommand as unknown as CommandModule;

export const runDescription =
  'run a StreamJob on this machine: a JSON-lines file or the generator instead of Kafka, results to stdout or a file';

export const runCommand: CommandModule = {
  command: 'run <job>',
  describe: runDescription,
  // yargs waits for a builder's promise, so the options are those of the loaded module.
  builder: async (yargs: Argv) => {
    const { builder } = await load();
    return typeof builder === 'function' ? builder(yargs) : yargs.options(builder ?? {});
  },
  handler: async (args) => (await load()).handler(args),
};
