// What the CEL cost budget costs: evaluations per second of the same expressions unmetered (cel-js as the engine called it before the budget) and through compileCel, in one run. `npx tsx bench/src/cel-budget.ts`
import { Environment } from '@marcbachmann/cel-js';
import { compileCel, toJson } from '@sluice/runtime';

const record = { customer_id: 'C1', amount: 120.5, country: 'NZ', items: [{ sku: 'a' }, { sku: 'b' }, { sku: 'c' }, { sku: 'd' }] };
const expressions = ['amount > 100.0', 'items.exists(i, i.sku == "d")'];
/** Short alternating rounds, best of each kept: other processes on the machine slow some rounds, never speed one up. */
const seconds = 0.5;
const rounds = 8;

/** compileCel's evaluation as it was before the budget (same environment, binding, error handling and JSON conversion), without reset, charges or the exceeded check. */
function unmetered(source: string): { evaluate(value: Record<string, unknown>): unknown } {
  const program = new Environment({ unlistedVariablesAreDyn: true, homogeneousAggregateLiterals: false }).parse(source);
  if (!program.check().valid) throw new Error(`${source} does not type-check`);
  const bind = (value: Record<string, unknown>) => value;
  return {
    evaluate(value) {
      let result: unknown;
      try {
        result = program(bind(value));
      } catch (error) {
        throw new Error(`${JSON.stringify(source)} failed: ${String(error)}`);
      }
      return toJson(result, source);
    },
  };
}

function evaluationsPerSecond(evaluate: (value: Record<string, unknown>) => unknown): number {
  let count = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(seconds * 1e9);
  let now = start;
  while (now < end) {
    for (let i = 0; i < 10_000; i++) evaluate(record);
    count += 10_000;
    now = process.hrtime.bigint();
  }
  return count / (Number(now - start) / 1e9);
}

for (const source of expressions) {
  const unmeteredExpression = unmetered(source);
  const compiled = compileCel(source);
  const before = (value: Record<string, unknown>) => unmeteredExpression.evaluate(value);
  const evaluateAfter = (value: Record<string, unknown>) => compiled.evaluate(value);
  const rates = { before: [] as number[], after: [] as number[] };
  for (let round = 0; round < rounds; round++) {
    rates.before.push(evaluationsPerSecond(before));
    rates.after.push(evaluationsPerSecond(evaluateAfter));
  }
  const best = (list: number[]) => Math.max(...list);
  const change = (best(rates.after) / best(rates.before) - 1) * 100;
  process.stdout.write(
    `${source}: before ${Math.round(best(rates.before)).toLocaleString('en-US')} evals/s, ` +
      `with the budget ${Math.round(best(rates.after)).toLocaleString('en-US')} evals/s (${change >= 0 ? '+' : ''}${change.toFixed(1)}%)\n`,
  );
}
