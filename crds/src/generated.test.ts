// The committed types in src/generated are what the CRDs generate today: a CRD change without `npm run gen` fails here.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generateTypes } from './codegen.js';
import { crdManifests } from './index.js';

const generatedDir = fileURLToPath(new URL('./generated/', import.meta.url));

describe('the generated types', () => {
  it('equal, byte for byte, what the CRDs generate (run `npm run gen -w @sluice/crds` after changing a CRD)', async () => {
    const files = await generateTypes();
    expect(readdirSync(generatedDir).sort()).toEqual(files.map((f) => f.file).sort());
    for (const { file, content } of files) expect([file, readFileSync(`${generatedDir}${file}`, 'utf8')]).toEqual([file, content]);
  });

  it('come out the same twice', async () => {
    expect(await generateTypes()).toEqual(await generateTypes());
  });

  it('share one Condition type because the three CRDs declare the same condition schema', () => {
    const schemas = crdManifests().map((crd) => crd.spec.versions[0]!.schema.openAPIV3Schema.properties!.status!.properties!.conditions!.items);
    expect(schemas[1]).toEqual(schemas[0]);
    expect(schemas[2]).toEqual(schemas[0]);
  });
});
