// One Pod on the process kubelet: its IP and ports, its containers' processes (restarted per restartPolicy), readiness, status, termination.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  ApiException,
  PatchStrategy,
  setHeaderOptions,
  type CoreV1Api,
  type V1Container,
  type V1ContainerStateTerminated,
  type V1Pod,
} from '@kubernetes/client-node';
import { ContainerConfigError, expand, materializeVolumes, mountsOf, resolveEnv, rewriteArg, rewritePath } from './container-config.js';
import { launch, signalGroup, type Exit, type LaunchSpec, type RunningProcess } from './container-process.js';
import { commandFor, type ImageTable } from './images.js';
import { leasePodIP, type PodIP } from './pod-ips.js';
import { containerPort, declaredPorts, portsAnnotation, tcpPorts, withPodAddress } from './ports.js';
import { probeOnce } from './probe.js';
import { Conditions, podPhase, podStatus, type ContainerView } from './pod-status.js';
import { terminationMessage } from './termination-message.js';

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export interface PodWorkerOptions {
  core: CoreV1Api;
  images: ImageTable;
  nodeName: string;
  workDir: string;
  /** The longest a deleted Pod's processes get between SIGTERM and SIGKILL, whatever the Pod asks for. */
  maxGracePeriodMs: number;
  /** Restart backoff: doubles from `initialMs` after each crash up to `maxMs`; a run longer than `resetAfterMs` starts it over. */
  backoff: { initialMs: number; maxMs: number; resetAfterMs: number };
  log(line: string): void;
}

interface Container extends ContainerView {
  spec: V1Container;
  process: RunningProcess | undefined;
  /** Crashes since the last long run, for the backoff. */
  crashes: number;
  probeSuccesses: number;
  probeFailures: number;
  probeNotBefore: number;
}

const probeIntervalMs = 1000;
const configRetryMs = 2000;

function isGone(error: unknown): boolean {
  return error instanceof ApiException && error.code === 404;
}

export class PodWorker {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  private pod: V1Pod;
  private readonly containers: Container[];
  private readonly conditions = new Conditions();
  private readonly startTime = new Date();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** The Pod's own address, from start() until the Pod ends. */
  private podIP: PodIP | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private finishing = false;
  private terminating: Promise<void> | undefined;
  private reporting: Promise<void> | undefined;
  private reportAgain = false;
  private lastReported = '';

  constructor(
    pod: V1Pod,
    private readonly options: PodWorkerOptions,
  ) {
    this.pod = pod;
    this.namespace = pod.metadata?.namespace ?? 'default';
    this.name = pod.metadata?.name ?? '';
    this.uid = pod.metadata?.uid ?? '';
    this.containers = (pod.spec?.containers ?? []).map((spec) => ({
      spec,
      name: spec.name,
      image: spec.image ?? '',
      state: { waiting: { reason: 'ContainerCreating' } },
      lastTerminated: undefined,
      restartCount: 0,
      ready: false,
      everStarted: false,
      pid: undefined,
      process: undefined,
      crashes: 0,
      probeSuccesses: 0,
      probeFailures: 0,
      probeNotBefore: 0,
    }));
  }

  private get podDir(): string {
    return join(this.options.workDir, this.namespace, this.name);
  }

  /** The container's output, every run appended (a run's start is its process's logStart). */
  private logOf(container: Container): string {
    return join(this.podDir, `${container.name}.log`);
  }

  /** Leases the Pod's IP, annotates the Pod with its ports, and starts every container. */
  async start(): Promise<void> {
    // A Pod of the same name ran here before (a StatefulSet's earlier pod): its emptyDirs die with it, as on a node.
    rmSync(join(this.podDir, 'volumes'), { recursive: true, force: true });
    const podIP = await leasePodIP(tcpPorts(this.pod));
    if (this.finishing) {
      podIP.release();
      return;
    }
    this.podIP = podIP;
    await this.options.core.patchNamespacedPod(
      { namespace: this.namespace, name: this.name, body: { metadata: { annotations: { [portsAnnotation]: JSON.stringify(declaredPorts(this.pod)) } } } },
      mergePatch,
    );
    this.report();
    for (const container of this.containers) await this.startContainer(container);
    // Stopped or deleted while starting: no timer may outlive the processes.
    if (!this.finishing) this.probeTimer = setInterval(() => void this.probeAll(), probeIntervalMs);
  }

  /** The Pod as the API server has it now; a deletionTimestamp starts the graceful termination. */
  update(pod: V1Pod): void {
    this.pod = pod;
    if (pod.metadata?.deletionTimestamp !== undefined) void this.terminate();
  }

