import { registry } from '@catalog-indexer/metrics';
import { readRepoFile, readYaml } from './repo-files';

interface Panel {
  title: string;
  targets?: { expr: string }[];
}

const dashboard = JSON.parse(readRepoFile('deploy/grafana/dashboards/catalog-indexer.json')) as { panels: Panel[] };
const expressions = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

/** Every series name the services can export: each family, and a histogram's `_bucket`, `_sum` and `_count`. */
async function exportedNames(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const metric of await registry.getMetricsAsJSON()) {
    names.add(metric.name);
    if (String(metric.type) === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(metric.name + suffix);
  }
  return names;
}

/** Metric names of a PromQL expression: identifiers that are not functions, keywords or label names. */
function metricNames(expr: string): string[] {
  const withoutLabels = expr.replace(/\{[^}]*\}/g, '').replace(/\b(by|without)\s*\([^)]*\)/g, '');
  return [...withoutLabels.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()/g)]
    .map((m) => m[1]!)
    .filter((name) => name.startsWith('cidx_'));
}

describe('the Grafana dashboard', () => {
  it('has the panels an operator looks at first', () => {
    const all = expressions.map((e) => e.expr).join('\n');
    for (const family of [
      'cidx_queue_jobs',
      'cidx_jobs_total',
      'cidx_embedding_tokens_total',
      'cidx_embedding_rate_limited_total',
      'cidx_qdrant_call_duration_seconds_bucket',
      'cidx_postgres_query_duration_seconds_bucket',
      'cidx_http_request_duration_seconds_bucket{service="query"}',
    ]) {
      expect(all).toContain(family);
    }
  });

  it('names only metrics the services export, in every expression', async () => {
    const exported = await exportedNames();
    for (const { panel, expr } of expressions) {
      const names = metricNames(expr);
      expect({ panel, names: names.length > 0 }).toEqual({ panel, names: true });
      for (const name of names) expect({ panel, name, exported: exported.has(name) }).toEqual({ panel, name, exported: true });
    }
  });

  it('is provisioned from the folder Grafana mounts, against the Prometheus that scrapes the services', () => {
    const provider = readYaml<{ providers: { options: { path: string } }[] }>('deploy/grafana/provisioning/dashboards/catalog-indexer.yml');
    expect(provider.providers[0]?.options.path).toBe('/var/lib/grafana/dashboards');
    const prometheus = readYaml<{ scrape_configs: { job_name: string }[] }>('deploy/prometheus.yml');
    expect(prometheus.scrape_configs.map((c) => c.job_name).sort()).toEqual(['api', 'query', 'worker']);
  });
});
