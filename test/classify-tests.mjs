// Which test files need the test environment's servers (their import graph reaches test/env), which run programs
// (it reaches node:child_process: streamctl, jest, a runtime process) and need no server, and the rest: unit tests.
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
/** Stands for node:child_process in the import graph: a test that reaches it runs programs. */
const childProcess = Symbol('node:child_process');
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
  if (specifier === 'node:child_process' || specifier === 'child_process') return childProcess;
  let base;
  if (specifier.startsWith('.')) base = resolve(dirname(from), specifier);
  else if (workspaces[specifier]) return join(rootDir, workspaces[specifier], 'src', 'index.ts');
  else return undefined;
  const candidates = [base, base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')];
  return candidates.find(isFile);
}

/**
 * Splits every `*.test.ts` under rootDir (node_modules and dist aside) into `servers` (a file it imports, directly or
 * not, lies in test/env), `programs` (no server, but it reaches node:child_process: it runs streamctl, jest or a
 * runtime process, which takes seconds each) and `unit` (the rest); each list absolute and sorted, each test file in
 * exactly one.
 */
export function classifyTests(rootDir) {
  const testEnv = join(rootDir, 'test', 'env') + sep;
  const edges = new Map(); // file → the monorepo files (or childProcess) it imports, or true when it names test/env itself
  const importsOf = (file) => {
    if (!edges.has(file)) {
      const source = readFileSync(file, 'utf8');
      const targets = [...source.matchAll(importPattern)].map(([, specifier]) => resolveImport(rootDir, file, specifier));
      edges.set(file, mentionsTestEnv.test(source) ? true : targets.filter((target) => target !== undefined));
    }
    return edges.get(file);
  };
  /** 'servers' when the graph reaches test/env, else 'programs' when it reaches node:child_process, else 'unit'. */
  const classOf = (testFile) => {
    const seen = new Set([testFile]);
    const pending = [testFile];
    let runsPrograms = false;
    while (pending.length > 0) {
      const file = pending.pop();
      if (file === childProcess) {
        runsPrograms = true;
        continue;
      }
      if (file.startsWith(testEnv)) return 'servers';
      const targets = importsOf(file);
      if (targets === true) return 'servers';
      for (const target of targets) if (!seen.has(target)) (seen.add(target), pending.push(target));
    }
    return runsPrograms ? 'programs' : 'unit';
  };
  const classes = { unit: [], programs: [], servers: [] };
  for (const file of testFiles(rootDir).sort()) classes[classOf(file)].push(file);
  return classes;
}

// `node test/classify-tests.mjs` prints the classes.
if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  const rootDir = resolve(dirname(new URL(import.meta.url).pathname), '..');
  const classes = classifyTests(rootDir);
  for (const [name, files] of Object.entries(classes)) for (const file of files) console.log(`${name.padEnd(9)}${relative(rootDir, file)}`);
  console.log(`${classes.unit.length} unit, ${classes.programs.length} run programs, ${classes.servers.length} need the servers`);
}
