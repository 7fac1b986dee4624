// PostgreSQL on loopback for tests: Debian's server binaries, one cluster initialised once under <run>/postgres, trust auth, no fsync.
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { daemonPid, portFrom, startDaemon, stopDaemon, tcpOpen, waitForDaemon, type EnvPaths } from './proc.js';
import type { PostgresEndpoint, Service } from './service.js';

const name = 'postgres';
const database = 'sluice';
const superuser = 'sluice';

/** `SLUICE_PG_BIN`, else the newest Debian install (its server binaries are not on PATH), else PATH. */
function binary(program: string): string {
  if (process.env.SLUICE_PG_BIN !== undefined) return join(process.env.SLUICE_PG_BIN, program);
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root) ? readdirSync(root).filter((major) => existsSync(join(root, major, 'bin', 'postgres'))) : [];
  const newest = majors.sort((a, b) => Number(b) - Number(a))[0];
  return newest === undefined ? program : join(root, newest, 'bin', program);
}

/** How to run a PostgreSQL program: the command and arguments to spawn for it. */
type Launch = (program: string, args: string[]) => [string, string[]];

function postgresUser(): { uid: number; gid: number } {
  try {
    const id = (flag: string): number => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    throw new Error(
      "PostgreSQL refuses to run as root and there is no 'postgres' system user to run it as: run npm run env:install (the postgresql package creates the user), or run the tests as a normal user",
    );
  }
}

/**
 * PostgreSQL refuses to run as root. As root, the data dir is handed to the `postgres` user and the programs run as that user
 * through setpriv, which execs in place, so the pid file and the process group are the server's own. A data dir under a
 * root-only home (/root is 0700) is out of that user's reach; then, and only then, it keeps CAP_DAC_READ_SEARCH to walk there.
 * Either way it is a test-only server on loopback with trust auth: keep it off shared machines.
 */
function launcher(data: string): Launch {
  if (process.getuid?.() !== 0) return (program, args) => [program, args];
  const owner = postgresUser();
  chownSync(data, owner.uid, owner.gid);
  const drop = [`--reuid=${owner.uid}`, `--regid=${owner.gid}`, '--init-groups'];
  const reachable = spawnSync('setpriv', [...drop, '--', 'test', '-w', data]).status === 0;
  const walk = reachable ? [] : ['--inh-caps=+dac_read_search', '--ambient-caps=+dac_read_search'];
  return (program, args) => ['setpriv', [...drop, ...walk, '--', program, ...args]];
}

function majorVersion(): string {
  let version: string;
  try {
    version = execFileSync(binary('postgres'), ['--version'], { encoding: 'utf8' });
  } catch (error) {
    throw new Error(
      `PostgreSQL's server (${binary('postgres')}) does not run: ${(error as Error).message}. Run npm run env:install, or set SLUICE_PG_BIN to its bin folder`,
    );
  }
  const major = /\(PostgreSQL\) (\d+)/.exec(version)?.[1];
  if (major === undefined) throw new Error(`cannot read the PostgreSQL version from: ${version}`);
  return major;
}

/** Initialises the cluster once; a data dir of another major version, or one whose initdb did not finish, is made afresh. */
function initCluster(dir: string, data: string): Launch {
  const stamp = join(dir, 'initdb.done');
  const wanted = `postgres ${majorVersion()} superuser ${superuser}\n`;
  const done = existsSync(stamp) && readFileSync(stamp, 'utf8') === wanted;
  if (!done) {
    rmSync(stamp, { force: true });
    rmSync(data, { recursive: true, force: true });
  }
  // Default modes: a mode here would apply to every folder the recursive mkdir creates; initdb narrows the data dir to 0700 itself.
  mkdirSync(data, { recursive: true });
  const launch = launcher(data);
  if (done) return launch;
  const [command, args] = launch(binary('initdb'), ['-D', data, '-U', superuser, '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync']);
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.status !== 0) {
    const hint =
      process.getuid?.() !== 0
        ? ''
        : `\n(initdb ran as the postgres user through setpriv; if it could not reach ${data}, set SLUICE_CACHE or SLUICE_RUN to a folder that user can reach)`;
    throw new Error(`initdb of ${data} failed: ${result.error?.message ?? ''}${result.stderr}${result.stdout}${hint}`);
  }
  writeFileSync(stamp, wanted);
  return launch;
}

function serverArgs(data: string, port: number): string[] {
  const settings = {
    listen_addresses: '127.0.0.1',
    // TCP only: no socket file in a shared folder, and no clash with a system cluster's /var/run/postgresql.
    unix_socket_directories: '',
    // Test data: losing it in a crash is fine, waiting for the disk is not.
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    // Runtime pods, controllers and parallel tests each hold a pool.
    max_connections: '200',
  };
  return ['-D', data, '-p', String(port), ...Object.entries(settings).flatMap(([key, value]) => ['-c', `${key}=${value}`])];
}

function url(port: number, db: string): string {
  return `postgres://${superuser}@127.0.0.1:${port}/${db}`;
}

/** True when the server accepts a connection to `db` and runs a query. */
async function answers(connectionString: string): Promise<boolean> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function ensureDatabase(port: number): Promise<void> {
  const client = new pg.Client({ connectionString: url(port, 'postgres') });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (rowCount === 0) {
      // A concurrent start may create it between the check and here.
      await client.query(`create database ${database}`).catch((error: { code?: string }) => {
        if (error.code !== '42P04') throw error;
      });
    }
  } finally {
    await client.end();
  }
}

export const postgres: Service<PostgresEndpoint> = {
  name,
  async start(paths: EnvPaths) {
    const port = portFrom('SLUICE_PG_PORT', 15432);
    const endpoint = { url: url(port, database) };
    if (await answers(endpoint.url)) return endpoint;
    if (daemonPid(paths, name) === undefined) {
      if (await tcpOpen('127.0.0.1', port))
        throw new Error(`127.0.0.1:${port} is taken by something that is not our PostgreSQL; stop it or set SLUICE_PG_PORT`);
      const dir = join(paths.run, name);
      const data = join(dir, 'data');
      const launch = initCluster(dir, data);
      const [command, args] = launch(binary('postgres'), serverArgs(data, port));
      startDaemon(paths, name, command, args);
    }
    await waitForDaemon(paths, name, `PostgreSQL on 127.0.0.1:${port}`, () => answers(url(port, 'postgres')), 60_000);
    await ensureDatabase(port);
    return endpoint;
  },
  async stop(paths: EnvPaths) {
    // SIGINT is PostgreSQL's fast shutdown: it ends open sessions and checkpoints. The SIGTERM that stopDaemon sends to the
    // group would be a smart shutdown, waiting for every client to leave, and would not reach the backends, which call setsid().
    const pid = daemonPid(paths, name);
    if (pid !== undefined) process.kill(pid, 'SIGINT');
    await stopDaemon(paths, name, 30_000);
  },
};
