// Every error class Sluice throws extends SluiceError with its own stable code: the table below lists each one.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { BrokerSaslError, KafkaConnectionError } from '@sluice/crds';
import { RegistryAuthError } from '@sluice/crds/registry-connection';
import { SluiceError } from '@sluice/crds/errors';
import { KubeApiError } from '../../cli/src/kube/api.js';
import { CommandError } from '../../cli/src/kube/io.js';
import { TerminalError } from '../../controller/src/machinery/reconciler.js';
import { RegistryError } from '../../controller/src/registry-client.js';
import { RuntimeControlError } from '../../controller/src/stream-job/runtime-control.js';
import { ComparisonTooLarge } from '../../registry/src/compat/bounds.js';
import { RegistryHttpError } from '../../registry/src/errors.js';
import { RegistryUsersError } from '../../registry/src/http/auth.js';
import { AggregateInputError, AggregateSpecError } from '../../runtime-image/src/aggregate/aggregates.js';
import { CelBudgetExceeded } from '../../runtime-image/src/compiler/cel-cost.js';
import { CelCompileError, CelEvaluationError } from '../../runtime-image/src/compiler/cel.js';
import { JobSpecError } from '../../runtime-image/src/compiler/problems.js';
import { GeneratorOptionsError } from '../../runtime-image/src/connectors/generator/options.js';
import { KeyTemplateError } from '../../runtime-image/src/connectors/key-template.js';
import { PostgresSinkError } from '../../runtime-image/src/connectors/postgres/errors.js';
import { LakeError } from '../../runtime-image/src/connectors/s3/store.js';
import { ScoreCallError } from '../../runtime-image/src/score/client.js';
import { DataflowError } from '../../runtime-image/src/dataflow/datastream.js';
import { NoSchemaRegistryError } from '../../runtime-image/src/serde/open.js';
import { SchemaRegistryError } from '../../runtime-image/src/serde/registry-client.js';
import { KeyError } from '../../runtime-image/src/dataflow/keys.js';
import { RecordProcessingError, StateTooLargeError } from '../../runtime-image/src/kafka/exactly-once.js';
import { ConfigError } from '../../runtime-image/src/process/config.js';
import { ControlError } from '../../runtime-image/src/process/runtime.js';
import { SnapshotError } from '../../runtime-image/src/snapshot/errors.js';
import { StateStoreError } from '../../runtime-image/src/state/store.js';
import { DurationError } from '../../runtime-image/src/time/duration.js';
import { IsoDateTimeError } from '../../runtime-image/src/time/iso8601.js';

const root = join(import.meta.dirname, '..', '..');
const packages = ['crds', 'runtime-image', 'controller', 'cli', 'registry'];

/** One instance of each class; the classes whose code depends on the failure are made with their codes in `sources`. */
const errors: Record<string, SluiceError> = {
  AggregateSpecError: new AggregateSpecError('m'),
  BrokerSaslError: new BrokerSaslError('m'),
  AggregateInputError: new AggregateInputError('m'),
  CelBudgetExceeded: new CelBudgetExceeded(1),
  CelCompileError: new CelCompileError('m'),
  CelEvaluationError: new CelEvaluationError('m'),
  CommandError: new CommandError('m'),
  ComparisonTooLarge: new ComparisonTooLarge('goes too deep'),
  ConfigError: new ConfigError('m'),
  ControlError: new ControlError('SLUICE_E_NOT_RUNNING', 'm', 409),
  DataflowError: new DataflowError('m'),
  DurationError: new DurationError('m'),
  GeneratorOptionsError: new GeneratorOptionsError('m'),
  IsoDateTimeError: new IsoDateTimeError('m'),
  JobSpecError: new JobSpecError([]),
  KafkaConnectionError: new KafkaConnectionError('m'),
  KeyError: new KeyError('m'),
  KeyTemplateError: new KeyTemplateError('m'),
  KubeApiError: new KubeApiError(403, { message: 'm' }),
  LakeError: new LakeError('m'),
  NoSchemaRegistryError: new NoSchemaRegistryError('m'),
  PostgresSinkError: new PostgresSinkError('SLUICE_E_POSTGRES_TABLE', 'm'),
  RecordProcessingError: new RecordProcessingError('job', 'orders', 0, 1, new Error('m')),
  RegistryError: new RegistryError(404, 40401, 'm'),
  RegistryAuthError: new RegistryAuthError('m', 401),
  RegistryHttpError: new RegistryHttpError(404, 40401, 'm'),
  RegistryUsersError: new RegistryUsersError('m'),
  RuntimeControlError: new RuntimeControlError('SLUICE_E_UNREACHABLE', 'm'),
  SchemaRegistryError: new SchemaRegistryError('m'),
  ScoreCallError: new ScoreCallError('m'),
  SnapshotError: new SnapshotError('SLUICE_E_SNAPSHOT_MISSING', 'm'),
  StateStoreError: new StateStoreError('SLUICE_E_STATE_CLOSED', 'm'),
  StateTooLargeError: new StateTooLargeError('count', 'changelog', 'k', 2, 1),
  TerminalError: new TerminalError('Invalid', 'm'),
};

