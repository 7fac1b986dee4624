// The three resources as TypeScript objects: the generated spec and status types inside their Kubernetes envelope.
import type { SchemaSubjectSpec, SchemaSubjectStatus } from './generated/schemasubject.js';
import type { StreamJobSpec, StreamJobStatus } from './generated/streamjob.js';
import type { TopicSpec, TopicStatus } from './generated/topic.js';
import type { Kind } from './manifests.js';

/** The ObjectMeta fields Sluice reads and writes; structurally a subset of @kubernetes/client-node's V1ObjectMeta. */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: Date | string;
  deletionTimestamp?: Date | string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }[];
}

export interface Resource<K extends Kind, Spec, Status> {
  apiVersion: 'sluice.dev/v1alpha1';
  kind: K;
  metadata: ObjectMeta;
  spec: Spec;
  status?: Status;
}

export type StreamJob = Resource<'StreamJob', StreamJobSpec, StreamJobStatus>;
export type Topic = Resource<'Topic', TopicSpec, TopicStatus>;
export type SchemaSubject = Resource<'SchemaSubject', SchemaSubjectSpec, SchemaSubjectStatus>;
