// The kubeconfig as kubectl reads it: the files (--kubeconfig, else every file in KUBECONFIG, else ~/.kube/config)
// merged with the first definition of each name winning, the current context (or --context), and the cluster and user
// it names, with file paths made absolute against the file that wrote them. Inside a pod, its service account.
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { parse } from 'yaml';
import { CommandError } from './io.js';

export interface KubeCluster {
  server: string;
  'certificate-authority'?: string;
  'certificate-authority-data'?: string;
  'insecure-skip-tls-verify'?: boolean;
  'tls-server-name'?: string;
  'proxy-url'?: string;
}

/** A client-go credential plugin (`users[].user.exec`): a command that prints an ExecCredential. */
export interface ExecConfig {
  apiVersion?: string;
  command: string;
  args?: string[];
  env?: { name: string; value: string }[] | null;
  interactiveMode?: 'Never' | 'IfAvailable' | 'Always';
  provideClusterInfo?: boolean;
}

export interface KubeUser {
  token?: string;
  tokenFile?: string;
  'client-certificate'?: string;
  'client-certificate-data'?: string;
  'client-key'?: string;
  'client-key-data'?: string;
  username?: string;
  password?: string;
  exec?: ExecConfig;
  'auth-provider'?: { name: string };
}

export interface KubeContext {
  cluster: string;
  user: string;
  namespace?: string;
}

interface KubeconfigFile {
  clusters?: { name: string; cluster: KubeCluster }[] | null;
  users?: { name: string; user: KubeUser | null }[] | null;
  contexts?: { name: string; context: KubeContext }[] | null;
  'current-context'?: string;
}

/** What a command connects with: the context's cluster, user and namespace. */
export interface Connection {
  /** The context's name, for messages; `in-cluster` inside a pod. */
  context: string;
  cluster: KubeCluster;
  user: KubeUser;
  namespace?: string;
}

/** The kubeconfig's contexts, clusters and users, merged from its files. */
export class Kubeconfig {
  readonly clusters = new Map<string, KubeCluster>();
  readonly users = new Map<string, KubeUser>();
  readonly contexts = new Map<string, KubeContext>();
  currentContext?: string;

  /** Adds one file's entries; as kubectl merges, a name already defined keeps its first definition. */
  add(file: string): void {
    let config: KubeconfigFile;
    try {
      config = (parse(readFileSync(file, 'utf8')) ?? {}) as KubeconfigFile;
    } catch (error) {
      throw new CommandError(
        `cannot read the kubeconfig ${file}: ${error instanceof Error ? error.message : String(error)}; kubectl config view shows what is wrong`,
      );
    }
    const base = dirname(file);
    for (const { name, cluster } of config.clusters ?? [])
      if (!this.clusters.has(name)) this.clusters.set(name, absoluteFiles(cluster, base, ['certificate-authority']));
    for (const { name, user } of config.users ?? []) {
      if (!this.users.has(name)) this.users.set(name, absoluteFiles(user ?? {}, base, ['client-certificate', 'client-key', 'tokenFile']));
      const exec = this.users.get(name)?.exec;
      // client-go runs a command given as a relative path with a slash from the kubeconfig's folder.
      if (exec !== undefined && exec.command.includes('/') && !isAbsolute(exec.command)) exec.command = join(base, exec.command);
    }
    for (const { name, context } of config.contexts ?? []) if (!this.contexts.has(name)) this.contexts.set(name, context);
    if (this.currentContext === undefined && config['current-context']) this.currentContext = config['current-context'];
  }

  /** The connection of the context --context names, else of the current one. */
  connection(flag: string | undefined): Connection {
    const name = flag ?? this.currentContext;
    if (name === undefined || name === '') {
      throw new CommandError('the kubeconfig sets no current context: pass --context NAME, or pick one with kubectl config use-context');
    }
    const context = this.contexts.get(name);
    if (context === undefined) {
      const known = [...this.contexts.keys()];
      const named = flag === undefined ? `the kubeconfig's current context ${JSON.stringify(name)}` : `--context ${name}`;
      throw new CommandError(
        `${named} is not in the kubeconfig (it has ${known.length === 0 ? 'no contexts' : known.join(', ')}); kubectl config get-contexts lists them`,
      );
    }
    const cluster = this.clusters.get(context.cluster);
    if (cluster?.server === undefined) {
      throw new CommandError(`the kubeconfig's context ${JSON.stringify(name)} names no cluster; pick another with kubectl config use-context`);
    }
    return { context: name, cluster, user: this.users.get(context.user) ?? {}, ...(context.namespace ? { namespace: context.namespace } : {}) };
  }
}

function absoluteFiles<T extends object>(entry: T, base: string, keys: (keyof T & string)[]): T {
  const copy = { ...entry } as Record<string, unknown>;
  for (const key of keys) {
    const path = copy[key];
    if (typeof path === 'string' && path !== '' && !isAbsolute(path)) copy[key] = join(base, path);
  }
  return copy as T;
}

/** The files kubectl would read: --kubeconfig, else every file in KUBECONFIG that exists, else ~/.kube/config. */
export function kubeconfigFiles(file: string | undefined, env: NodeJS.ProcessEnv, home: string): string[] {
  if (file !== undefined) {
    if (!existsSync(file)) throw new CommandError(`--kubeconfig ${file} does not exist; pass the path of a kubeconfig file`);
    return [file];
  }
  const listed = (env.KUBECONFIG ?? '').split(delimiter).filter((entry) => entry !== '');
  if (listed.length > 0) return listed.filter((entry) => existsSync(entry));
  const config = join(home, '.kube', 'config');
  return existsSync(config) ? [config] : [];
}

const serviceAccount = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Inside a pod, as kubectl there: the API server from the environment, the service account's token, CA and namespace. */
function inCluster(env: NodeJS.ProcessEnv, dir: string): Connection {
  const host = env.KUBERNETES_SERVICE_HOST!;
  const namespaceFile = join(dir, 'namespace');
  return {
    context: 'in-cluster',
    cluster: {
      server: `https://${host.includes(':') ? `[${host}]` : host}:${env.KUBERNETES_SERVICE_PORT ?? '443'}`,
      'certificate-authority': join(dir, 'ca.crt'),
    },
    user: { tokenFile: join(dir, 'token') },
    ...(existsSync(namespaceFile) ? { namespace: readFileSync(namespaceFile, 'utf8').trim() } : {}),
  };
}

/** The connection the flags name. `env` and `home` are parameters so tests need not change the process's. */
export function loadConnection(
  args: { kubeconfig?: string; context?: string },
  env: NodeJS.ProcessEnv,
  home: string,
  serviceAccountDir: string = serviceAccount,
): Connection {
  const files = kubeconfigFiles(args.kubeconfig, env, home);
  if (files.length === 0) {
    if (env.KUBERNETES_SERVICE_HOST !== undefined && args.context === undefined) return inCluster(env, serviceAccountDir);
    throw new CommandError(
      'no kubeconfig found: pass --kubeconfig FILE, set KUBECONFIG, or create ~/.kube/config (kubectl config view shows what kubectl uses)',
    );
  }
  const kubeconfig = new Kubeconfig();
  for (const file of files) kubeconfig.add(file);
  return kubeconfig.connection(args.context);
}
