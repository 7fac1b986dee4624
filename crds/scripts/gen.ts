// `npm run gen`: writes the TypeScript types generated from the CRD schemas to crds/src/generated.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generateTypes } from '../src/codegen.js';

const outDir = fileURLToPath(new URL('../src/generated/', import.meta.url));

const files = await generateTypes();
mkdirSync(outDir, { recursive: true });
// Files of types no longer generated go, so the folder holds exactly what the CRDs give.
const wanted = new Set(files.map((f) => f.file));
for (const stale of readdirSync(outDir).filter((name) => !wanted.has(name))) rmSync(`${outDir}${stale}`);
for (const { file, content } of files) writeFileSync(`${outDir}${file}`, content);
process.stdout.write(`wrote ${files.map((f) => f.file).join(', ')} to ${outDir}\n`);
