// What a container's process is started with, resolved like a kubelet: env (values, fieldRef, secretKeyRef, configMapKeyRef, envFrom), volumes and paths.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ApiException, type CoreV1Api, type V1ConfigMap, type V1Container, type V1KeyToPath, type V1Pod, type V1Secret } from '@kubernetes/client-node';

/** The container cannot start with the Pod's configuration as it is now; reported as the kubelet does, and retried. */
export class ContainerConfigError extends Error {
  readonly reason = 'CreateContainerConfigError';
}

/** What every process gets from the machine: enough to find programs and a home; the rest comes from the Pod. */
const inheritedEnv = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ'];

export interface Mount {
  mountPath: string;
  localPath: string;
}

async function read<T>(what: string, optional: boolean | undefined, get: () => Promise<T>): Promise<T | undefined> {
  try {
    return await get();
  } catch (error) {
    if (error instanceof ApiException && error.code === 404) {
      if (optional === true) return undefined;
      throw new ContainerConfigError(`${what} not found: create it, or mark the reference optional`);
    }
    throw error;
  }
}

function configMapData(configMap: V1ConfigMap | undefined): Record<string, Buffer> {
  const data: Record<string, Buffer> = {};
  for (const [key, value] of Object.entries(configMap?.data ?? {})) data[key] = Buffer.from(value, 'utf8');
  for (const [key, value] of Object.entries(configMap?.binaryData ?? {})) data[key] = Buffer.from(value, 'base64');
  return data;
}

function secretData(secret: V1Secret | undefined): Record<string, Buffer> {
  const data: Record<string, Buffer> = {};
  for (const [key, value] of Object.entries(secret?.data ?? {})) data[key] = Buffer.from(value, 'base64');
  for (const [key, value] of Object.entries(secret?.stringData ?? {})) data[key] = Buffer.from(value, 'utf8');
  return data;
}

function writeFiles(dir: string, what: string, data: Record<string, Buffer>, items: V1KeyToPath[] | undefined): void {
  mkdirSync(dir, { recursive: true });
  const files = items ?? Object.keys(data).map((key) => ({ key, path: key }));
  for (const item of files) {
    const content = data[item.key];
    if (content === undefined) throw new ContainerConfigError(`${what} has no key ${item.key}`);
    const file = join(dir, item.path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
}

/**
 * Writes the Pod's configMap, secret and emptyDir volumes under `volumesDir/<name>/` and returns each volume's folder.
 * configMap and secret files are rewritten at every container start, so a restarted process sees the current data.
 */
export async function materializeVolumes(core: CoreV1Api, pod: V1Pod, volumesDir: string): Promise<Map<string, string>> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const folders = new Map<string, string>();
  for (const volume of pod.spec?.volumes ?? []) {
    const dir = join(volumesDir, volume.name);
    if (volume.configMap !== undefined) {
      const { name = '', optional, items } = volume.configMap;
      const configMap = await read(`ConfigMap ${namespace}/${name}`, optional, () => core.readNamespacedConfigMap({ namespace, name }));
      writeFiles(dir, `ConfigMap ${namespace}/${name}`, configMapData(configMap), configMap === undefined ? [] : items);
    } else if (volume.secret !== undefined) {
      const { secretName: name = '', optional, items } = volume.secret;
      const secret = await read(`Secret ${namespace}/${name}`, optional, () => core.readNamespacedSecret({ namespace, name }));
      writeFiles(dir, `Secret ${namespace}/${name}`, secretData(secret), secret === undefined ? [] : items);
    } else if (volume.emptyDir !== undefined) {
      mkdirSync(dir, { recursive: true });
    } else {
      throw new ContainerConfigError(`volume ${volume.name}: the process kubelet materializes only configMap, secret and emptyDir volumes`);
    }
    folders.set(volume.name, dir);
  }
  return folders;
}

/** The container's mounts as local folders, longest mountPath first so the most specific mount rewrites a path. */
export function mountsOf(container: V1Container, volumes: Map<string, string>): Mount[] {
  return (container.volumeMounts ?? [])
    .map((mount) => {
      const folder = volumes.get(mount.name);
      if (folder === undefined) throw new ContainerConfigError(`container ${container.name} mounts volume ${mount.name}, which the Pod does not declare`);
      return { mountPath: mount.mountPath.replace(/\/+$/, ''), localPath: mount.subPath ? join(folder, mount.subPath) : folder };
    })
    .sort((a, b) => b.mountPath.length - a.mountPath.length);
}

/** A path inside a mount becomes the same path inside the materialized folder; anything else is returned as it is. */
export function rewritePath(value: string, mounts: Mount[]): string {
  for (const { mountPath, localPath } of mounts) {
    if (value === mountPath || value.startsWith(`${mountPath}/`)) return localPath + value.slice(mountPath.length);
  }
  return value;
}

/** As rewritePath, and for `--flag=/path` arguments the part after `=`. */
export function rewriteArg(arg: string, mounts: Mount[]): string {
  const flag = /^(--?[^=]+=)(.*)$/s.exec(arg);
  return flag === null ? rewritePath(arg, mounts) : `${flag[1]}${rewritePath(flag[2] ?? '', mounts)}`;
}

/** Kubernetes' `$(VAR)` references: replaced when VAR is defined, kept literally when not; `$$` is a literal `$`. */
export function expand(value: string, vars: Record<string, string>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (match, name: string | undefined) => {
    if (name === undefined) return '$';
    return vars[name] ?? match;
  });
}