/** The classes whose code is the constructor's first argument: their codes are the literals they are made with. */
const passedCodes = new Set(['ControlError', 'PostgresSinkError', 'RuntimeControlError', 'SnapshotError', 'StateStoreError']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'generated' ? [] : sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

const sources = packages
  .flatMap((name) => sourceFiles(join(root, name, 'src')))
  .map((path) => ({ path: relative(root, path), text: readFileSync(path, 'utf8') }));
const declared = (pattern: RegExp) => sources.flatMap(({ path, text }) => [...text.matchAll(pattern)].map((match) => `${match[1]} (${path})`));

/** Every code each class carries: its own, or for the classes in `passedCodes` every literal code it is made with. */
function codesOf(name: string): string[] {
  if (!passedCodes.has(name)) return [errors[name]!.code];
  const made = new RegExp(`new ${name}\\(\\s*'([^']*)'`, 'g');
  return [...new Set(sources.flatMap(({ text }) => [...text.matchAll(made)].map((match) => match[1]!)))];
}

describe('Sluice errors', () => {
  it('are all SluiceErrors: no class in a package extends Error itself', () => {
    expect(declared(/class (\w+) extends Error\b/g)).toEqual(['SluiceError (crds/src/errors.ts)']);
  });

  it('are each listed here, so each one is checked', () => {
    const names = declared(/class (\w+) extends SluiceError\b/g).map((entry) => entry.split(' ')[0]);
    expect(names.sort()).toEqual(Object.keys(errors).sort());
  });

  it('carry the class name, a SLUICE_E_ code, and are not retriable unless they say so', () => {
    for (const [name, error] of Object.entries(errors)) {
      expect({ name, isSluiceError: error instanceof SluiceError, errorName: error.name }).toEqual({ name, isSluiceError: true, errorName: name });
      for (const code of codesOf(name)) expect({ name, code }).toEqual({ name, code: expect.stringMatching(/^SLUICE_E_[A-Z0-9_]+$/) as unknown });
    }
    expect(codesOf('SnapshotError')).toContain('SLUICE_E_SNAPSHOT_MISSING');
  });

  it('have codes no two classes share', () => {
    const owners = new Map<string, string[]>();
    for (const name of Object.keys(errors)) for (const code of codesOf(name)) owners.set(code, [...(owners.get(code) ?? []), name]);
    expect([...owners].filter(([, names]) => names.length > 1)).toEqual([]);
  });

  it('are retriable only where the same call can succeed later', () => {
    const retriable = (error: SluiceError) => error.retriable;
    expect(retriable(new StateStoreError('SLUICE_E_STATE_LOCKED', 'm'))).toBe(true);
    expect(retriable(new StateStoreError('SLUICE_E_STATE_OPEN', 'm'))).toBe(false);
    expect(retriable(new SnapshotError('SLUICE_E_SNAPSHOT_S3_TIMEOUT', 'm'))).toBe(true);
    expect(retriable(new ControlError('SLUICE_E_NOT_RUNNING', 'm', 409))).toBe(true);
    expect(retriable(new ControlError('SLUICE_E_STOPPED', 'm', 409))).toBe(false);
    expect(retriable(new RegistryError(503, 50001, 'm'))).toBe(true);
    expect(retriable(new RegistryError(404, 40401, 'm'))).toBe(false);
    expect(retriable(new RegistryHttpError(500, 50002, 'm'))).toBe(true);
    expect(retriable(new SchemaRegistryError('m', { retriable: true }))).toBe(true);
    expect(retriable(new PostgresSinkError('SLUICE_E_POSTGRES_UNREACHABLE', 'm'))).toBe(true);
    expect(retriable(new PostgresSinkError('SLUICE_E_POSTGRES_REFUSED', 'm'))).toBe(false);
    expect(
      Object.entries(errors)
        .filter(([, error]) => error.retriable)
        .map(([name]) => name),
    ).toEqual(['ControlError', 'RuntimeControlError']);
  });

  it('keep the cause they wrap', () => {
    const cause = new Error('connection refused');
    expect(new SnapshotError('SLUICE_E_SNAPSHOT_S3', 'm', { cause }).cause).toBe(cause);
  });
});
