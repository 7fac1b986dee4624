// The runtime pods' HTTP control API, shared by the runtime (server) and the controller (client): paths, JSON schemas and types.

/** Every control request carries `Authorization: Bearer <token>`, the token of the job's Secret. */
export const controlApi = {
  status: { method: 'GET', path: '/status' },
  savepoint: { method: 'POST', path: '/savepoints' },
  stop: { method: 'POST', path: '/stop' },
} as const;

export type RuntimePhase = 'starting' | 'restoring' | 'running' | 'stopping' | 'finished' | 'failed';

/** One source partition the pod owns. */
export interface PartitionStatus {
  partition: number;
  /** The next source offset to read. */
  offset: number;
  /** Consumer lag in records, once known. */
  lag: number | null;
  /** Epoch ms, or null before the first record; "Infinity" once a bounded input has ended. */
  watermark: number | null | 'Infinity';
}

/**
 * How the pod's periodic checkpoints go (ISO-8601 times). A checkpoint is taken at a commit point and
 * uploaded beside processing, so a stuck one shows here, and in sluice_checkpoint_in_progress_seconds, while
 * commits go on.
 */
export interface CheckpointStatus {
  /** When the last checkpoint completed; null before the first. */
  lastCompletedAt: string | null;
  /** When the running checkpoint began; null when none runs. */
  inProgressSince: string | null;
  /** Why the last checkpoint failed; null once one completes after it. */
  lastError: string | null;
}

/** GET /status */
export interface RuntimeStatus {
  job: string;
  ordinal: number;
  parallelism: number;
  phase: RuntimePhase;
  partitions: PartitionStatus[];
  recordsIn: number;
  recordsOut: number;
  /** The last savepoint this pod wrote, if any. */
  lastSavepoint: string | null;
  checkpoint: CheckpointStatus;
}

/** POST /savepoints body: one id and writer count agreed by the controller, so the pods of a job write one savepoint together. */
export interface SavepointRequest {
  /** The savepoint id shared by all pods; a new one when absent (a one-pod job). */
  id?: string;
}

/** POST /savepoints answer, sent once the pod's part is durable. */
export interface SavepointResponse {
  id: string;
  /** The savepoint's location: what a restore takes. */
  location: string;
  /** True when this pod's part completed the savepoint (manifest written). */
  complete: boolean;
}

/** POST /stop query: `savepoint=true` writes this pod's part of a savepoint first, under `id` when the pods of a job share one. */
export interface StopRequest {
  savepoint: boolean;
  id?: string;
}

/** POST /stop?savepoint=true answer: the pod has committed, written its savepoint part if asked, and stopped processing; it serves /status until SIGTERM. */
export interface StopResponse {
  stopped: true;
  savepoint: SavepointResponse | null;
}

/** Every error answer: a stable code and a message that says what to do. */
export interface ControlError {
  code: string;
  message: string;
}

const watermark = { oneOf: [{ type: 'number' }, { type: 'null' }, { const: 'Infinity' }] } as const;

export const checkpointStatusSchema = {
  type: 'object',
  required: ['lastCompletedAt', 'inProgressSince', 'lastError'],
  additionalProperties: false,
  properties: { lastCompletedAt: { type: ['string', 'null'] }, inProgressSince: { type: ['string', 'null'] }, lastError: { type: ['string', 'null'] } },
} as const;

export const runtimeStatusSchema = {
  type: 'object',
  required: ['job', 'ordinal', 'parallelism', 'phase', 'partitions', 'recordsIn', 'recordsOut', 'lastSavepoint', 'checkpoint'],
  additionalProperties: false,
  properties: {
    job: { type: 'string' },
    ordinal: { type: 'integer', minimum: 0 },
    parallelism: { type: 'integer', minimum: 1 },
    phase: { enum: ['starting', 'restoring', 'running', 'stopping', 'finished', 'failed'] },
    partitions: {
      type: 'array',
      items: {
        type: 'object',
        required: ['partition', 'offset', 'lag', 'watermark'],
        additionalProperties: false,
        properties: { partition: { type: 'integer', minimum: 0 }, offset: { type: 'integer', minimum: 0 }, lag: { type: ['integer', 'null'] }, watermark },
      },
    },
    recordsIn: { type: 'integer', minimum: 0 },
    recordsOut: { type: 'integer', minimum: 0 },
    lastSavepoint: { type: ['string', 'null'] },
    checkpoint: checkpointStatusSchema,
  },
} as const;

export const savepointRequestSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { id: { type: 'string', minLength: 1, pattern: '^[A-Za-z0-9._-]+$' } },
} as const;

export const savepointResponseSchema = {
  type: 'object',
  required: ['id', 'location', 'complete'],
  additionalProperties: false,
  properties: { id: { type: 'string' }, location: { type: 'string' }, complete: { type: 'boolean' } },
} as const;

export const stopQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: { savepoint: { type: 'boolean', default: false }, id: savepointRequestSchema.properties.id },
} as const;

export const stopResponseSchema = {
  type: 'object',
  required: ['stopped', 'savepoint'],
  additionalProperties: false,
  properties: { stopped: { const: true }, savepoint: { oneOf: [savepointResponseSchema, { type: 'null' }] } },
} as const;

export const controlErrorSchema = {
  type: 'object',
  required: ['code', 'message'],
  additionalProperties: false,
  properties: { code: { type: 'string' }, message: { type: 'string' } },
} as const;
