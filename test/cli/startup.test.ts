// What streamctl loads to start: --help only yargs and the command lines, validate no Kubernetes client, a cluster
// command neither @kubernetes/client-node nor the runtime. Checked by recording every module Node resolves (a resolve
// hook), not by the clock; bench/src/cli-startup.ts measures the time.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCli, root } from './cli.js';

let scratch: string;

beforeAll(() => {
  buildCli();
  scratch = mkdtempSync(join(tmpdir(), 'streamctl-startup-'));
  // A synchronous resolve hook (module.registerHooks) sees import and require alike; each resolved URL is appended to
  // the file the environment names.
  writeFileSync(
    join(scratch, 'register.mjs'),
    `import { appendFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
registerHooks({
  resolve(specifier, context, next) {
    const resolved = next(specifier, context);
    appendFileSync(process.env.STREAMCTL_MODULES, resolved.url + '\\n');
    return resolved;
  },
});
`,
  );
  writeFileSync(
    join(scratch, 'kubeconfig'),
    "apiVersion: v1\nkind: Config\nclusters: [{name: none, cluster: {server: 'https://127.0.0.1:1'}}]\nusers: [{name: me, user: {token: t}}]\ncontexts: [{name: none, context: {cluster: none, user: me}}]\ncurrent-context: none\n",
  );
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** The modules `streamctl ...args` loaded, as resolved URLs. */
function modulesLoadedBy(...args: string[]): string[] {
  const record = join(scratch, `${args.join('-').replace(/\W+/g, '_')}.txt`);
  writeFileSync(record, '');
  const cli = join(process.env.STREAMCTL_ROOT ?? root, 'cli/bin/streamctl.js');
  spawnSync(process.execPath, ['--import', join(scratch, 'register.mjs'), cli, ...args], {
    cwd: root,
    env: { ...process.env, STREAMCTL_MODULES: record },
    encoding: 'utf8',
  });
  return readFileSync(record, 'utf8').split('\n').filter(Boolean);
}

const kubernetesClient = (url: string) => url.includes('/@kubernetes/client-node/');
const runtime = (url: string) => url.includes('/runtime-image/');
// The CRDs' modules but the error base (@sluice/crds/errors: one class, no imports), which every command's errors extend.
const crds = (url: string) => url.includes('/crds/dist/') && !url.endsWith('/crds/dist/errors.js');
const schemaCompiler = (url: string) => url.includes('/ajv/dist/compile/') || url.endsWith('/ajv/dist/ajv.js');
const runtimeClients = (url: string) => ['/kafkajs/', '/@aws-sdk/', '/ioredis/'].some((client) => url.includes(client));

describe('streamctl start-up', () => {
  it('--help loads neither the Kubernetes client, nor the runtime, nor the CRD schemas', () => {
    const loaded = modulesLoadedBy('--help');
    expect(loaded.some((url) => url.includes('/cli/dist/main.js'))).toBe(true);
    expect(loaded.filter((url) => kubernetesClient(url) || runtime(url) || crds(url))).toEqual([]);
  });

  it('validate loads the job compiler but no Kubernetes client', () => {
    const loaded = modulesLoadedBy('validate', 'examples/fraud-velocity/job.yaml');
    expect(loaded.some(runtime)).toBe(true);
    expect(loaded.filter(kubernetesClient)).toEqual([]);
  });

  it("validate uses the build's precompiled CRD validators, and loads neither ajv's compiler nor the runtime's Kafka, S3 or Redis clients", () => {
    const loaded = modulesLoadedBy('validate', 'examples/fraud-velocity/job.yaml');
    expect(loaded.filter((url) => url.includes('/crds/dist/precompiled/')).map((url) => url.replace(/.*\//, ''))).toEqual(['streamjob.cjs']);
    expect(loaded.filter((url) => schemaCompiler(url) || runtimeClients(url))).toEqual([]);
  });

  it("a cluster command loads neither @kubernetes/client-node (streamctl's own client, kube/api.ts, talks to the API server) nor the runtime", () => {
    const loaded = modulesLoadedBy('status', 'fraud-velocity', '--kubeconfig', join(scratch, 'kubeconfig'));
    expect(loaded.some((url) => url.endsWith('/cli/dist/kube/api.js'))).toBe(true);
    expect(loaded.filter((url) => kubernetesClient(url) || runtime(url))).toEqual([]);
  });

  it.each([['get'], ['suspend', 'fraud-velocity'], ['scale', 'fraud-velocity', '2'], ['savepoint', 'fraud-velocity']])(
    '%s loads of the runtime only its durations (--timeout is read as the job YAML writes them), and no Kubernetes client library',
    (...args: string[]) => {
      const loaded = modulesLoadedBy(...args, '--kubeconfig', join(scratch, 'kubeconfig'));
      expect(loaded.filter((url) => kubernetesClient(url) || (runtime(url) && !url.includes('/runtime-image/dist/time/')))).toEqual([]);
    },
  );
});
