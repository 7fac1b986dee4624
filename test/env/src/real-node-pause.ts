// Tiny images for the real node, built here because no registry is reachable: one static C binary FROM scratch in an OCI archive (the pod sandbox's "pause").
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The name containerd's CRI plugin is told to use as its sandbox image (never pulled: imported). */
export const pauseImage = 'localhost/pause:3.10';

/** Sleeps until SIGINT or SIGTERM and reaps orphans: all a pod sandbox's first process has to do. */
const pauseSource = `#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
static void stop(int sig) { (void)sig; _exit(0); }
static void reap(int sig) { (void)sig; while (waitpid(-1, 0, WNOHANG) > 0) {} }
int main(void) {
  struct sigaction sa = {0};
  sa.sa_handler = stop; sigaction(SIGINT, &sa, 0); sigaction(SIGTERM, &sa, 0);
  sa.sa_handler = reap; sa.sa_flags = SA_NOCLDSTOP; sigaction(SIGCHLD, &sa, 0);
  for (;;) pause();
}
`;

function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

function run(command: string, args: string[], what: string): void {
  try {
    execFileSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? String(error);
    throw new Error(`${what} failed (${command} ${args.join(' ')}): ${stderr}`);
  }
}

/** The pod sandbox image's OCI archive in `dir`, built once. */
export function buildPauseArchive(dir: string): string {
  return buildStaticImageArchive(dir, pauseImage, pauseSource);
}

/**
 * Compiles `source` into a static `/<program>` (named after the image's last path part) and writes an OCI image archive holding only it
 * (FROM scratch, entrypoint that binary, user 65535) into `dir`; returns its path. The archive is reused while the source is unchanged.
 * Needs gcc and the static glibc (Debian's build-essential).
 */
export function buildStaticImageArchive(dir: string, image: string, source: string): string {
  const program = image.split(':')[0]!.split('/').pop()!;
  const sourceDigest = sha256(Buffer.from(source)).slice('sha256:'.length, 'sha256:'.length + 12);
  const archive = join(dir, `${program}-${sourceDigest}.oci.tar`);
  if (existsSync(archive)) return archive;
  const work = join(dir, `${program}-${sourceDigest}.work`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(work, 'rootfs'), { recursive: true });
  writeFileSync(join(work, `${program}.c`), source);
  run(
    'gcc',
    ['-static', '-Os', '-s', '-o', join(work, 'rootfs', program), join(work, `${program}.c`)],
    `compiling ${program} (apt-get install build-essential)`,
  );
  // Fixed owner and time, so the same binary always gives the same layer digest.
  run(
    'tar',
    ['--create', '--file', join(work, 'layer.tar'), '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '-C', join(work, 'rootfs'), program],
    `packing the ${program} layer`,
  );
  const layer = readFileSync(join(work, 'layer.tar'));
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Entrypoint: [`/${program}`], User: '65535:65535' },
      rootfs: { type: 'layers', diff_ids: [sha256(layer)] },
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(layer), size: layer.length }],
    }),
  );
  const index = {
    schemaVersion: 2,
    manifests: [
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: sha256(manifest),
        size: manifest.length,
        // containerd names the imported image after io.containerd.image.name.
        annotations: { 'io.containerd.image.name': image, 'org.opencontainers.image.ref.name': image.split(':')[1] },
      },
    ],
  };
  const layout = join(work, 'layout');
  mkdirSync(join(layout, 'blobs', 'sha256'), { recursive: true });
  for (const blob of [layer, config, manifest]) writeFileSync(join(layout, 'blobs', 'sha256', sha256(blob).slice('sha256:'.length)), blob);
  writeFileSync(join(layout, 'index.json'), JSON.stringify(index));
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  run(
    'tar',
    ['--create', '--file', `${archive}.tmp`, '--owner=0', '--group=0', '--numeric-owner', '-C', layout, 'oci-layout', 'index.json', 'blobs'],
    `packing the ${image} archive`,
  );
  renameSync(`${archive}.tmp`, archive);
  rmSync(work, { recursive: true, force: true });
  return archive;
}
