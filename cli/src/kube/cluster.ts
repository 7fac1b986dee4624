// Reaching the cluster as kubectl does: the kubeconfig (--kubeconfig, else KUBECONFIG, else ~/.kube/config), its current
// context (or --context) and that context's namespace unless -n names one, and API errors turned into sentences that say
// what to do.
import { homedir } from 'node:os';
import { group, version } from '@sluice/crds';
import { messageOf } from '@sluice/crds/errors';
import { KubeApi, KubeApiError } from './api.js';
import { CommandError } from './io.js';
import { loadConnection } from './kubeconfig.js';
import type { ClusterArgs } from './options.js';

export interface Cluster {
  api: KubeApi;
  /** The namespace the command works in: -n, else the context's, else `default`. */
  namespace: string;
  /** The API server's URL, for messages. */
  server: string;
}

/** The kubeconfig and namespace the flags name. `env` and `home` are parameters so tests need not change the process's. */
export function connect(args: ClusterArgs, env: NodeJS.ProcessEnv = process.env, home: string = homedir()): Cluster {
  const connection = loadConnection(args, env, home);
  const api = new KubeApi(connection);
  return { api, namespace: args.namespace ?? connection.namespace ?? 'default', server: api.server };
}

/** The Kubernetes Status object a refusal of the API server carries. */
export interface ApiStatus {
  code: number;
  message: string;
  reason?: string;
  details?: { kind?: string; name?: string; causes?: { field?: string; message?: string; reason?: string }[] };
}

export function apiStatus(error: unknown): ApiStatus | undefined {
  if (!(error instanceof KubeApiError)) return undefined;
  const status = (typeof error.body === 'object' && error.body !== null ? error.body : { message: String(error.body) }) as Partial<ApiStatus>;
  return { ...status, code: error.status, message: status.message ?? `HTTP ${error.status}` };
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
