// Where a V8 CPU profile (.cpuprofile from node --cpu-prof) spent its time: self time per function and per package.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  name: string;
  /** Share of all sampled time, in percent. */
  percent: number;
  ms: number;
}

export interface ProfileSummary {
  totalMs: number;
  functions: ProfileEntry[];
  packages: ProfileEntry[];
}

/** `node_modules/@marcbachmann/cel-js/…` → `@marcbachmann/cel-js`; our sources by workspace folder; V8's own entries as they are. */
export function packageOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const parts = url.slice(modules + 'node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  if (url.startsWith('node:')) return 'node (core)';
  const source = /\/(runtime-image|bench|crds|test)\/src\/([^/]+)/.exec(url);
  return source === null ? url : `${source[1]}/${source[2]}`;
}

function top(totals: Map<string, number>, totalMs: number, count: number): ProfileEntry[] {
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, ms]) => ({ name, ms: Math.round(ms), percent: Math.round((ms / totalMs) * 1000) / 10 }));
}

export function summarizeProfile(file: string, count = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const functions = new Map<string, number>();
  const packages = new Map<string, number>();
  let totalMs = 0;
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    // V8 reports line 1 for every function of our TypeScript as tsx loads it: those files are named without a line.
    const line = url.includes('node_modules/') || url.startsWith('node:') ? `:${lineNumber + 1}` : '';
    const where = url === '' ? '' : ` ${url.replace(/^.*\/(node_modules|runtime-image|bench)\//, '$1/')}${line}`;
    const name = `${functionName === '' ? '(anonymous)' : functionName}${where}`;
    functions.set(name, (functions.get(name) ?? 0) + ms);
    const pkg = packageOf(url, functionName);
    packages.set(pkg, (packages.get(pkg) ?? 0) + ms);
    totalMs += ms;
  });
  return { totalMs: Math.round(totalMs), functions: top(functions, totalMs, count), packages: top(packages, totalMs, count) };
}
