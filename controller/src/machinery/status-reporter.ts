// What every reconciler says back on its object: status fields and conditions (written only when they change), Events, refusals (terminal), and failures that are retried.
import type { Condition } from '@sluice/crds';
import type { Logger } from 'pino';
import { messageOf } from '@sluice/crds/errors';
import type { Clock } from './clock.js';
import { removeCondition, setCondition, type NewCondition } from './conditions.js';
import type { CustomResource, ResourceClient } from './custom-resources.js';
import type { EventRecorder, EventType } from './events.js';
import { TerminalError } from './reconciler.js';
import { patchStatusIfChanged } from './status.js';

/** A resource whose status holds metav1.Conditions. */
export interface ConditionedResource extends CustomResource {
  status?: { conditions?: Condition[]; observedGeneration?: number };
}

/** The fields of a status a reconciler writes besides conditions and observedGeneration; null removes a field (merge patch). */
export type StatusFields<S> = Omit<{ [K in keyof S]?: S[K] | null }, 'conditions' | 'observedGeneration'>;

/** A condition as a reconciler states it: observedGeneration is the reporter's to fill in. */
export type StatedCondition = Omit<NewCondition, 'observedGeneration'>;

export interface StatusReporterDeps<T extends ConditionedResource> {
  resources: ResourceClient<T>;
  events: EventRecorder;
  clock: Clock;
  log: Logger;
  /** The generation a write says it acted on; metadata.generation unless the reconciler reads it otherwise. */
  generationOf?: (object: T) => number | undefined;
  /** Conditions that any write stating another condition takes out (a Topic's Paused: the Topic is reconciled again). */
  clearedByOthers?: readonly string[];
}

export interface WriteOptions {
  /** False: the write does not claim observedGeneration (a paused object has not acted on its spec). */
  observed?: boolean;
}

/** How a reconciler's failure is told: a refusal (terminal, Ready False with its reason) or a failure retried with backoff. */
export interface FailureReasons {
  /** The refusal this error is, when retrying the same request cannot fix it. */
  refusal(error: unknown): { reason: string; message: string } | undefined;
  /** The Ready reason of a failure that is retried (KafkaError, RegistryUnavailable). */
  retried: string;
}

/** `S` is the status as the reconciler types it, when it reads the generated type more precisely (a StreamJob's lastStableSpec is a spec). */
export class StatusReporter<T extends ConditionedResource, S extends object = NonNullable<T['status']>> {
  constructor(
    readonly kind: string,
    private readonly deps: StatusReporterDeps<T>,
  ) {}

  /** Merge-patches status fields and conditions, with the object's generation as observedGeneration; true when anything changed. */
  write(object: T, fields: StatusFields<S>, conditions: readonly StatedCondition[], options: WriteOptions = {}): Promise<boolean> {
    return this.#write(object, fields, conditions, options);
  }

  async #write(object: T, fields: object, conditions: readonly StatedCondition[], options: WriteOptions = {}): Promise<boolean> {
    const generation = this.deps.generationOf?.(object) ?? object.metadata.generation;
    let list: Condition[] | undefined = object.status?.conditions;
    for (const condition of conditions) list = setCondition(list, { ...condition, observedGeneration: generation }, this.deps.clock.now());
    for (const type of this.deps.clearedByOthers ?? []) {
      if (list !== undefined && conditions.length > 0 && conditions.every((condition) => condition.type !== type)) list = removeCondition(list, type);
    }
    const status = {
      ...fields,
      ...(options.observed === false ? {} : { observedGeneration: generation }),
      ...(list === undefined ? {} : { conditions: list }),
    };
    return patchStatusIfChanged(this.deps.resources, object, status);
  }

  /** Logs a decision and records it as an Event on the object (best effort). */
  event(object: T, type: EventType, reason: string, message: string): void {
    this.deps.log.info({ kind: this.kind, namespace: object.metadata.namespace, name: object.metadata.name, reason }, message);
    this.deps.events.record(object, type, reason, message);
  }

  /** Writes the refusal into Ready (with `fields`), a Warning Event when it is new; the TerminalError to throw. */
  async refuse(object: T, reason: string, message: string, fields?: StatusFields<S>): Promise<TerminalError> {
    const changed = await this.#write(object, fields ?? {}, [{ type: 'Ready', status: 'False', reason, message }]);
    if (changed) this.event(object, 'Warning', reason, message);
    return new TerminalError(reason, message);
  }

  /**
   * The catch of a reconcile: a TerminalError passes through; an error `reasons` names a refusal is refused; any other
   * goes into Ready (best effort: the API server may be what failed) and is thrown again, for a retry with backoff.
   */
  async failed(object: T, error: unknown, reasons: FailureReasons): Promise<never> {
    if (error instanceof TerminalError) throw error;
    const refusal = reasons.refusal(error);
    if (refusal !== undefined) throw await this.refuse(object, refusal.reason, refusal.message);
    await this.#write(object, {}, [{ type: 'Ready', status: 'False', reason: reasons.retried, message: `${messageOf(error)}; retrying` }]).catch(
      () => undefined,
    );
    throw error;
  }
}
