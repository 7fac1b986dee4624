// A container's termination message under terminationMessagePolicy FallbackToLogsOnError, as the kubelet writes it.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { V1Container } from '@kubernetes/client-node';

/** The kubelet's bounds (kubecontainer.MaxContainerTerminationMessageLogLines and …LogLength): 80 lines, of those the last 2,048 bytes. */
export const maxMessageLines = 80;
export const maxMessageBytes = 2048;

/**
 * The last 80 lines of `output`, cut to their last 2,048 bytes — whichever is smaller. The kubelet reads the tail
 * lines into a circular buffer of 2,048 bytes, so a long tail loses its beginning, never the line the process wrote last.
 */
export function logTail(output: Buffer): string {
  let start = output.length;
  // A trailing newline ends the last line; it does not begin another.
  let end = output.length > 0 && output[output.length - 1] === 0x0a ? output.length - 1 : output.length;
  for (let lines = 0; lines < maxMessageLines && end > 0; lines += 1) {
    const newline = output.lastIndexOf(0x0a, end - 1);
    start = newline + 1;
    end = newline;
    if (newline < 0) break;
  }
  const tail = output.subarray(Math.max(start, output.length - maxMessageBytes));
  return tail.toString('utf8');
}

/**
 * The message of a run that ended with `exitCode`: the process kubelet has no termination-message file, so under
 * FallbackToLogsOnError a non-zero exit gets the tail of what this run wrote (from byte `runStart` of the log) and
 * anything else none.
 */
export function terminationMessage(container: V1Container, exitCode: number, log: string, runStart: number): string | undefined {
  if (container.terminationMessagePolicy !== 'FallbackToLogsOnError' || exitCode === 0) return undefined;
  const output = readFrom(log, runStart);
  return output.length === 0 ? undefined : logTail(output);
}

function readFrom(file: string, offset: number): Buffer {
  let descriptor: number;
  try {
    descriptor = openSync(file, 'r');
  } catch {
    return Buffer.alloc(0);
  }
  try {
    // logTail keeps at most the last 2,048 bytes, and counting lines inside them finds the same start.
    const size = fstatSync(descriptor).size;
    const from = Math.max(offset, size - maxMessageBytes);
    const buffer = Buffer.alloc(Math.max(0, size - from));
    readSync(descriptor, buffer, 0, buffer.length, from);
    return buffer;
  } finally {
    closeSync(descriptor);
  }
}
