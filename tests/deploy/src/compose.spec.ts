import { existsSync } from 'node:fs';
import path from 'node:path';
import { readRepoFile, readYaml, ROOT } from './repo-files';

interface Service {
  image?: string;
  build?: unknown;
  environment?: Record<string, string>;
  command?: string | string[];
  ports?: string[];
  profiles?: string[];
  volumes?: string[];
  stop_grace_period?: string;
  healthcheck?: { test: string[] };
}
interface Compose {
  services: Record<string, Service>;
  configs?: Record<string, { content?: string }>;
}

const compose = readYaml<Compose>('docker-compose.yml');
const service = (name: string): Service => {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service "${name}"`);
  return found;
};
const APPS = ['api', 'worker', 'query'];
const STORES = ['postgres', 'redis', 'qdrant'];
/** `${NAME:?message}`: Compose refuses to start without the variable. */
const required = (name: string) => new RegExp(`\\$\\{${name}:\\?[^}]+\\}`);

describe('docker-compose.yml', () => {
  it.each(APPS)('requires API_KEYS for %s', (name) => {
    expect(service(name).environment?.API_KEYS).toMatch(required('API_KEYS'));
  });

  it('sets the Qdrant API key on both sides, from one required variable', () => {
    expect(service('qdrant').environment?.QDRANT__SERVICE__API_KEY).toMatch(required('QDRANT_API_KEY'));
    for (const name of APPS) expect(service(name).environment?.QDRANT_API_KEY).toMatch(required('QDRANT_API_KEY'));
  });

  it('runs Redis with a password the apps connect with', () => {
    const redis = service('redis');
    const command = [redis.command ?? []].flat().join(' ');
    expect(command).toContain('--requirepass "$$REDIS_PASSWORD"');
    expect(redis.environment?.REDIS_PASSWORD).toMatch(required('REDIS_PASSWORD'));
    expect(redis.healthcheck?.test.join(' ')).toContain('REDISCLI_AUTH');
    for (const name of APPS) expect(service(name).environment?.REDIS_URL).toMatch(/^redis:\/\/:\$\{REDIS_PASSWORD:\?[^}]+\}@redis:6379$/);
  });

  it('requires the Postgres password on both sides, with no default', () => {
    expect(service('postgres').environment?.POSTGRES_PASSWORD).toMatch(required('POSTGRES_PASSWORD'));
    for (const name of APPS) expect(service(name).environment?.POSTGRES_PASSWORD).toMatch(required('POSTGRES_PASSWORD'));
  });

  it('publishes Postgres, Redis and Qdrant on the host only when a profile asks, and then on loopback', () => {
    for (const name of STORES) expect(service(name).ports ?? []).toEqual([]);
    const storePorts = /:(5432|6379|6333|6334)$/;
    const publishers = Object.entries(compose.services).filter(([, s]) => (s.ports ?? []).some((p) => storePorts.test(String(p))));
    expect(publishers.length).toBeGreaterThan(0);
    for (const [name, s] of publishers) {
      expect({ name, profiles: s.profiles ?? [] }).toEqual({ name, profiles: [expect.any(String)] });
      for (const port of s.ports ?? []) expect(String(port)).toMatch(/^127\.0\.0\.1:/);
    }
  });

  it('names no setting the services do not read', () => {
    for (const name of APPS) {
      expect(Object.keys(service(name).environment ?? {})).not.toEqual(
        expect.arrayContaining([expect.stringMatching(/^(NODE_ENV|WORKER_HEALTH_PORT|WORKER_METRICS_PORT)$/)]),
      );
    }
  });

  it("sends every app's points to Qdrant over gRPC on its port 6334", () => {
    for (const name of APPS) expect(service(name).environment).toMatchObject({ QDRANT_TRANSPORT: '${QDRANT_TRANSPORT:-grpc}', QDRANT_GRPC_PORT: '6334' });
  });

  it('gives workers one port for health, readiness and metrics, and a minute to finish their jobs', () => {
    const worker = service('worker');
    expect(worker.environment?.WORKER_PORT).toBe('9464');
    expect(worker.healthcheck?.test.join(' ')).toContain('http://127.0.0.1:9464/readyz');
    // Longer than WORKER_SHUTDOWN_TIMEOUT_MS's default (30 s): the worker exits on its own before Docker's SIGKILL.
    expect(worker.stop_grace_period).toBe('35s');
  });

  it("starts workers with the V8 options of the worker's start:prod", () => {
    const worker = service('worker');
    const scripts = (JSON.parse(readRepoFile('apps/worker/package.json')) as { scripts: Record<string, string> }).scripts;
    expect(scripts['start:prod']).toBe('node --max-semi-space-size=4 --no-concurrent-recompilation --no-wasm-dynamic-tiering --no-wasm-tier-up dist/main.js');
    // What Node accepts in NODE_OPTIONS is set there; V8's own options go on the command line.
    expect(worker.environment?.NODE_OPTIONS).toBe('--max-semi-space-size=4');
    expect(worker.command).toEqual(['node', '--no-concurrent-recompilation', '--no-wasm-dynamic-tiering', '--no-wasm-tier-up', 'dist/main.js']);
  });

  it('starts Prometheus and Grafana with the files of deploy/ in the observability profile', () => {
    const prometheus = service('prometheus');
    const grafana = service('grafana');
    expect(prometheus.profiles).toEqual(['observability']);
    expect(grafana.profiles).toEqual(['observability']);
    const mounted = [...(prometheus.volumes ?? []), ...(grafana.volumes ?? [])]
      .map((v) => v.split(':')[0]!)
      .filter((source) => source.startsWith('./'));
    expect(mounted).toEqual(['./deploy/prometheus.yml', './deploy/grafana/provisioning', './deploy/grafana/dashboards']);
    for (const source of mounted) expect(existsSync(path.join(ROOT, source))).toBe(true);
    expect(compose.configs?.['prometheus-api-key']?.content).toContain('API_KEYS');
  });
});
