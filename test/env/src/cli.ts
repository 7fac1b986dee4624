// `npm run env:up | env:down`: start or stop the local test environment by hand.
import { down, up } from './env.js';
import { envPaths } from './proc.js';
import { startRealNode, stopRealNode } from './real-node.js';

const usage = `usage: tsx test/env/src/cli.ts up|down [--real-node]
  up                start Kafka, the Kubernetes API server, S3, Redis and PostgreSQL (reusing running ones)
  up --real-node    also start a real node on them (containerd, kubelet, kube-proxy, kube-scheduler; needs root)
  down              stop the real node, if it runs, and then all the servers
  down --real-node  stop only the real node and put back what it changed on the host
`;

async function main(command: string | undefined, options: string[]): Promise<void> {
  const realNode = options.includes('--real-node');
  if (options.some((option) => option !== '--real-node')) {
    process.stderr.write(usage);
    process.exitCode = 2;
  } else if (command === 'up') {
    const endpoints = await up();
    const started = Date.now();
    const node = realNode ? await startRealNode(envPaths(), endpoints) : undefined;
    if (node !== undefined) process.stderr.write(`real node ${node.node} ready in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
    process.stdout.write(`${JSON.stringify(node === undefined ? endpoints : { ...endpoints, realNode: node }, null, 2)}\n`);
  } else if (command === 'down') {
    await stopRealNode(envPaths());
    if (!realNode) await down();
  } else {
    process.stderr.write(usage);
    process.exitCode = 2;
  }
}

main(process.argv[2], process.argv.slice(3)).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
