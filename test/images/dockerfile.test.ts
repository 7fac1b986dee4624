// The Dockerfile against the repository it builds: every workspace's manifest reaches npm ci, every entrypoint is compiled.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dockerfile = readFileSync(`${root}Dockerfile`, 'utf8');
const { workspaces } = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { workspaces: string[] };

/** The instructions of one build stage, from its FROM line to the next. */
function stage(name: string): string {
  const start = dockerfile.search(new RegExp(`^FROM \\S+ AS ${name}$`, 'm'));
  if (start < 0) throw new Error(`the Dockerfile has no stage ${name}`);
  const next = dockerfile.slice(start + 1).search(/^FROM /m);
  return next < 0 ? dockerfile.slice(start) : dockerfile.slice(start, start + 1 + next);
}

describe('the Dockerfile', () => {
  it('copies the package.json of every workspace before npm ci, which refuses a lockfile out of sync with them', () => {
    const dependencies = stage('dependencies');
    const copied = [...dependencies.matchAll(/^COPY (\S+)\/package\.json \1\/$/gm)].map((match) => match[1]);
    const listed = /for workspace in ([^;]+); do/.exec(dependencies)?.[1]?.trim().split(/\s+/);
    expect(copied.sort()).toEqual([...workspaces].sort());
    expect(listed?.sort()).toEqual([...workspaces].sort());
  });

  it.each(['runtime', 'controller', 'registry'])('starts the %s image with a main.js the build compiles from a workspace', (target) => {
    const entrypoint = /^ENTRYPOINT \["tini", "--", "node", "\/app\/([^/]+)\/dist\/main\.js"\]$/m.exec(stage(target))?.[1];
    expect(entrypoint).toBeDefined();
    expect(workspaces).toContain(entrypoint);
    expect(existsSync(`${root}${entrypoint}/src/main.ts`)).toBe(true);
    expect(stage('build')).toContain(`COPY ${entrypoint}/ ${entrypoint}/`);
  });
});
