// Where snapshots live, as users write it: s3://bucket/prefix, file:///path or a plain folder path.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SnapshotError } from './errors.js';

export type SnapshotLocation =
  | { readonly scheme: 's3'; readonly bucket: string; /** Without leading or trailing slashes; '' for the bucket's root. */ readonly prefix: string }
  | { readonly scheme: 'file'; /** Absolute. */ readonly dir: string };

const S3 = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/;

/** Parses a location string the way spec.checkpoints.location accepts it. */
export function parseLocation(location: string): SnapshotLocation {
  if (location.startsWith('s3://')) {
    const match = S3.exec(location);
    if (match === null) {
      throw new SnapshotError(
        'SLUICE_E_SNAPSHOT_LOCATION',
        `${JSON.stringify(location)} is not an S3 location such as s3://bucket/prefix (bucket names are 3–63 lowercase letters, digits, dots and hyphens)`,
      );
    }
    return { scheme: 's3', bucket: match[1] as string, prefix: (match[2] ?? '').replace(/^\/+|\/+$/g, '') };
  }
  if (location.startsWith('file:')) return { scheme: 'file', dir: fileURLToPath(location) };
  if (location === '' || /^[a-z][a-z0-9+.-]*:\/\//i.test(location)) {
    throw new SnapshotError(
      'SLUICE_E_SNAPSHOT_LOCATION',
      `${JSON.stringify(location)} is not a snapshot location: use s3://bucket/prefix, file:///path or a folder path`,
    );
  }
  return { scheme: 'file', dir: resolve(location) };
}

export function formatLocation(location: SnapshotLocation): string {
  if (location.scheme === 'file') return location.dir;
  return location.prefix === '' ? `s3://${location.bucket}` : `s3://${location.bucket}/${location.prefix}`;
}

/** The location of a folder inside a location: a snapshot's own location is its id under the job's location. */
export function childLocation(location: SnapshotLocation, name: string): SnapshotLocation {
  if (location.scheme === 'file') return { scheme: 'file', dir: resolve(location.dir, name) };
  return { ...location, prefix: location.prefix === '' ? name : `${location.prefix}/${name}` };
}

/** Splits a snapshot's location into the location that holds it and its id (the last path segment). */
export function splitSnapshotLocation(location: SnapshotLocation): { parent: SnapshotLocation; id: string } {
  const path = location.scheme === 'file' ? location.dir : location.prefix;
  const cut = path.replace(/\/+$/, '').lastIndexOf('/');
  const id = path.slice(cut + 1).replace(/\/+$/, '');
  if (id === '')
    throw new SnapshotError(
      'SLUICE_E_SNAPSHOT_LOCATION',
      `${formatLocation(location)} names no snapshot folder: give the snapshot's own location, such as s3://bucket/prefix/<id>`,
    );
  const parent = path.slice(0, Math.max(cut, 0));
  return { parent: location.scheme === 'file' ? { scheme: 'file', dir: parent === '' ? '/' : parent } : { ...location, prefix: parent }, id };
}
