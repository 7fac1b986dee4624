// The chart's Grafana dashboard: a sidecar-labelled ConfigMap only with dashboard.enabled, and every metric its PromQL names is one the runtime or the controller registers.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadAllYaml, type KubernetesObject, type V1ConfigMap } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import { ControllerMetrics } from '../../controller/src/machinery/metrics.js';
import { createMetrics } from '../../runtime-image/src/process/metrics.js';
import { helm } from '../env/src/helm.js';

const chartDir = fileURLToPath(new URL('../../charts/sluice/', import.meta.url));
const dashboardFile = `${chartDir}dashboards/sluice.json`;

/** The parts of a Grafana dashboard the tests read. */
interface Dashboard {
  schemaVersion: number;
  templating: { list: { name: string; type: string; query: unknown }[] };
  panels: Panel[];
}
interface Panel {
  type: string;
  title: string;
  targets?: { expr: string }[];
  fieldConfig?: { defaults: { thresholds?: { steps: { color: string; value: number | null }[] } } };
}

/** The chart rendered for release `sluice` in sluice-system; `values` are --set pairs. */
async function render(values: Record<string, string>): Promise<KubernetesObject[]> {
  const sets = Object.entries({ 'kafka.bootstrap': 'kafka:9092', ...values }).flatMap(([key, value]) => ['--set', `${key}=${value}`]);
  const rendered = await helm(['template', 'sluice', chartDir, '--namespace', 'sluice-system', ...sets]);
  return (loadAllYaml(rendered) as (KubernetesObject | null)[]).filter((object): object is KubernetesObject => object !== null);
}

const dashboardConfigMaps = (objects: KubernetesObject[]): V1ConfigMap[] =>
  objects.filter((object): object is V1ConfigMap => object.kind === 'ConfigMap' && object.metadata?.name === 'sluice-dashboard');

// Words of PromQL that look like metric names but are operators or modifiers.
const promqlKeywords = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan']);

/** The metric names a PromQL expression selects: identifiers that are not functions, keywords, labels, strings or variables. */
function metricNames(expr: string): string[] {
  if (expr.includes('__name__')) throw new Error(`${expr}: select metrics by name, not by __name__, so that the test can check them`);
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{[^}]*\}|\$\w+/g, ' ')
    .replace(/(?<![\w:])\d[\w.]*/g, ' ');
  return [...bare.matchAll(/[A-Za-z_:][\w:]*(?!\s*\(|[\w:])/g)].map(([name]) => name).filter((name) => !promqlKeywords.has(name.toLowerCase()));
}

/** Every metric named by a panel's `expr` (rows' nested panels included) or by a query variable. */
function dashboardMetrics(dashboard: Dashboard): Set<string> {
  const names = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (typeof node === 'object' && node !== null) {
      for (const [key, value] of Object.entries(node)) {
        if (key === 'expr' && typeof value === 'string') metricNames(value).forEach((name) => names.add(name));
        else visit(value);
      }
    }
  };
  visit(dashboard.panels);
  for (const variable of dashboard.templating.list.filter(({ type }) => type === 'query')) {
    // label_values(selector, label): the last argument is a label, not a metric.
    const selector = String(variable.query).replace(/^\s*label_values\((.*),\s*\w+\s*\)\s*$/, '$1');
    metricNames(selector).forEach((name) => names.add(name));
  }
  return names;
}

/** The series names a registry exposes: counters as registered (with _total), histograms and summaries with their suffixes. */
async function exportedNames(registry: Registry): Promise<string[]> {
  // prom-client types `type` as a numeric enum, but it is the exposition's type string at run time.
  const suffixes: Record<string, string[]> = { histogram: ['_bucket', '_sum', '_count'], summary: ['_sum', '_count'] };
  return (await registry.getMetricsAsJSON()).flatMap(({ name, type }) => [name, ...(suffixes[String(type)] ?? []).map((suffix) => `${name}${suffix}`)]);
}

/** The metrics of a StreamJob's pod and of the controller, from the very code that registers them. */
async function registeredMetrics(): Promise<{ runtime: string[]; controller: string[] }> {
  const runtime = createMetrics('fraud-velocity', () => [{ partition: 0, lag: 3, watermark: Date.now() }]);
  return { runtime: await exportedNames(runtime.registry), controller: await exportedNames(new ControllerMetrics().registry) };
}

/** Metrics the dashboard names that neither the runtime nor the controller registers. */
async function unknownMetrics(dashboard: Dashboard): Promise<string[]> {
  const { runtime, controller } = await registeredMetrics();
  const exported = new Set([...runtime, ...controller]);
  return [...dashboardMetrics(dashboard)].filter((name) => !exported.has(name)).sort();
}

