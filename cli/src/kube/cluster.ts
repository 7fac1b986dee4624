// Reaching the cluster as kubectl does: the kubeconfig (--kubeconfig, else KUBECONFIG, else ~/.kube/config), its current
// context (or --context) and that context's namespace unless -n names one, and API errors turned into sentences that say
// what to do.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { ApiException, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { group, version } from '@sluice/crds';
import { messageOf } from '@sluice/crds/errors';
import { CommandError } from './io.js';
import type { ClusterArgs } from './options.js';

export interface Cluster {
  kubeconfig: KubeConfig;
  /** The namespace the command works in: -n, else the context's, else `default`. */
  namespace: string;
  /** The API server's URL, for messages. */
  server: string;
  objects: CustomObjectsApi;
}

/** The files kubectl would read: --kubeconfig, else every file in KUBECONFIG (the first one's context wins), else ~/.kube/config. */
function kubeconfigFiles(file: string | undefined, env: NodeJS.ProcessEnv, home: string): string[] {
  if (file !== undefined) {
    if (!existsSync(file)) throw new CommandError(`--kubeconfig ${file} does not exist; pass the path of a kubeconfig file`);
    return [file];
  }
  const listed = (env.KUBECONFIG ?? '').split(delimiter).filter((entry) => entry !== '');
  if (listed.length > 0) return listed.filter((entry) => existsSync(entry));
  const config = join(home, '.kube', 'config');
  return existsSync(config) ? [config] : [];
}

function loadKubeconfig(file: string | undefined, env: NodeJS.ProcessEnv, home: string): KubeConfig {
  const kubeconfig = new KubeConfig();
  const [first, ...rest] = kubeconfigFiles(file, env, home);
  if (first !== undefined) {
    kubeconfig.loadFromFile(first);
    for (const more of rest) {
      const other = new KubeConfig();
      other.loadFromFile(more);
      kubeconfig.mergeConfig(other, true);
    }
  } else if (env.KUBERNETES_SERVICE_HOST !== undefined) {
    // In a pod: its service account, as kubectl does there.
    kubeconfig.loadFromCluster();
  } else {
    // client-node would fall back to http://localhost:8080 silently; kubectl users expect to be told instead.
    throw new CommandError(
      'no kubeconfig found: pass --kubeconfig FILE, set KUBECONFIG, or create ~/.kube/config (kubectl config view shows what kubectl uses)',
    );
  }
  return kubeconfig;
}

function useContext(kubeconfig: KubeConfig, name: string): void {
  if (kubeconfig.getContextObject(name) === null) {
    const known = kubeconfig.getContexts().map((context) => context.name);
    throw new CommandError(
      `--context ${name} is not in the kubeconfig (it has ${known.length === 0 ? 'no contexts' : known.join(', ')}); kubectl config get-contexts lists them`,
    );
  }
  kubeconfig.setCurrentContext(name);
}

/** The kubeconfig and namespace the flags name. `env` and `home` are parameters so tests need not change the process's. */
export function connect(args: ClusterArgs, env: NodeJS.ProcessEnv = process.env, home: string = homedir()): Cluster {
  const kubeconfig = loadKubeconfig(args.kubeconfig, env, home);
  if (args.context !== undefined) useContext(kubeconfig, args.context);
  const context = kubeconfig.getContextObject(kubeconfig.getCurrentContext());
  const server = kubeconfig.getCurrentCluster()?.server;
  if (server === undefined) {
    throw new CommandError(
      `the kubeconfig's current context ${JSON.stringify(kubeconfig.getCurrentContext())} names no cluster; pick one with kubectl config use-context`,
    );
  }
  const namespace = args.namespace ?? context?.namespace ?? 'default';
  return { kubeconfig, namespace, server, objects: kubeconfig.makeApiClient(CustomObjectsApi) };
}

/** The Kubernetes Status object an ApiException carries, parsed. */
export interface ApiStatus {
  code: number;
  message: string;
  reason?: string;
  details?: { kind?: string; name?: string; causes?: { field?: string; message?: string; reason?: string }[] };
}

export function apiStatus(error: unknown): ApiStatus | undefined {
  if (!(error instanceof ApiException)) return undefined;
  let body: unknown = error.body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      body = { message: body };
    }
  }
  const status = (body ?? {}) as Partial<ApiStatus>;
  return { ...status, code: error.code, message: status.message ?? `HTTP ${error.code}` };
}

/**
 * An error from the API server as a sentence that says what to do. `notFound` words a 404 (the object the command
 * named is missing); other codes get the server's own message with the usual way out.
 */
export function explainApiError(error: unknown, cluster: Cluster, notFound: (status: ApiStatus) => string): Error {
  const status = apiStatus(error);
  if (status === undefined) {
    if (error instanceof CommandError) return error;
    return new CommandError(
      `cannot reach the API server at ${cluster.server}: ${messageOf(error)}; check --kubeconfig and the current context (kubectl config current-context)`,
    );
  }
  if (status.code === 404 && status.details?.name === undefined) {
    // No object named: the API server does not serve the resource at all.
    return new CommandError(
      `the API server at ${cluster.server} does not serve ${group}/${version} (StreamJob, Topic, SchemaSubject): install Sluice's CRDs first (kubectl apply -f crds/manifests/)`,
    );
  }
  if (status.code === 404) return new CommandError(notFound(status));
  if (status.code === 401)
    return new CommandError(
      `the API server at ${cluster.server} did not accept the kubeconfig's credentials: ${status.message}; log in again or pick another context`,
    );
  if (status.code === 403) return new CommandError(`not allowed: ${status.message}; ask for RBAC access to streamjobs in namespace "${cluster.namespace}"`);
  const causes = onePerField(status);
  if (status.code === 422 && causes.length > 0) {
    // Field by field, each once, rather than the API server's message, which prefixes them all with the object's name.
    return new CommandError(`the API server refused: ${causes.map(({ field, message }) => `${field}: ${message}`).join('; ')}`);
  }
  return new CommandError(`the API server refused: ${status.message}`);
}

/**
 * A refusal's causes, the first one of each field: the API server words one mistake several ways (the schema's
 * message, then a CEL rule on the same field), and the user needs it once.
 */
export function onePerField(status: ApiStatus): { field: string; message: string }[] {
  const seen = new Set<string>();
  const causes: { field: string; message: string }[] = [];
  for (const cause of status.details?.causes ?? []) {
    const field = cause.field ?? '';
    if (seen.has(field)) continue;
    seen.add(field);
    causes.push({ field, message: cause.message ?? cause.reason ?? '' });
  }
  return causes;
}
