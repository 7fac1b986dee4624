// Forwards TCP from the pod bridge address to the test servers on loopback, so pods reach them: node real-node-forward.mjs HOST PORT...
import { createConnection, createServer } from 'node:net';

const [host, ...ports] = process.argv.slice(2);
if (host === undefined || ports.length === 0) {
  process.stderr.write('usage: node real-node-forward.mjs BRIDGE_ADDRESS PORT...\n');
  process.exit(2);
}

for (const port of ports.map(Number)) {
  const server = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port });
    // Either side closing or failing ends both: a half-open pair would hold the pod's connection forever.
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.once('error', end).once('close', end);
    upstream.once('error', end).once('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  server.once('error', (error) => {
    process.stderr.write(`cannot listen on ${host}:${port}: ${error.message}\n`);
    process.exit(1);
  });
  server.listen(port, host, () => process.stderr.write(`forwarding ${host}:${port} to 127.0.0.1:${port}\n`));
}
