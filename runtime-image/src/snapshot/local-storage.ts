// Snapshot storage in a local folder: each object written to a temporary name, synced, then renamed into place.
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { SnapshotStorage, StoredObject } from './storage.js';

function isMissing(err: unknown): boolean {
  return (err as { code?: string }).code === 'ENOENT';
}

export class LocalSnapshotStorage implements SnapshotStorage {
  readonly location: string;
  readonly #root: string;

  constructor(root: string) {
    this.#root = root;
    this.location = root;
  }

  #file(path: string): string {
    return join(this.#root, ...path.split('/').filter((part) => part !== ''));
  }

  /** Writes through a temporary sibling so the object appears whole, synced so it survives a power cut. */
  async #place(path: string, fill: (temporary: string) => Promise<void>): Promise<void> {
    const target = this.#file(path);
    await mkdir(dirname(target), { recursive: true });
    const temporary = `${target}.${randomBytes(4).toString('hex')}.partial`;
    try {
      await fill(temporary);
      const handle = await open(temporary, 'r+');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temporary, target);
    } catch (err) {
      await rm(temporary, { force: true });
      throw err;
    }
  }

  write(path: string, body: Buffer): Promise<void> {
    return this.#place(path, async (temporary) => {
      const handle = await open(temporary, 'w');
      try {
        await handle.writeFile(body);
      } finally {
        await handle.close();
      }
    });
  }

  upload(path: string, file: string): Promise<void> {
    return this.#place(path, (temporary) => copyFile(file, temporary));
  }

  async read(path: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.#file(path));
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async stream(path: string): Promise<AsyncIterable<Buffer>> {
    const file = this.#file(path);
    await stat(file);
    return createReadStream(file);
  }

  async folders(path: string): Promise<string[]> {
    try {
      const entries = await readdir(this.#file(path), { withFileTypes: true });
      return entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name);
    } catch (err) {
      if (isMissing(err)) return [];
      throw err;
    }
  }

  async list(path: string): Promise<StoredObject[]> {
    const objects: StoredObject[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if (isMissing(err)) return;
        throw err;
      }
      for (const entry of entries) {
        const full = join(dir, entry.name);
        if (entry.isDirectory()) {
          await walk(full);
        } else if (entry.isFile()) {
          const info = await stat(full);
          objects.push({ path: relative(this.#root, full).split(sep).join('/'), bytes: info.size, modifiedAt: info.mtime });
        }
      }
    };
    await walk(this.#file(path));
    return objects;
  }

  async delete(path: string): Promise<void> {
    await rm(this.#file(path), { force: true });
  }

  async deleteAll(path: string): Promise<void> {
    await rm(this.#file(path), { recursive: true, force: true });
  }

  close(): void {}
}
