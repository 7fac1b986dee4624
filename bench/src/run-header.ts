// What every bench result starts with: when it ran and how loaded the machine was, so each figure is read beside its conditions.
import { cpus, loadavg } from 'node:os';

export interface Machine {
  cpus: number;
  node: string;
  /** os.loadavg() at the start and at the end of the run: a shared machine's other work shows here. */
  loadBefore: number[];
  loadAfter: number[];
}

export interface RunHeader {
  startedAt: string;
  machine: Machine;
}

/** Notes the start of a run; `finish()` at its end gives the header, with the load after. */
export function startRun(): { finish(): RunHeader } {
  const startedAt = new Date().toISOString();
  const loadBefore = loadavg();
  return { finish: () => ({ startedAt, machine: { cpus: cpus().length, node: process.version, loadBefore, loadAfter: loadavg() } }) };
}

/** The machine line under every table. */
export function machineLine(machine: Machine): string {
  return `machine: ${machine.cpus} cores, load average ${machine.loadBefore[0]!.toFixed(1)} before, ${machine.loadAfter[0]!.toFixed(1)} after`;
}
