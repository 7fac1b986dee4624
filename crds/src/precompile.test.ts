// The build's precompiled CRDs (precompile.ts): the standalone validator refuses exactly what ajv compiling the schema at
// run time refuses, the parsed CRD is the one the YAML gives, and a manifest edited after the build is not served stale.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { crdFiles, kinds, manifestsDir, openAPISchema, parseCrd, type Kind } from './manifests.js';
import { compileSchema } from './openapi.js';
import { precompiled } from './precompiled.js';
import { writePrecompiled } from './precompile.js';

const examplesDir = fileURLToPath(new URL('../../examples/', import.meta.url));
// Inside the package, so the generated files' require('ajv/dist/runtime/…') finds node_modules as in crds/dist.
let dir: string;

beforeAll(() => {
  dir = `${mkdtempSync(fileURLToPath(new URL('../.precompile-test-', import.meta.url)))}/`;
  writePrecompiled(dir);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const manifestText = (kind: Kind): string => readFileSync(`${manifestsDir}${crdFiles[kind]}`, 'utf8');

/** Every example manifest of a kind, and each broken a few ways a user breaks them. */
function samples(kind: Kind): unknown[] {
  const examples = readdirSync(examplesDir).flatMap((example) =>
    readdirSync(`${examplesDir}${example}`)
      .filter((file) => file.endsWith('.yaml'))
      .flatMap((file) => parseAllDocuments(readFileSync(`${examplesDir}${example}/${file}`, 'utf8')).map((document) => document.toJS() as unknown)),
  );
  const ofKind = examples.filter((manifest) => (manifest as { kind?: unknown }).kind === kind) as Record<string, Record<string, unknown>>[];
  expect(ofKind.length).toBeGreaterThan(0);
  const broken = ofKind.flatMap((manifest) => [
    { ...manifest, spec: undefined },
    { ...manifest, spec: { ...manifest.spec, extra: 'x', [Object.keys(manifest.spec!)[0]!]: 12345 } },
    { ...manifest, spec: Object.fromEntries(Object.entries(manifest.spec!).map(([key, value]) => [key, typeof value === 'string' ? 42 : 'text'])) },
    { ...manifest, metadata: 'not an object' },
  ]);
  return [...ofKind, ...broken];
}

describe('the precompiled CRDs', () => {
  it.each(kinds)('%s: the standalone validator gives the errors a run-time compiled one gives', (kind) => {
    const built = precompiled(kind, manifestText(kind), dir);
    const compiled = compileSchema(openAPISchema(kind));
    let refused = 0;
    for (const manifest of samples(kind)) {
      const valid = compiled(manifest);
      expect([built!.validate(manifest), built!.validate.errors ?? null]).toEqual([valid, compiled.errors ?? null]);
      if (!valid) refused += 1;
    }
    // The samples reach the schema's refusals, not only its acceptances.
    expect(refused).toBeGreaterThan(0);
  });

  it.each(kinds)('%s: the parsed CRD is the one its YAML gives', (kind) => {
    expect(precompiled(kind, manifestText(kind), dir)!.crd).toEqual(parseCrd(manifestText(kind)));
  });

  it('are not used once the manifest differs from the one they were built from', () => {
    expect(precompiled('Topic', `${manifestText('Topic')}\n# edited after the build\n`, dir)).toBeUndefined();
  });

  it('are not used where the build wrote none (src/, as tests and tsx run it)', () => {
    expect(precompiled('Topic', manifestText('Topic'))).toBeUndefined();
  });
});
