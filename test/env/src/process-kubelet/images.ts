// The process kubelet's images table: which local command stands for a container image's entrypoint.
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface ImageCommand {
  /** The program and its first arguments; the container's `args` follow them. */
  command: string[];
  /** Working directory; default: the pod's folder under the kubelet's workDir. */
  cwd?: string;
  /** Added to the process's environment before the container's own env. */
  env?: Record<string, string>;
}

/**
 * Keys are image repositories, matched against the container's image without its tag or digest: an image matches the key
 * when its repository equals it or ends with it (`ghcr.io/acme/sluice-runtime:1.2` matches `sluice-runtime`). The longest
 * matching key wins.
 */
export type ImageTable = Record<string, string[] | ImageCommand>;

/** `registry:5000/acme/app:1.0@sha256:…` → `registry:5000/acme/app`. */
export function repositoryOf(image: string): string {
  const withoutDigest = image.split('@')[0] ?? image;
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.indexOf(':', lastSlash + 1);
  return colon === -1 ? withoutDigest : withoutDigest.slice(0, colon);
}

export function commandFor(images: ImageTable, image: string): ImageCommand | undefined {
  const repository = repositoryOf(image);
  const key = Object.keys(images)
    .filter((candidate) => repository === candidate || repository.endsWith(candidate))
    .sort((a, b) => b.length - a.length)[0];
  if (key === undefined) return undefined;
  const entry = images[key];
  return Array.isArray(entry) ? { command: entry } : entry;
}

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

/** The Sluice runtime image as a local process: runtime-image/src/main.ts through tsx, from the repository's sources. */
export function runtimeImages(): ImageTable {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return { 'sluice-runtime': { command: [process.execPath, '--import', tsx, `${repoRoot}runtime-image/src/main.ts`] } };
}
