// Which test files need the test environment's servers: those whose import graph reaches test/env; the rest are unit tests.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/** What `@sluice/<name>` imports resolve to, as jest.config.js's moduleNameMapper maps them. */
export const workspaces = {
  '@sluice/crds': 'crds',
  '@sluice/runtime': 'runtime-image',
  '@sluice/controller': 'controller',
  '@sluice/cli': 'cli',
  '@sluice/registry': 'registry',
};

const skippedFolders = new Set(['node_modules', 'dist', '.git']);
// Static, side-effect and dynamic imports, and re-exports.
const importPattern = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g;
// A file naming test/env in a string literal (a spawned env cli, a path built to one of its files) uses it too.
const mentionsTestEnv = /['"`][^'"`\n]*\btest\/env\//;

function testFiles(dir, found = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (!skippedFolders.has(entry.name)) testFiles(join(dir, entry.name), found);
    } else if (entry.name.endsWith('.test.ts')) {
      found.push(join(dir, entry.name));
    }
  }
  return found;
}

function isFile(path) {
  return existsSync(path) && statSync(path).isFile();
}

/** The file an import names, or undefined for a package outside the monorepo (node_modules never reaches test/env). */
function resolveImport(rootDir, from, specifier) {
  let base;
  if (specifier.startsWith('.')) base = resolve(dirname(from), specifier);
  else if (workspaces[specifier]) return join(rootDir, workspaces[specifier], 'src', 'index.ts');
  else return undefined;
  const candidates = [base, base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')];
  return candidates.find(isFile);
}

/**
 * Splits every `*.test.ts` under rootDir (node_modules and dist aside) into `unit` (no file it imports, directly or not,
 * lies in test/env) and `servers`; both lists absolute and sorted, each test file in exactly one.
 */
export function classifyTests(rootDir) {
  const testEnv = join(rootDir, 'test', 'env') + sep;
  const edges = new Map(); // file → the monorepo files it imports, or true when it names test/env itself
  const importsOf = (file) => {
    if (!edges.has(file)) {
      const source = readFileSync(file, 'utf8');
      const targets = [...source.matchAll(importPattern)].map(([, specifier]) => resolveImport(rootDir, file, specifier));
      edges.set(file, mentionsTestEnv.test(source) ? true : targets.filter((target) => target !== undefined));
    }
    return edges.get(file);
  };
  const reachesEnv = (testFile) => {
    const seen = new Set([testFile]);
    const pending = [testFile];
    while (pending.length > 0) {
      const file = pending.pop();
      if (file.startsWith(testEnv)) return true;
      const targets = importsOf(file);
      if (targets === true) return true;
      for (const target of targets) if (!seen.has(target)) seen.add(target), pending.push(target);
    }
    return false;
  };
  const unit = [];
  const servers = [];
  for (const file of testFiles(rootDir).sort()) (reachesEnv(file) ? servers : unit).push(file);
  return { unit, servers };
}

// `node test/classify-tests.mjs` prints the classes.
if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  const rootDir = resolve(dirname(new URL(import.meta.url).pathname), '..');
  const { unit, servers } = classifyTests(rootDir);
  for (const file of unit) console.log(`unit     ${relative(rootDir, file)}`);
  for (const file of servers) console.log(`servers  ${relative(rootDir, file)}`);
  console.log(`${unit.length} unit, ${servers.length} need the servers`);
}
