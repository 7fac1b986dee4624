// `npm run gen`: writes the TypeScript types generated from the CRD schemas to crds/src/generated, and copies the CRDs into the Helm chart.
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { crdFiles, manifestsDir } from '../src/manifests.js';
import { generateTypes } from '../src/codegen.js';

const outDir = fileURLToPath(new URL('../src/generated/', import.meta.url));
// Helm installs a chart's crds/ folder as it is; crds/manifests stays the one source (test/e2e/helm-chart.test.ts compares them).
const chartCrdsDir = fileURLToPath(new URL('../../charts/sluice/crds/', import.meta.url));

const files = await generateTypes();
mkdirSync(outDir, { recursive: true });
// Files of types no longer generated go, so the folder holds exactly what the CRDs give.
const wanted = new Set(files.map((f) => f.file));
for (const stale of readdirSync(outDir).filter((name) => !wanted.has(name))) rmSync(`${outDir}${stale}`);
for (const { file, content } of files) writeFileSync(`${outDir}${file}`, content);
process.stdout.write(`wrote ${files.map((f) => f.file).join(', ')} to ${outDir}\n`);

const crds = Object.values(crdFiles);
mkdirSync(chartCrdsDir, { recursive: true });
for (const stale of readdirSync(chartCrdsDir).filter((name) => !crds.includes(name))) rmSync(`${chartCrdsDir}${stale}`);
for (const file of crds) copyFileSync(`${manifestsDir}${file}`, `${chartCrdsDir}${file}`);
process.stdout.write(`copied ${crds.join(', ')} to ${chartCrdsDir}\n`);