const readDashboard = (): Dashboard => JSON.parse(readFileSync(dashboardFile, 'utf8')) as Dashboard;

describe('the sluice chart’s Grafana dashboard', () => {
  it('is left out unless dashboard.enabled', async () => {
    expect(dashboardConfigMaps(await render({}))).toEqual([]);
    expect(dashboardConfigMaps(await render({ 'dashboard.enabled': 'false' }))).toEqual([]);
  });

  it('renders as a ConfigMap with the Grafana sidecar label, whose key, value and namespace are configurable', async () => {
    const [configMap, ...others] = dashboardConfigMaps(await render({ 'dashboard.enabled': 'true' }));
    expect(others).toEqual([]);
    expect(configMap!.metadata).toMatchObject({ namespace: 'sluice-system', labels: { grafana_dashboard: '1', 'app.kubernetes.io/instance': 'sluice' } });
    expect(JSON.parse(configMap!.data!['sluice.json']!)).toEqual(readDashboard());

    const [custom] = dashboardConfigMaps(
      await render({
        'dashboard.enabled': 'true',
        'dashboard.label.key': 'grafana/dashboard',
        'dashboard.label.value': 'sluice',
        'dashboard.namespace': 'monitoring',
        'dashboard.annotations.grafana_folder': 'Sluice',
      }),
    );
    expect(custom!.metadata?.namespace).toBe('monitoring');
    expect(custom!.metadata?.labels).toMatchObject({ 'grafana/dashboard': 'sluice' });
    expect(custom!.metadata?.labels).not.toHaveProperty('grafana_dashboard');
    expect(custom!.metadata?.annotations).toEqual({ grafana_folder: 'Sluice' });
  });

  it('lints clean with the dashboard enabled', async () => {
    const output = await helm(['lint', chartDir, '--strict', '--set', 'kafka.bootstrap=kafka:9092', '--set', 'dashboard.enabled=true']);
    expect(output).toContain('0 chart(s) failed');
  });

  it('is a schemaVersion 39 dashboard with a Prometheus datasource variable and namespace and job variables from label_values', () => {
    const dashboard = readDashboard();
    expect(dashboard.schemaVersion).toBe(39);
    const variables = Object.fromEntries(dashboard.templating.list.map((variable) => [variable.name, variable]));
    expect(variables.datasource).toMatchObject({ type: 'datasource', query: 'prometheus' });
    expect(variables.namespace?.type).toBe('query');
    expect(variables.namespace?.query).toMatch(/^label_values\(.*, namespace\)$/);
    expect(variables.job?.type).toBe('query');
    expect(variables.job?.query).toMatch(/^label_values\(.*, job\)$/);
  });

  it('names only metrics that the runtime or the controller registers', async () => {
    expect(await unknownMetrics(readDashboard())).toEqual([]);
  });

  it('shows every metric of the runtime and of the controller', async () => {
    const { runtime, controller } = await registeredMetrics();
    const used = [...dashboardMetrics(readDashboard())];
    const shown = (name: string): boolean =>
      used.some((metric) => metric === name || ['_bucket', '_sum', '_count'].some((suffix) => metric === `${name}${suffix}`));
    const baseNames = (names: string[]): string[] =>
      names.filter((name) => !/_(bucket|sum|count)$/.test(name) || !names.includes(name.replace(/_(bucket|sum|count)$/, '')));
    expect([...baseNames(runtime), ...baseNames(controller)].filter((name) => !shown(name))).toEqual([]);
  });

  it('fails a panel that names a metric nobody exports', async () => {
    const dashboard = readDashboard();
    dashboard.panels.push({
      type: 'timeseries',
      title: 'Dropped records',
      targets: [
        {
          expr: 'sum by (job) (rate(sluice_records_dropped_total{job=~"$job"}[$__rate_interval])) / on (job) group_left sum by (job) (rate(sluice_records_in_total[5m]))',
        },
      ],
    });
    expect(await unknownMetrics(dashboard)).toEqual(['sluice_records_dropped_total']);
    expect(metricNames('histogram_quantile(0.99, sum by (le) (rate(a_seconds_bucket{le="+Inf", x=~"a,b"}[1m] offset 5m))) > bool 1e3 or vector(0)')).toEqual([
      'a_seconds_bucket',
    ]);
  });

  it('shows failed savepoints as a stat that turns red', () => {
    const failed = readDashboard().panels.find((panel) =>
      panel.targets?.some(({ expr }) => expr.includes('sluice_streamjob_savepoints_total') && expr.includes('result="failed"')),
    );
    expect(failed?.type).toBe('stat');
    expect(failed?.fieldConfig?.defaults.thresholds?.steps).toContainEqual({ color: 'red', value: 1 });
  });
});
