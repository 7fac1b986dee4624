// `streamctl run`, loaded only when it runs: its module (commands/run/index.ts) imports the whole runtime, which --help
// and the other commands must not wait for. The description lives here, so the command list needs no import; the
// module takes it from here.
import type { Argv, CommandModule } from 'yargs';

const load = async (): Promise<CommandModule> => (await import('./run/index.js')).runCommand as unknown as CommandModule;

export const runDescription = 'run a StreamJob on this machine: a JSON-lines file or the generator instead of Kafka, results to stdout or a file';

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
