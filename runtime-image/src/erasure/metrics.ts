// The erasure counter on a runtime pod's /metrics: erasures applied, by no label that could carry the subject.
import { Counter, type Registry } from 'prom-client';
import type { ErasureReport } from './apply.js';

/** Registers sluice_erasures_applied_total and returns what counts one erasure. */
export function erasureMetric(registry: Registry): (report: ErasureReport) => void {
  const applied = new Counter({
    name: 'sluice_erasures_applied_total',
    help: "GDPR erasures (spec.erasure) applied to this pod's keyed state and sinks",
    registers: [registry],
  });
  return () => applied.inc();
}
