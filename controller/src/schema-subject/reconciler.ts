// The SchemaSubject reconciler: registers a subject's schema in a Confluent-compatible registry after testing its compatibility (Confluent for Kubernetes' Schema resource is the model).
import type { SchemaSubject, SchemaSubjectStatus } from '@sluice/crds';
import type { Logger } from 'pino';
import type { Clock } from '../machinery/clock.js';
import { findCondition } from '../machinery/conditions.js';
import type { ResourceClient } from '../machinery/custom-resources.js';
import type { EventRecorder, EventType } from '../machinery/events.js';
import { ensureFinalizer, hasFinalizer, isBeingDeleted, removeFinalizer } from '../machinery/finalizers.js';
import { done, type ObjectKey, type Reconciler, type Result, type TerminalError } from '../machinery/reconciler.js';
import { StatusReporter, type FailureReasons, type StatedCondition, type StatusFields } from '../machinery/status-reporter.js';
import { RegistryError, RegistryErrorCode, isCode, type SchemaInput, type SchemaRegistryApi } from '../registry-client.js';

export const schemaSubjectFinalizer = 'sluice.dev/schemasubject';

/** The condition types a SchemaSubject's status holds. */
export const SchemaSubjectCondition = {
  Ready: 'Ready',
} as const;

export const SchemaSubjectReason = {
  Registered: 'Registered',
  IncompatibleSchema: 'IncompatibleSchema',
  InvalidSchema: 'InvalidSchema',
  SchemaSourceNotFound: 'SchemaSourceNotFound',
  NoRegistry: 'NoRegistry',
  RegistryRejected: 'RegistryRejected',
  RegistryUnavailable: 'RegistryUnavailable',
} as const;

/** Confluent error codes that name what is wrong with the spec, as condition reasons. */
const reasonOfCode = new Map<number, string>([
  [RegistryErrorCode.IncompatibleSchema, SchemaSubjectReason.IncompatibleSchema],
  [RegistryErrorCode.InvalidSchema, SchemaSubjectReason.InvalidSchema],
]);

export interface SchemaSubjectReconcilerDeps {
  subjects: ResourceClient<SchemaSubject>;
  /** A ConfigMap's data, or undefined when it does not exist. */
  readConfigMap(namespace: string, name: string): Promise<Record<string, string> | undefined>;
  /** The client of the registry at a URL. */
  registry(url: string): SchemaRegistryApi;
  defaultRegistryUrl?: string;
  events: EventRecorder;
  clock: Clock;
  log: Logger;
}

export class SchemaSubjectReconciler implements Reconciler {
  readonly kind = 'SchemaSubject';

  readonly #report: StatusReporter<SchemaSubject>;

  constructor(private readonly deps: SchemaSubjectReconcilerDeps) {
    this.#report = new StatusReporter('SchemaSubject', { resources: deps.subjects, events: deps.events, clock: deps.clock, log: deps.log });
  }

  async reconcile(key: ObjectKey): Promise<Result> {
    const resource = await this.deps.subjects.get(key);
    if (resource === undefined) return done;
    const url = resource.spec.registryUrl ?? this.deps.defaultRegistryUrl;
    if (url === undefined) {
      if (isBeingDeleted(resource)) return this.release(resource);
      throw await this.refuse(
        resource,
        SchemaSubjectReason.NoRegistry,
        'no schema registry: set spec.registryUrl, or start the controller with --registry-url',
      );
    }
    const registry = this.deps.registry(url);
    try {
      if (isBeingDeleted(resource)) return await this.finalize(resource, registry);
      return await this.converge(resource, registry);
    } catch (error) {
      return this.#report.failed(resource, error, failureReasons);
    }
  }

  private async converge(resource: SchemaSubject, registry: SchemaRegistryApi): Promise<Result> {
    const subject = resource.spec.subject;
    const schema = await this.schemaOf(resource);
    const held = await ensureFinalizer(this.deps.subjects, resource, schemaSubjectFinalizer);
    // The level is set first, so the compatibility test below already applies the spec's level.
    const wanted = resource.spec.compatibility;
    const level = await registry.subjectCompatibility(subject);
    if (wanted !== undefined && level !== wanted) {
      await registry.setSubjectCompatibility(subject, wanted);
      this.event(held, 'Normal', 'CompatibilitySet', `set ${subject}'s compatibility to ${wanted}`);
    } else if (wanted === undefined && level !== undefined) {
      await registry.deleteSubjectCompatibility(subject);
      this.event(held, 'Normal', 'CompatibilitySet', `${subject} follows the registry's global compatibility again (was ${level})`);
    }
    let registered = await registry.lookup(subject, schema);
    if (registered === undefined) {
      const compatibility = await registry.testCompatibility(subject, schema);
      if (!compatibility.isCompatible) {
        const reasons = compatibility.messages.length > 0 ? compatibility.messages.join('; ') : 'the registry gave no reasons';
        throw await this.refuse(
          held,
          SchemaSubjectReason.IncompatibleSchema,
          `the schema is incompatible with ${subject}'s latest version (${wanted ?? 'the global level'}); the subject is unchanged: ${reasons}`,
        );
      }
      const id = await registry.register(subject, schema);
      registered = await registry.lookup(subject, schema);
      if (registered === undefined) throw new Error(`the registry gave ${subject} schema id ${id} but does not find it in the subject; retrying`);
      this.event(held, 'Normal', 'Registered', `registered ${subject} version ${registered.version} (schema id ${id})`);
    }
    const wasReady = findCondition(resource.status?.conditions, SchemaSubjectCondition.Ready)?.status === 'True';
    const message = `${subject} version ${registered.version} holds the schema (id ${registered.id})`;
    await this.writeStatus(
      held,
      { subject, id: registered.id, version: registered.version, schemaType: resource.spec.schemaType ?? 'AVRO', registryUrl: registry.url },
      { type: SchemaSubjectCondition.Ready, status: 'True', reason: SchemaSubjectReason.Registered, message },
    );
    if (!wasReady) this.event(held, 'Normal', 'Ready', message);
    return done;
  }