  /** Sends a signal to every container's process group of this Pod (a crash test's SIGKILL). */
  kill(signal: NodeJS.Signals): void {
    for (const container of this.containers) if (container.process !== undefined) signalGroup(container.process.pid, signal);
  }

  /** Deletion: SIGTERM, the grace period (capped), SIGKILL, then the Pod is removed from the API server so its owner moves on. */
  terminate(): Promise<void> {
    this.terminating ??= (async () => {
      const requested = this.pod.metadata?.deletionGracePeriodSeconds ?? this.pod.spec?.terminationGracePeriodSeconds ?? 30;
      await this.stopProcesses(Math.min(requested * 1000, this.options.maxGracePeriodMs));
      try {
        await this.options.core.deleteNamespacedPod({
          namespace: this.namespace,
          name: this.name,
          gracePeriodSeconds: 0,
          // Only this Pod: a StatefulSet recreates one with the same name, which must survive.
          body: { gracePeriodSeconds: 0, preconditions: { uid: this.uid } },
        });
      } catch (error) {
        if (!isGone(error) && !(error instanceof ApiException && error.code === 409))
          this.options.log(`deleting pod ${this.namespace}/${this.name} failed: ${String(error)}`);
      }
    })();
    return this.terminating;
  }

  /** The kubelet is stopping, or the Pod vanished: end the processes quickly and touch the API no more. */
  async stop(graceMs: number): Promise<void> {
    await this.stopProcesses(graceMs);
    // A status write already sent is waited for, so nothing of this Pod's is in flight once stop resolves.
    await this.reporting;
    await this.terminating;
  }