/** Where a Pod runs: what the downward API answers about its node and its address. */
export interface PodPlacement {
  nodeName: string;
  /** The Pod's own loopback address; the node's (hostIP) is 127.0.0.1. */
  podIP: string;
}

/** The value of a downward-API field path. */
export function fieldValue(pod: V1Pod, fieldPath: string, placement: PodPlacement): string {
  const metadata = pod.metadata ?? {};
  const keyed = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (keyed !== null) return (keyed[1] === 'labels' ? metadata.labels : metadata.annotations)?.[keyed[2] ?? ''] ?? '';
  switch (fieldPath) {
    case 'metadata.name':
      return metadata.name ?? '';
    case 'metadata.namespace':
      return metadata.namespace ?? '';
    case 'metadata.uid':
      return metadata.uid ?? '';
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? placement.nodeName;
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? 'default';
    case 'status.podIP':
    case 'status.podIPs':
      return placement.podIP;
    case 'status.hostIP':
    case 'status.hostIPs':
      return '127.0.0.1';
    default:
      throw new ContainerConfigError(`fieldRef ${fieldPath} is not supported by the process kubelet`);
  }
}

/** The container's environment as its process sees it: the machine's basics, the image's env, envFrom, env; `$(VAR)` expanded. */
export async function resolveEnv(
  core: CoreV1Api,
  pod: V1Pod,
  container: V1Container,
  placement: PodPlacement,
  imageEnv: Record<string, string> = {},
): Promise<Record<string, string>> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const env: Record<string, string> = {};
  for (const name of inheritedEnv) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  // A container's hostname is its Pod's; the process cannot change uname, but it can read HOSTNAME.
  env.HOSTNAME = pod.spec?.hostname ?? pod.metadata?.name ?? '';
  Object.assign(env, imageEnv);
  for (const source of container.envFrom ?? []) {
    const prefix = source.prefix ?? '';
    let data: Record<string, Buffer> = {};
    if (source.configMapRef !== undefined) {
      const { name = '', optional } = source.configMapRef;
      data = configMapData(await read(`ConfigMap ${namespace}/${name}`, optional, () => core.readNamespacedConfigMap({ namespace, name })));
    } else if (source.secretRef !== undefined) {
      const { name = '', optional } = source.secretRef;
      data = secretData(await read(`Secret ${namespace}/${name}`, optional, () => core.readNamespacedSecret({ namespace, name })));
    }
    for (const [key, value] of Object.entries(data)) env[prefix + key] = value.toString('utf8');
  }
  for (const variable of container.env ?? []) {
    const from = variable.valueFrom;
    if (from === undefined) {
      env[variable.name] = expand(variable.value ?? '', env);
    } else if (from.fieldRef !== undefined) {
      env[variable.name] = fieldValue(pod, from.fieldRef.fieldPath, placement);
    } else if (from.configMapKeyRef !== undefined) {
      const { name = '', key, optional } = from.configMapKeyRef;
      const what = `ConfigMap ${namespace}/${name}`;
      const value = configMapData(await read(what, optional, () => core.readNamespacedConfigMap({ namespace, name })))[key];
      if (value !== undefined) env[variable.name] = value.toString('utf8');
      else if (optional !== true) throw new ContainerConfigError(`${what} has no key ${key} (env ${variable.name} of container ${container.name})`);
    } else if (from.secretKeyRef !== undefined) {
      const { name = '', key, optional } = from.secretKeyRef;
      const what = `Secret ${namespace}/${name}`;
      const value = secretData(await read(what, optional, () => core.readNamespacedSecret({ namespace, name })))[key];
      if (value !== undefined) env[variable.name] = value.toString('utf8');
      else if (optional !== true) throw new ContainerConfigError(`${what} has no key ${key} (env ${variable.name} of container ${container.name})`);
    } else {
      throw new ContainerConfigError(
        `env ${variable.name} of container ${container.name}: only fieldRef, configMapKeyRef and secretKeyRef are supported by the process kubelet`,
      );
    }
  }
  return env;
}