  /** The schema's text, inline or from its ConfigMap key. */
  private async schemaOf(resource: SchemaSubject): Promise<SchemaInput> {
    const { spec } = resource;
    const input = { schemaType: spec.schemaType ?? 'AVRO', references: spec.references };
    if (spec.schema !== undefined) return { ...input, schema: spec.schema };
    const ref = spec.configMapRef;
    if (ref === undefined) throw await this.refuse(resource, SchemaSubjectReason.SchemaSourceNotFound, 'set spec.schema or spec.configMapRef');
    const data = await this.deps.readConfigMap(resource.metadata.namespace ?? '', ref.name);
    const text = data?.[ref.key];
    if (text === undefined) {
      // Not retried: the ConfigMap watch requeues this SchemaSubject when the ConfigMap appears or changes.
      const missing = data === undefined ? `ConfigMap ${ref.name} does not exist` : `ConfigMap ${ref.name} has no key ${ref.key}`;
      throw await this.refuse(resource, SchemaSubjectReason.SchemaSourceNotFound, `${missing}: create it, or fix spec.configMapRef`);
    }
    return { ...input, schema: text };
  }

  private async finalize(resource: SchemaSubject, registry: SchemaRegistryApi): Promise<Result> {
    if (!hasFinalizer(resource, schemaSubjectFinalizer)) return done;
    const subject = resource.spec.subject;
    const policy = resource.spec.deletionPolicy ?? 'retain';
    if (policy === 'retain') {
      this.event(resource, 'Normal', 'Retained', `kept ${subject} in the registry (deletionPolicy retain)`);
    } else {
      await softDelete(registry, subject);
      if (policy === 'hard') await hardDelete(registry, subject);
      this.event(resource, 'Normal', 'Deleted', `${policy === 'hard' ? 'permanently deleted' : 'soft-deleted'} ${subject} (deletionPolicy ${policy})`);
    }
    return this.release(resource);
  }

  private async release(resource: SchemaSubject): Promise<Result> {
    await removeFinalizer(this.deps.subjects, resource, schemaSubjectFinalizer);
    return done;
  }

  private refuse(resource: SchemaSubject, reason: string, message: string): Promise<TerminalError> {
    return this.#report.refuse(resource, reason, message);
  }

  private writeStatus(resource: SchemaSubject, fields: StatusFields<SchemaSubjectStatus>, condition: StatedCondition): Promise<boolean> {
    return this.#report.write(resource, fields, [condition]);
  }

  private event(resource: SchemaSubject, type: EventType, reason: string, message: string): void {
    this.#report.event(resource, type, reason, message);
  }
}

/** A refusal is what the registry answers with a client error (the request is wrong); anything else is retried. */
const failureReasons: FailureReasons = {
  refusal(error) {
    if (!(error instanceof RegistryError) || !error.clientError) return undefined;
    // The controller's own user was refused: its Secret, not the spec, needs fixing (the message names it).
    if (error.status === 401 || error.status === 403) return { reason: SchemaSubjectReason.RegistryRejected, message: error.message };
    const reason = (error.errorCode === undefined ? undefined : reasonOfCode.get(error.errorCode)) ?? SchemaSubjectReason.RegistryRejected;
    return { reason, message: `the registry refused: ${error.message}; fix the spec` };
  },
  retried: SchemaSubjectReason.RegistryUnavailable,
};

/** Soft-deletes the subject; one already soft-deleted or never registered is fine. */
async function softDelete(registry: SchemaRegistryApi, subject: string): Promise<void> {
  try {
    await registry.deleteSubject(subject);
  } catch (error) {
    if (!isCode(error, RegistryErrorCode.SubjectNotFound, RegistryErrorCode.SubjectSoftDeleted)) throw error;
  }
}

/** Removes a soft-deleted subject for good; one already gone is fine. */
async function hardDelete(registry: SchemaRegistryApi, subject: string): Promise<void> {
  try {
    await registry.deleteSubject(subject, true);
  } catch (error) {
    if (!isCode(error, RegistryErrorCode.SubjectNotFound)) throw error;
  }
}
