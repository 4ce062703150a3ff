import { shopCatalog } from '@catalog-indexer/catalog/testing';
import { loadConfig } from '@catalog-indexer/config';
import { createDataSource, runMigrations } from '@catalog-indexer/db';
import { QdrantEmulator } from '@catalog-indexer/emulators';
import { createLogger, exitOnStartupFailure, maskUrl } from '@catalog-indexer/logger';
import { spawnApp, waitForHttp, type AppProcess } from './app-process';
import { ensureDatabase } from './ensure-database';

/**
 * `pnpm start`: the whole system on one machine. Migrates the database (creating it if needed), starts the
 * Qdrant emulator when no Qdrant is configured, then api, two workers and query as separate processes,
 * indexes a small demo catalog through the HTTP API and prints where to look.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger({ level: config.logLevel, name: 'start' });
  const childEnv: Record<string, string> = { DB_MIGRATE_ON_START: 'false' };

  if (await ensureDatabase(config.postgres.url)) log.info({ database: maskUrl(config.postgres.url) }, 'created the database');
  const dataSource = createDataSource({ url: config.postgres.url, poolSize: 2, applicationName: 'start' });
  await dataSource.initialize();
  const ran = await runMigrations(dataSource);
  await dataSource.destroy();
  log.info({ ran }, ran.length ? 'migrations applied' : 'database up to date');

  let qdrant: QdrantEmulator | undefined;
  if (!config.qdrant.configured) {
    qdrant = new QdrantEmulator();
    const wanted = Number(new URL(config.qdrant.url).port);
    const wantedGrpc = Number(new URL(config.qdrant.grpcUrl).port);
    const started = await qdrant.start(wanted, wantedGrpc).catch(() => qdrant!.start(0, 0));
    childEnv.QDRANT_URL = started.url;
    childEnv.QDRANT_GRPC_PORT = String(started.grpcPort);
    log.warn(
      { url: started.url, grpcUrl: started.grpcUrl, transport: config.qdrant.transport },
      'QDRANT_URL is not set: started the in-memory Qdrant emulator (points are lost on exit)',
    );
  }
  if (config.embeddings.provider === 'local') {
    log.warn('OPENAI_API_KEY is not set: workers and query use the local deterministic embedder (no network)');
  }

  const echo = (name: string) => (line: string) => process.stdout.write(`[${name}] ${line}\n`);
  // Each worker gets its own port for /healthz, /readyz and /metrics: WORKER_PORT and the next one (0: free ones).
  const workerPorts = [0, 1].map((i) => (config.worker.port === 0 ? 0 : config.worker.port + i));
  const apps: AppProcess[] = [
    spawnApp('api', childEnv, { echo: echo('api') }),
    ...workerPorts.map((port, i) =>
      spawnApp('worker', { ...childEnv, WORKER_PORT: String(port) }, { label: `worker-${i + 1}`, echo: echo(`worker-${i + 1}`) }),
    ),
    spawnApp('query', childEnv, { echo: echo('query') }),
  ];
  let stopping = false;
  // The first process that ended on its own: a request to it then fails with a bare "fetch failed".
  let ended: { name: string; code: number | string | null } | undefined;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await Promise.all(apps.map((a) => a.stop()));
    await qdrant?.stop();
    process.exit(code);
  };
  for (const app of apps) {
    void app.exited.then((code) => {
      if (!stopping) {
        ended = { name: app.name, code };
        log.error({ app: app.name, code }, 'a process ended; stopping the others');
        void stopAll(1);
      }
    });
  }
  process.once('SIGINT', () => void stopAll(0));
  process.once('SIGTERM', () => void stopAll(0));

  const api = `http://127.0.0.1:${config.api.port}`;
  const query = `http://127.0.0.1:${config.query.port}`;
  // With API_KEYS set, the demo's requests (and the printed examples) carry the first key.
  const key = config.auth.apiKeys[0];
  const auth: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {};
  let demo: { catalogId: string; result: unknown };
  let search: { results: { kind: string; key: string; score: number }[] };
  try {
    await waitForHttp(`${api}/readyz`, 60_000, () => 'the api is not ready: see its /readyz and the [api] lines above');
    await waitForHttp(`${query}/readyz`, 60_000, () => 'query is not ready: see its /readyz and the [query] lines above');
    demo = await indexDemoCatalog(api, auth);
    const searched = await fetch(`${query}/v1/search`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth },
      body: JSON.stringify({ catalogId: demo.catalogId, query: 'revenue of orders by customer', limit: 3 }),
    });
    if (!searched.ok) throw new Error(`the demo search failed: ${await apiError(searched)}`);
    search = (await searched.json()) as typeof search;
  } catch (error) {
    // Stop the apps too: they would otherwise outlive this process.
    const message = error instanceof Error ? error.message : String(error);
    const reason = ended ? `the ${ended.name} process ended (${String(ended.code)}): see its lines above (then: ${message})` : message;
    log.fatal({ err: error }, `start failed: ${reason}`);
    return stopAll(1);
  }
  const curlAuth = key ? ` -H 'authorization: Bearer <one of API_KEYS>'` : '';

  log.info(
    {
      api,
      query,
      bullBoard: `${api}/admin/queues`,
      demoCatalogId: demo.catalogId,
      demoRun: demo.result,
      sampleSearch: search.results.map((r) => `${r.kind} ${r.key} (${r.score.toFixed(3)})`),
    },
    'catalog-indexer is running: press Ctrl+C to stop',
  );
  process.stdout.write(
    [
      '',
      'catalog-indexer is running',
      `  API          ${api}   (catalogs, reindex, jobs)`,
      `  Bull Board   ${api}/admin/queues`,
      `  Query        ${query}   (POST /v1/search, POST /v1/context)`,
      `  Workers      ${workerPorts.map((p) => (p === 0 ? 'a free port (see its log)' : `http://127.0.0.1:${p}`)).join(', ')}   (/healthz, /readyz, /metrics)`,
      `  Demo catalog ${demo.catalogId}`,
      `  Search:  curl -s -X POST ${query}/v1/search -H 'content-type: application/json'${curlAuth} \\`,
      `             -d '{"catalogId":"${demo.catalogId}","query":"orders per customer","limit":5}'`,
      `  Context: curl -s -X POST ${query}/v1/context -H 'content-type: application/json'${curlAuth} \\`,
      `             -d '{"catalogId":"${demo.catalogId}","question":"Which customers asked for refunds last month?"}'`,
      '',
    ].join('\n'),
  );
}

/** Uploads the demo catalog (once; later starts reuse it), reindexes it and waits for the job. */
async function indexDemoCatalog(api: string, auth: Record<string, string>): Promise<{ catalogId: string; result: unknown }> {
  const json = { 'content-type': 'application/json', ...auth };
  const list = await fetch(`${api}/v1/catalogs?limit=500`, { headers: auth });
  if (!list.ok) throw new Error(`listing the catalogs failed: ${await apiError(list)}`);
  const listed = (await list.json()) as { catalogs: { id: string; name: string }[] };
  let catalogId = listed.catalogs.find((c) => c.name === shopCatalog.name)?.id;
  if (!catalogId) {
    const created = await fetch(`${api}/v1/catalogs`, { method: 'POST', headers: json, body: JSON.stringify(shopCatalog) });
    if (created.status !== 201) throw new Error(`uploading the demo catalog failed: ${created.status} ${await created.text()}`);
    catalogId = ((await created.json()) as { id: string }).id;
  }
  const started = await fetch(`${api}/v1/catalogs/${catalogId}/reindex`, { method: 'POST', headers: json, body: '{}' });
  if (started.status !== 202) throw new Error(`enqueuing the demo reindex failed: ${await apiError(started)}`);
  const { jobId } = (await started.json()) as { jobId: string };
  const deadline = Date.now() + 120_000;
  for (;;) {
    const polled = await fetch(`${api}/v1/jobs/${jobId}`, { headers: auth });
    if (!polled.ok) throw new Error(`reading the demo reindex job ${jobId} failed: ${await apiError(polled)}`);
    const job = (await polled.json()) as { state: string; result: unknown; failedReason: string | null };
    if (job.state === 'completed') return { catalogId, result: job.result };
    if (job.state === 'failed') throw new Error(`the demo reindex failed: ${job.failedReason ?? 'unknown reason'}`);
    if (Date.now() > deadline) throw new Error(`the demo reindex did not finish in time (state ${job.state})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The API's answer to a failed request, as "status code: message" from its error body. */
async function apiError(res: Response): Promise<string> {
  const text = await res.text();
  try {
    const { error } = JSON.parse(text) as { error?: { code?: string; message?: string } };
    if (error?.message) return `${res.status} ${error.code ?? ''}: ${error.message}`;
  } catch {
    // not the API's error shape: show the body as it came
  }
  return `${res.status} ${text.slice(0, 500)}`;
}

main().catch((error: unknown) => exitOnStartupFailure('start', error));
