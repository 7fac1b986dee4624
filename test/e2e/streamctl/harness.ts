// What the streamctl end-to-end tests share: a namespace of their own on the real API server, a StreamJob from the
// fraud-velocity example, status written as the controller would write it, and a command's output captured in memory.
import { readFileSync } from 'node:fs';
import { CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { group, version, type StreamJob, type StreamJobStatus } from '@sluice/crds';
import type { CommandIo } from '../../../cli/src/index.js';
import { parse } from 'yaml';
import { readEndpoints } from '../../env/src/endpoints.js';
import { eventually } from '../../env/src/eventually.js';

export const kubeconfigFile = readEndpoints().kube.kubeconfig;
const kubeconfig = new KubeConfig();
kubeconfig.loadFromFile(kubeconfigFile);
const core = kubeconfig.makeApiClient(CoreV1Api);
const objects = kubeconfig.makeApiClient(CustomObjectsApi);
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const plural = 'streamjobs';

import { randomName } from '../controller/harness.js';

export { prepareNamespace, randomName } from '../controller/harness.js';

export async function removeNamespace(namespace: string | undefined): Promise<void> {
  if (namespace !== undefined) await core.deleteNamespace({ name: namespace });
}

/** examples/fraud-velocity/job.yaml under a new name. */
export async function createJob(namespace: string, prefix = 'fraud'): Promise<StreamJob> {
  const example = parse(readFileSync(new URL('../../../examples/fraud-velocity/job.yaml', import.meta.url), 'utf8')) as StreamJob;
  const body = { ...example, metadata: { name: randomName(prefix), namespace } };
  return (await objects.createNamespacedCustomObject({ group, version, namespace, plural, body })) as StreamJob;
}

export async function readJob(namespace: string, name: string): Promise<StreamJob> {
  return (await objects.getNamespacedCustomObject({ group, version, namespace, plural, name })) as StreamJob;
}

/** A merge patch of the status subresource, as the controller writes it (null removes a field). */
export async function patchStatus(namespace: string, name: string, status: { [K in keyof StreamJobStatus]: StreamJobStatus[K] | null }): Promise<StreamJob> {
  return (await objects.patchNamespacedCustomObjectStatus({ group, version, namespace, plural, name, body: { status } }, mergePatch)) as StreamJob;
}

/** A merge patch of the spec, as a user's kubectl edit would make it. */
export async function patchSpec(namespace: string, name: string, spec: Record<string, unknown>): Promise<StreamJob> {
  return (await objects.patchNamespacedCustomObject({ group, version, namespace, plural, name, body: { spec } }, mergePatch)) as StreamJob;
}

/** Waits until the job's spec satisfies `seen` (the command's patch has landed) and returns the job. */
export function specChanged(namespace: string, name: string, what: string, seen: (job: StreamJob) => boolean): Promise<StreamJob> {
  return eventually(what, async () => {
    const job = await readJob(namespace, name);
    return seen(job) ? job : undefined;
  });
}

export interface Captured {
  io: CommandIo;
  stdout: () => string;
  stderr: () => string;
}

/** stdout and stderr in memory; `tty` makes stderr a terminal, where progress rewrites one line. */
export function capture(tty = false): Captured {
  let stdout = '';
  let stderr = '';
  return {
    io: {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text), isTTY: tty },
    },
    stdout: () => stdout,
    stderr: () => stderr,
  };
}

/** Waits until the captured stderr contains `text`: the command has seen the state the test wrote. */
export function printed(captured: Captured, text: string): Promise<true> {
  return eventually(`streamctl to print ${JSON.stringify(text)} on stderr`, () => Promise.resolve(captured.stderr().includes(text) ? true : undefined));
}

export { eventually };
