// `kubectl sluice <Tab>`: kubectl (1.26 and later) runs kubectl_complete-sluice, found on PATH beside the kubectl-sluice
// plugin, with the words typed after `kubectl sluice` and the word being completed; it reads one completion a line and
// a last line `:N`, Cobra's directive (4: no file names; 0: the shell may complete file names).
import { spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCli, root } from './cli.js';

const bin = join(root, 'cli/bin/kubectl_complete-sluice.js');

beforeAll(() => {
  buildCli();
});

/** What kubectl reads from the completion executable for these words, the last one being completed. */
function complete(...words: string[]): string[] {
  const ran = spawnSync(bin, words, { cwd: root, encoding: 'utf8', env: { ...process.env, SHELL: '/bin/zsh' } });
  expect({ status: ran.status, stderr: ran.stderr }).toEqual({ status: 0, stderr: '' });
  return ran.stdout.split('\n').filter((line) => line !== '');
}

describe('kubectl_complete-sluice', () => {
  it('ships beside the kubectl-sluice plugin, as an executable npm links onto PATH', () => {
    const manifest = JSON.parse(readFileSync(join(root, 'cli/package.json'), 'utf8')) as { bin: Record<string, string> };
    expect(manifest.bin).toMatchObject({ 'kubectl-sluice': 'bin/kubectl-sluice.js', 'kubectl_complete-sluice': 'bin/kubectl_complete-sluice.js' });
    expect(() => accessSync(bin, constants.X_OK)).not.toThrow();
  });

  it('completes the commands, plain words even under zsh, and asks for no file names', () => {
    const commands = complete('');
    expect(commands.at(-1)).toBe(':4');
    expect(commands).toEqual(expect.arrayContaining(['run', 'validate', 'get', 'describe', 'status', 'logs', 'completion']));
    expect(commands.filter((line) => line.includes(':') && line !== ':4')).toEqual([]);
  });

  it("completes a command's flags once a dash is typed, and its choices", () => {
    expect(complete('status', 'fraud-velocity', '--')).toEqual(expect.arrayContaining(['--namespace', '--context', '--kubeconfig', '--output', ':4']));
    expect(complete('completion', '')).toEqual(['bash', 'zsh', ':4']);
  });

  it("leaves a manifest or folder argument to the shell's file names", () => {
    expect(complete('validate', 'examples/fr')).toEqual([':0']);
    expect(complete('run', '')).toEqual([':0']);
  });
});
