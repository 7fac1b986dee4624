// Lines of a file as raw bytes split on "\n", numbered from 0, read in large chunks.
import { createReadStream } from 'node:fs';

export interface Line {
  /** 0-based line index. */
  index: number;
  /** The line's bytes as they are in the file (without its "\n", and "\r" of a "\r\n" ending). */
  bytes: Buffer;
}

const NEWLINE = 0x0a;
const RETURN = 0x0d;

/**
 * The file's lines from line `from` on (a final line without "\\n" counts; "\\r\\n" endings lose their "\\r").
 * Lines before `from` are counted but not decoded. Splitting bytes before decoding keeps multi-byte characters intact.
 */
export async function* readLines(path: string, from = 0): AsyncGenerator<Line> {
  let index = 0;
  let carry: Buffer | undefined;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    const data = carry ? Buffer.concat([carry, chunk]) : chunk;
    let start = 0;
    for (let end = data.indexOf(NEWLINE, start); end >= 0; end = data.indexOf(NEWLINE, start)) {
      if (index >= from) yield { index, bytes: lineBytes(data, start, end) };
      index += 1;
      start = end + 1;
    }
    carry = start < data.length ? data.subarray(start) : undefined;
  }
  if (carry && index >= from) yield { index, bytes: lineBytes(carry, 0, carry.length) };
}

function lineBytes(data: Buffer, start: number, end: number): Buffer {
  return data.subarray(start, end > start && data[end - 1] === RETURN ? end - 1 : end);
}
