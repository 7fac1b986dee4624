// `npm run env:up | env:down`: start or stop the local test environment by hand.
import { down, up } from './env.js';

const usage = 'usage: tsx test/env/src/cli.ts up|down\n  up    start Kafka, the Kubernetes API server, S3, Redis and PostgreSQL (reusing running ones)\n  down  stop them all\n';

async function main(command: string | undefined): Promise<void> {
  if (command === 'up') {
    const endpoints = await up();
    process.stdout.write(`${JSON.stringify(endpoints, null, 2)}\n`);
  } else if (command === 'down') {
    await down();
  } else {
    process.stderr.write(usage);
    process.exitCode = 2;
  }
}

main(process.argv[2]).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
