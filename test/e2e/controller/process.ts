// The controller as a child process (`node --import tsx controller/src/main.ts`), so a test can SIGKILL it mid-reconcile and start another.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { endpoints } from './harness.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

export interface ControllerProcess {
  child: ChildProcess;
  /** Everything it logged so far (one JSON event a line). */
  output(): string;
  exited: Promise<number | null>;
}

/** Starts sluice-controller on `namespace` with leader election on a Lease in that namespace. */
export function spawnController(namespace: string, extraArgs: string[] = []): ControllerProcess {
  const args = [
    '--import',
    'tsx',
    'controller/src/main.ts',
    '--kubeconfig',
    endpoints.kube.kubeconfig,
    '--kafka-bootstrap',
    endpoints.kafka.brokers.join(','),
    '--namespace',
    namespace,
    '--leader-election-namespace',
    namespace,
    '--lease-duration',
    '2',
    '--metrics-port',
    '0',
    '--resync-period',
    '5',
    ...extraArgs,
  ];
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}
