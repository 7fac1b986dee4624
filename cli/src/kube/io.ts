// Where a command writes: stdout and stderr passed in, so tests run a command in-process and read what it wrote.
import { messageOf, SluiceError } from '@sluice/crds/errors';

export interface Writer {
  write(text: string): unknown;
  /** True on a terminal, where progress rewrites one line instead of printing many. */
  isTTY?: boolean;
}

export interface CommandIo {
  stdout: Writer;
  stderr: Writer;
}

export const processIo: CommandIo = { stdout: process.stdout, stderr: process.stderr };

/** A problem the user can fix: the command prints its message alone (no stack) and exits 1. */
export class CommandError extends SluiceError {
  override readonly code = 'SLUICE_E_COMMAND';
}

/**
 * Runs a command's body, turning any error into `streamctl <command>: message` on stderr and exit code 1, so a command
 * function returns an exit code whatever happens.
 */
export async function guarded(command: string, io: CommandIo, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    io.stderr.write(`streamctl ${command}: ${messageOf(error)}\n`);
    return 1;
  }
}
