// The process kubelet as a program: `tsx test/env/src/process-kubelet/main.ts [--namespace ns]… [--image repo=command…]`.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readEndpoints } from '../endpoints.js';
import { envPaths } from '../proc.js';
import { runtimeImages, type ImageTable } from './images.js';
import { startProcessKubelet } from './kubelet.js';

const usage = `usage: tsx test/env/src/process-kubelet/main.ts [options]
  --kubeconfig PATH     default: the running test environment's (npm run env:up)
  --namespace NS        handle Pods only in NS (repeatable; default: all namespaces)
  --selector LABELS     handle Pods only with these labels (a label selector)
  --image REPO=COMMAND  run images whose repository ends in REPO as COMMAND (split on spaces; repeatable);
                        sluice-runtime is mapped to runtime-image/src/main.ts unless given
  --work-dir DIR        default: <run>/process-kubelet
  --node NAME           default: process-kubelet`;

const { values } = parseArgs({
  options: {
    kubeconfig: { type: 'string' },
    namespace: { type: 'string', multiple: true },
    selector: { type: 'string' },
    image: { type: 'string', multiple: true },
    'work-dir': { type: 'string' },
    node: { type: 'string' },
    help: { type: 'boolean' },
  },
});
if (values.help === true) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}

const images: ImageTable = runtimeImages();
for (const entry of values.image ?? []) {
  const split = entry.indexOf('=');
  if (split <= 0) throw new Error(`--image ${entry}: write it as REPO=COMMAND, e.g. --image my-app=node /path/to/app.js`);
  images[entry.slice(0, split)] = entry
    .slice(split + 1)
    .split(' ')
    .filter((part) => part !== '');
}

const kubelet = await startProcessKubelet({
  kubeconfig: values.kubeconfig ?? readEndpoints().kube.kubeconfig,
  images,
  ...(values.namespace === undefined ? {} : { namespace: values.namespace }),
  ...(values.selector === undefined ? {} : { labelSelector: values.selector }),
  workDir: values['work-dir'] ?? join(envPaths().run, 'process-kubelet'),
  ...(values.node === undefined ? {} : { nodeName: values.node }),
});
process.stderr.write(
  `[process-kubelet] node ${kubelet.nodeName} running Pods${values.namespace ? ` in ${values.namespace.join(', ')}` : ''}; Ctrl-C stops it and its processes\n`,
);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void kubelet.stop().then(() => process.exit(0)));
}
