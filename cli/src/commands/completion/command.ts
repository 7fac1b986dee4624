// `streamctl completion bash|zsh`: prints yargs' completion script for the shell; sourcing it completes commands and
// flags by asking streamctl itself (`streamctl --get-yargs-completions …`).
import type { CommandModule } from 'yargs';

const shells = ['bash', 'zsh'] as const;

export const completionCommand: CommandModule<object, { shell: (typeof shells)[number] }> = {
  command: 'completion <shell>',
  describe: 'print the shell completion script for bash or zsh',
  builder: (yargs) =>
    yargs
      .positional('shell', { choices: shells, demandOption: true, describe: 'the shell to complete in' })
      .example('source <($0 completion bash)', 'complete streamctl in this bash session (add it to ~/.bashrc to keep it)')
      .example('source <($0 completion zsh)', 'the same in zsh (add it to ~/.zshrc)'),
  handler: async (args) => {
    // yargs picks its template from $SHELL when it is created, so a fresh instance made after setting it prints the asked one.
    process.env.SHELL = `/bin/${args.shell}`;
    if (args.shell === 'bash') delete process.env.ZSH_NAME;
    const { default: yargs } = await import('yargs');
    yargs([]).scriptName('streamctl').showCompletionScript();
  },
};