  private async stopProcesses(graceMs: number): Promise<void> {
    this.finishing = true;
    clearInterval(this.probeTimer);
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const running = this.containers.flatMap((container) => (container.process === undefined ? [] : [container.process]));
    for (const process of running) signalGroup(process.pid, 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([Promise.all(running.map((process) => process.exited)), graceOver]);
    clearTimeout(timer);
    for (const process of running) signalGroup(process.pid, 'SIGKILL');
    await Promise.all(running.map((process) => process.exited));
    this.podIP?.release();
  }

  private after(ms: number, action: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      action();
    }, ms);
    this.timers.add(timer);
  }

  private waiting(container: Container, reason: string, message: string): void {
    const previous = container.state.waiting;
    container.state = { waiting: { reason, message } };
    // A retry that fails the same way says nothing new.
    if (previous?.reason !== reason || previous.message !== message)
      this.options.log(`${this.namespace}/${this.name} ${container.name}: ${reason}: ${message}`);
    this.report();
  }

  private async startContainer(container: Container): Promise<void> {
    if (this.finishing || this.podIP === undefined) return;
    const podIP = this.podIP.ip;
    const image = commandFor(this.options.images, container.image);
    if (image === undefined) {
      this.waiting(container, 'ErrImagePull', `the process kubelet has no local command for image ${container.image}: add its repository to the images table`);
      return;
    }
    let spec: LaunchSpec;
    try {
      const volumes = await materializeVolumes(this.options.core, this.pod, join(this.podDir, 'volumes'));
      const mounts = mountsOf(container.spec, volumes);
      const env = withPodAddress(
        await resolveEnv(this.options.core, this.pod, container.spec, { nodeName: this.options.nodeName, podIP }, image.env),
        container.spec,
        podIP,
      );
      for (const [name, value] of Object.entries(env)) env[name] = rewritePath(value, mounts);
      const args = (container.spec.args ?? []).map((arg) => rewriteArg(expand(arg, env), mounts));
      const workingDir = container.spec.workingDir === undefined ? undefined : rewritePath(container.spec.workingDir, mounts);
      const cwd = image.cwd ?? (workingDir !== undefined && workingDir !== container.spec.workingDir ? workingDir : this.podDir);
      const [command = '', ...imageArgs] = image.command;
      spec = { command, args: [...imageArgs, ...args], env, cwd, log: this.logOf(container) };
    } catch (error) {
      if (this.finishing || isGone(error)) return;
      const reason = error instanceof ContainerConfigError ? error.reason : 'CreateContainerError';
      this.waiting(container, reason, (error as Error).message);
      this.after(configRetryMs, () => void this.startContainer(container));
      return;
    }
    if (this.finishing) return;
    const process = launch(spec);
    container.process = process;
    container.pid = process.pid;
    container.everStarted = true;
    container.state = { running: { startedAt: process.startedAt } };
    container.ready = false;
    container.probeSuccesses = 0;
    container.probeFailures = 0;
    container.probeNotBefore = Date.now() + (container.spec.readinessProbe?.initialDelaySeconds ?? 0) * 1000;
    // Without a readiness probe a started container is ready, as with a kubelet.
    if (container.spec.readinessProbe === undefined) container.ready = true;
    this.report();
    void process.exited.then((exit) => this.exited(container, process, exit));
  }

  private exited(container: Container, process: RunningProcess, exit: Exit): void {
    // Whatever the process left behind in its group goes with it, as when a container's first process ends.
    signalGroup(process.pid, 'SIGKILL');
    container.process = undefined;
    container.ready = false;
    const message = terminationMessage(container.spec, exit.exitCode, this.logOf(container), process.logStart);
    const terminated: V1ContainerStateTerminated = {
      exitCode: exit.exitCode,
      ...(message === undefined ? {} : { message }),
      ...(exit.signal === undefined ? {} : { signal: exit.exitCode - 128 }),
      reason: exit.exitCode === 0 ? 'Completed' : 'Error',
      startedAt: process.startedAt,
      finishedAt: exit.finishedAt,
      containerID: `process://${process.pid}`,
    };
    this.options.log(`${this.namespace}/${this.name} ${container.name}: exited with ${exit.exitCode}${exit.signal ? ` (${exit.signal})` : ''}`);
    const policy = this.pod.spec?.restartPolicy ?? 'Always';
    const restart = !this.finishing && (policy === 'Always' || (policy === 'OnFailure' && exit.exitCode !== 0));
    if (!restart) {
      container.state = { terminated };
      // A Pod whose containers have all ended for good runs nothing more on its address: another Pod may have it.
      const phase = podPhase(this.containers);
      if (phase === 'Succeeded' || phase === 'Failed') this.podIP?.release();
      this.report();
      return;
    }
    const { initialMs, maxMs, resetAfterMs } = this.options.backoff;
    if (exit.finishedAt.getTime() - process.startedAt.getTime() > resetAfterMs) container.crashes = 0;
    const delayMs = Math.min(initialMs * 2 ** container.crashes, maxMs);
    container.crashes += 1;
    container.lastTerminated = terminated;
    container.state = {
      waiting: { reason: 'CrashLoopBackOff', message: `back-off ${delayMs}ms restarting failed container=${container.name} pod=${this.name}` },
    };
    this.report();
    this.after(delayMs, () => {
      container.restartCount += 1;
      void this.startContainer(container);
    });
  }

  private async probeAll(): Promise<void> {
    await Promise.all(this.containers.map((container) => this.probe(container)));
  }

  private async probe(container: Container): Promise<void> {
    const probe = container.spec.readinessProbe;
    if (probe === undefined || container.process === undefined || this.podIP === undefined || Date.now() < container.probeNotBefore) return;
    const ok = await probeOnce(probe, this.podIP.ip, (port) => containerPort(this.pod, port));
    if (container.process === undefined || this.finishing) return;
    container.probeSuccesses = ok ? container.probeSuccesses + 1 : 0;
    container.probeFailures = ok ? 0 : container.probeFailures + 1;
    const before = container.ready;
    if (ok && container.probeSuccesses >= (probe.successThreshold ?? 1)) container.ready = true;
    if (!ok && container.probeFailures >= (probe.failureThreshold ?? 3)) container.ready = false;
    if (container.ready !== before) this.report();
  }

  /** Writes the status unless it is what was written last; one write at a time, the newest state last. */
  private report(): void {
    if (this.reporting !== undefined) {
      this.reportAgain = true;
      return;
    }
    this.reporting = (async () => {
      do {
        this.reportAgain = false;
        // Once the processes are being ended the Pod is going away: its status no longer matters to anyone.
        if (this.finishing) break;
        const status = podStatus(this.containers, this.conditions, this.startTime, this.podIP?.ip);
        const json = JSON.stringify(status);
        if (json === this.lastReported) continue;
        try {
          await this.options.core.patchNamespacedPodStatus({ namespace: this.namespace, name: this.name, body: { status } }, mergePatch);
          this.lastReported = json;
        } catch (error) {
          if (isGone(error)) break;
          this.options.log(`status of pod ${this.namespace}/${this.name} not written, trying again: ${String(error)}`);
          this.after(configRetryMs, () => this.report());
          break;
        }
      } while (this.reportAgain);
      this.reporting = undefined;
    })();
  }
}
