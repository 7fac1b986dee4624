// The embedded store: the log as JSON lines in one file, compacted on open, flushed to disk on every write.
import { closeSync, existsSync, fdatasyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { recordIdentity, type LogRecord } from '../model.js';
import type { ApplyRecord, Store } from './store.js';

/** One registry owns a folder at a time (a lock file with its pid says which); replicas share a kafka: store instead. */
export class FileStore implements Store {
  readonly description: string;
  private readonly file: string;
  private readonly lockFile: string;
  private fd: number | undefined;
  private apply: ApplyRecord | undefined;

  constructor(readonly directory: string) {
    this.file = join(directory, 'schemas.log');
    this.lockFile = join(directory, 'schemas.lock');
    this.description = `file:${directory}`;
  }

  open(apply: ApplyRecord): Promise<void> {
    mkdirSync(this.directory, { recursive: true });
    this.lock();
    const { records, torn } = existsSync(this.file) ? parseLog(readFileSync(this.file, 'utf8'), this.file) : { records: [], torn: false };
    for (const record of records) apply(record);
    this.compact(records, torn);
    this.fd = openSync(this.file, 'a');
    this.apply = apply;
    return Promise.resolve();
  }

  /** Keeps the last record per key, so the file grows with the registry's content, not with its history. */
  private compact(records: LogRecord[], torn: boolean): void {
    const latest = new Map<string, LogRecord>();
    for (const record of records) {
      const identity = recordIdentity(record.key);
      latest.delete(identity);
      latest.set(identity, record);
    }
    if (latest.size === records.length && !torn) return;
    const kept = [...latest.values()].filter((record) => record.value !== null || record.key.keytype !== 'SCHEMA');
    const temporary = `${this.file}.compacting`;
    writeFileSync(temporary, kept.map((record) => `${JSON.stringify(record)}\n`).join(''));
    renameSync(temporary, this.file);
  }

  /** Takes the folder, or fails naming the live process that holds it; a lock left by a dead process is taken over. */
  private lock(): void {
    for (;;) {
      try {
        writeFileSync(this.lockFile, String(process.pid), { flag: 'wx' });
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = Number(readFileSync(this.lockFile, 'utf8'));
      if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) {
        throw new Error(
          `${this.directory} is in use by another registry (pid ${holder}); stop it, or give this one its own folder, or run replicas on a kafka: store`,
        );
      }
      rmSync(this.lockFile, { force: true });
    }
  }

  append(records: LogRecord[]): Promise<boolean[]> {
    if (this.fd === undefined || !this.apply) throw new Error('the file store is not open: call open() first');
    writeSync(this.fd, records.map((record) => `${JSON.stringify(record)}\n`).join(''));
    fdatasyncSync(this.fd);
    return Promise.resolve(records.map((record) => this.apply!(record)));
  }

  sync(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    if (this.fd !== undefined) {
      closeSync(this.fd);
      rmSync(this.lockFile, { force: true });
    }
    this.fd = undefined;
    return Promise.resolve();
  }
}

function parseLog(text: string, file: string): { records: LogRecord[]; torn: boolean } {
  const lines = text.split('\n');
  const records: LogRecord[] = [];
  let torn = false;
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    try {
      records.push(JSON.parse(line) as LogRecord);
    } catch {
      // A crash mid-write leaves at most a torn last line; anything else is damage the operator must see.
      if (index < lines.length - 2) throw new Error(`${file} line ${index + 1} is not a JSON record: restore the file from a backup or remove the line`);
      torn = true;
    }
  });
  return { records, torn };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
