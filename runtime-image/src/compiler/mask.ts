// spec.pipeline[].mask → a map that hides PII fields (hmac, redact, truncate, tokenise), and the one Secret key its keyed methods share.
import { RUNTIME_ENV } from '@sluice/crds';
import type { DataStream } from '../dataflow/datastream.js';
import { showValue } from '../error-message.js';
import { KEYED_METHODS, MASK_METHODS, type MaskField, type MaskMethod, masker } from '../mask/mask.js';
import type { Problems } from './problems.js';
import { isObject } from './values.js';

type Row = Record<string, unknown>;

/** The Secret key (`keySecretRef`) the job's hmac and tokenise fields are keyed by; the operator puts its value in SLUICE_MASK_KEY. */
export interface MaskKeyRef {
  name: string;
  key: string;
}

/**
 * What a run gives the compiler. Absent (the controller and `streamctl validate` check a spec, run nothing): a keyed
 * mask is checked for its keySecretRef only. Present: the key, which a keyed mask cannot run without.
 */
export interface MaskSecrets {
  /** The bytes of the job's mask key; undefined when the run was given none. */
  maskKey: Uint8Array | undefined;
}

/** Where the compiler notes the job's one mask key while it walks the mask steps. */
export interface MaskKeyUse {
  ref?: MaskKeyRef;
  refPath?: string;
}

/** What the mask steps of one compile share: the run's secrets (if it is a run) and the key the first keyed step named. */
export interface MaskContext {
  secrets: MaskSecrets | undefined;
  use: MaskKeyUse;
}

export function maskContext(secrets?: MaskSecrets): MaskContext {
  return { secrets, use: {} };
}

const FIELD_PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

function compileField(problems: Problems, path: string, item: unknown): MaskField | undefined {
  if (!isObject(item)) {
    problems.add(path, 'must be an object such as { field: card_number, with: hmac }');
    return undefined;
  }
  const start = problems.list.length;
  if (typeof item.field !== 'string' || !FIELD_PATH.test(item.field))
    problems.add(`${path}.field`, `${showValue(item.field)} is not a field name such as card_number or payment.card_number`);
  const method = item.with as MaskMethod;
  if (!MASK_METHODS.includes(method)) problems.add(`${path}.with`, `${showValue(item.with)} is not a mask method; use ${MASK_METHODS.join(', ')}`);
  if (item.keep !== undefined && method !== 'truncate')
    problems.add(`${path}.keep`, 'applies only to with: truncate (how many trailing characters are kept); remove it');
  if (item.keep !== undefined && (!Number.isSafeInteger(item.keep) || (item.keep as number) < 0))
    problems.add(`${path}.keep`, `${showValue(item.keep)} is not a number of characters ≥ 0, for example 4`);
  if (item.encoding !== undefined && method !== 'hmac') problems.add(`${path}.encoding`, 'applies only to with: hmac; remove it');
  if (item.encoding !== undefined && item.encoding !== 'hex' && item.encoding !== 'base64')
    problems.add(`${path}.encoding`, `${showValue(item.encoding)} is not hex or base64`);
  if (problems.list.length > start) return undefined;
  const field: MaskField = { field: item.field as string, with: method };
  if (item.keep !== undefined) field.keep = item.keep as number;
  if (item.encoding !== undefined) field.encoding = item.encoding as 'hex' | 'base64';
  return field;
}

function compileKeyRef(problems: Problems, path: string, ref: unknown): MaskKeyRef | undefined {
  if (isObject(ref) && typeof ref.name === 'string' && ref.name !== '' && typeof ref.key === 'string' && ref.key !== '')
    return { name: ref.name, key: ref.key };
  problems.add(path, `${showValue(ref)} is not a Secret key reference; write { name: <Secret>, key: <key in it> }`);
  return undefined;
}

/** The mask key is one per job (one environment variable in its pods): every keyed mask step names the same Secret key. */
function useKey(problems: Problems, path: string, ref: MaskKeyRef, use: MaskKeyUse): void {
  if (use.ref === undefined) {
    use.ref = ref;
    use.refPath = path;
  } else if (use.ref.name !== ref.name || use.ref.key !== ref.key) {
    problems.add(
      path,
      `names Secret ${ref.name} key ${ref.key}, but ${use.refPath} names Secret ${use.ref.name} key ${use.ref.key}; a job has one mask key: name the same one`,
    );
  }
}

/** A mask step: the map that rewrites each record, or undefined after recording the problems. */
export function compileMask(
  problems: Problems,
  path: string,
  body: unknown,
  { secrets, use }: MaskContext,
): ((stream: DataStream<Row>, id: string) => DataStream<Row>) | undefined {
  if (!isObject(body) || !Array.isArray(body.fields) || body.fields.length === 0) {
    problems.add(path, 'must list the fields to mask, for example { fields: [{ field: card_number, with: hmac }], keySecretRef: { name: pii-key, key: key } }');
    return undefined;
  }
  const fields = (body.fields as unknown[]).map((item, index) => compileField(problems, `${path}.fields[${index}]`, item));
  if (fields.some((field) => field === undefined)) return undefined;
  const masked = fields as MaskField[];
  const keyed = masked.find((field) => KEYED_METHODS.includes(field.with));
  const ref = body.keySecretRef === undefined ? undefined : compileKeyRef(problems, `${path}.keySecretRef`, body.keySecretRef);
  if (keyed === undefined) {
    if (body.keySecretRef !== undefined)
      problems.add(`${path}.keySecretRef`, 'no field of this step is masked with hmac or tokenise, which use the key; remove keySecretRef');
    return problems.list.length > 0 ? undefined : (stream, id) => stream.map(masker(masked, undefined), { id });
  }
  if (body.keySecretRef === undefined) {
    problems.add(
      `${path}.keySecretRef`,
      `is required: ${keyed.field} is masked with ${keyed.with}, which is keyed by a secret; set keySecretRef: { name: <Secret>, key: <key> } to a Secret holding at least one random byte (32 recommended)`,
    );
    return undefined;
  }
  if (ref === undefined) return undefined;
  useKey(problems, `${path}.keySecretRef`, ref, use);
  if (secrets !== undefined && (secrets.maskKey === undefined || secrets.maskKey.length === 0)) {
    problems.add(
      `${path}.keySecretRef`,
      `${keyed.field} is masked with ${keyed.with} but this run has no mask key: set ${RUNTIME_ENV.maskKey} to the value of key ${ref.key} of Secret ${ref.name} (the operator does this in the job's pods; streamctl run also takes --mask-key-file)`,
    );
    return undefined;
  }
  return (stream, id) => stream.map(masker(masked, secrets?.maskKey), { id });
}
