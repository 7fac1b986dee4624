// streamctl validate as a user runs it: stdin, multi-document streams such as kustomize output, folders, other kinds
// skipped and listed, empty input refused, missing files in one sentence, and the exit codes 0, 1 and 2.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCli, root, streamctl } from './cli.js';

let scratch: string;

beforeAll(() => {
  buildCli();
  scratch = mkdtempSync(join(tmpdir(), 'streamctl-validate-cli-'));
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

const example = (file: string): string => readFileSync(join(root, 'examples/fraud-velocity', file), 'utf8');

/** What `kustomize build` prints for an app folder: one stream, other kinds among Sluice's. */
const kustomized = `apiVersion: v1
kind: ConfigMap
metadata:
  name: fraud-settings
data:
  threshold: "5"
---
${example('topics.yaml').trim()}
---
${example('job.yaml').trim()}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: dashboard
spec: {}
`;

const badTopic = 'apiVersion: sluice.dev/v1alpha1\nkind: Topic\nmetadata:\n  name: payments\nspec:\n  partitions: 0\n';

function write(name: string, text: string): string {
  const file = join(scratch, name);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, text);
  return file;
}

describe('streamctl validate', () => {
  it('reads kustomize output on stdin: the Sluice manifests are checked, the ConfigMap and Deployment skipped and listed', () => {
    const ran = streamctl(['validate', '-'], { input: kustomized });
    expect(ran.stderr).toBe('');
    expect(ran.stdout).toBe('1 file(s) valid; skipped 1 ConfigMap, 1 Deployment\n');
    expect(ran.status).toBe(0);
  });

  it('finds the problem in a stream on stdin and exits 1', () => {
    const ran = streamctl(['validate', '-'], { input: `${kustomized}---\n${badTopic}` });
    expect(ran.stderr.split('\n')).toEqual([
      expect.stringMatching(/^<stdin>#\d+ Topic\/payments: spec\.partitions: Invalid value: 0: /),
      '1 problem(s) found; skipped 1 ConfigMap, 1 Deployment; fix the fields named above and run streamctl validate again',
      '',
    ]);
    expect(ran.status).toBe(1);
  });

  it('searches a folder recursively for .yaml and .yml files only', () => {
    const ran = streamctl(['validate', 'examples']);
    expect(ran.stderr).toBe('');
    // Every YAML file under examples/, at any depth (each example adds its own).
    const yamlFiles = readdirSync(join(root, 'examples'), { recursive: true, encoding: 'utf8' }).filter((file) => /\.ya?ml$/.test(file));
    expect(ran.stdout).toBe(`${yamlFiles.length} file(s) valid\n`);
    expect(ran.status).toBe(0);
    write('app/base/topic.yml', badTopic);
    write('app/base/notes.txt', 'not a manifest');
    const nested = streamctl(['validate', join(scratch, 'app')]);
    expect(nested.stderr).toContain(`${join(scratch, 'app/base/topic.yml')} Topic/payments: spec.partitions`);
    expect(nested.status).toBe(1);
  });

  it('passes over what a shell glob catches that is not YAML (sample.jsonl), in one line', () => {
    const ran = streamctl(['validate', 'examples/fraud-velocity/README.md', 'examples/fraud-velocity/job.yaml', 'examples/fraud-velocity/sample.jsonl']);
    expect(ran.stderr).toBe('');
    expect(ran.stdout).toBe('1 file(s) valid; skipped 2 files that are not YAML (README.md, sample.jsonl)\n');
    expect(ran.status).toBe(0);
  });

  it('refuses empty input: an empty file, empty stdin', () => {
    const empty = write('empty.yaml', '# nothing yet\n');
    const file = streamctl(['validate', empty]);
    expect(file.stderr).toBe(
      `${empty}: holds no manifests (it is empty or all comments)\n1 problem(s) found; fix the fields named above and run streamctl validate again\n`,
    );
    expect(file.status).toBe(1);
    const stdin = streamctl(['validate', '-'], { input: '' });
    expect(stdin.stderr).toContain('<stdin>: holds no manifests');
    expect(stdin.status).toBe(1);
  });

  it('says in one line that a file does not exist, or that a folder holds no YAML', () => {
    const missing = streamctl(['validate', 'no-such.yaml']);
    expect(missing.stderr).toBe('streamctl validate: no-such.yaml does not exist; name a YAML file, a folder of them, or - for stdin\n');
    expect(missing.status).toBe(1);
    mkdirSync(join(scratch, 'docs-only'));
    write('docs-only/README.md', '# notes\n');
    const folder = streamctl(['validate', join(scratch, 'docs-only')]);
    expect(folder.stderr).toBe(
      `streamctl validate: ${join(scratch, 'docs-only')} is a folder with no .yaml or .yml files in it; name a folder of manifests, or the files\n`,
    );
    expect(folder.status).toBe(1);
  });

  it('exits 2 on a command line it cannot parse, with the usage line and no help text', () => {
    const ran = streamctl(['validate']);
    expect(ran.stderr).toBe('streamctl validate: needs <files..>\nusage: streamctl validate <files..> [options]; see streamctl validate --help\n');
    expect(ran.stdout).toBe('');
    expect(ran.status).toBe(2);
  });
});
