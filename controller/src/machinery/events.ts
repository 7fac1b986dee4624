// Kubernetes Events (core/v1) for the controller's decisions; best effort, as client-go's recorder: a lost event never fails a reconcile.
import { randomBytes } from 'node:crypto';
import { CoreV1Api, type CoreV1Event, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import type { CustomResource } from './custom-resources.js';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  record(object: CustomResource, type: EventType, reason: string, message: string): void;
}

export class KubeEventRecorder implements EventRecorder {
  private readonly api: CoreV1Api;

  constructor(
    kubeconfig: KubeConfig,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly component = 'sluice-controller',
  ) {
    this.api = kubeconfig.makeApiClient(CoreV1Api);
  }

  record(object: CustomResource, type: EventType, reason: string, message: string): void {
    const { namespace, name, uid, resourceVersion } = object.metadata;
    if (namespace === undefined || name === undefined) return;
    const now = this.clock.now();
    const body: CoreV1Event = {
      metadata: { name: `${name}.${randomBytes(8).toString('hex')}`, namespace },
      involvedObject: { apiVersion: object.apiVersion, kind: object.kind, namespace, name, uid, resourceVersion },
      type,
      reason,
      message,
      source: { component: this.component },
      reportingComponent: this.component,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    this.api.createNamespacedEvent({ namespace, body }).catch((error: unknown) => {
      this.log.warn({ err: error, namespace, name, reason }, 'could not record an event');
    });
  }
}
