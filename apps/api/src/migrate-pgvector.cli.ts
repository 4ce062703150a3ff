import { parseArgs } from 'node:util';
import { loadConfig } from '@catalog-indexer/config';
import { exitOnStartupFailure } from '@catalog-indexer/logger';

const USAGE = 'pnpm migrate:pgvector [--from URL] [--table NAME] [--model NAME] [--dry-run] [--drop-legacy] [--rollback] [--api URL]';

/**
 * `pnpm migrate:pgvector`: asks the api for the same job as `POST /v1/migrations/pgvector` (or `/rollback`)
 * and follows it to its end, with a progress bar on a terminal and plain lines otherwise. Exits 1 when the
 * request is refused or the job fails. Without `--from`, adopts the install's own database in place.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      from: { type: 'string' },
      table: { type: 'string' },
      model: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      'drop-legacy': { type: 'boolean', default: false },
      rollback: { type: 'boolean', default: false },
      api: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  const out = process.stdout;
  if (values.help) {
    out.write(`${USAGE}\n`);
    return;
  }
  const config = loadConfig();
  const api = values.api ?? `http://127.0.0.1:${config.api.port}`;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const key = config.auth.apiKeys[0];
  if (key) headers.authorization = `Bearer ${key}`;
  const body = values.rollback
    ? { targetUrl: values.from, table: values.table }
    : { sourceUrl: values.from, table: values.table, model: values.model, dryRun: values['dry-run'], dropLegacy: values['drop-legacy'] };
  const path = values.rollback ? '/v1/migrations/pgvector/rollback' : '/v1/migrations/pgvector';
  const res = await fetch(`${api}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
  const answer = (await res.json()) as { jobId?: string; statusUrl?: string; error?: { code: string; message: string } };
  if (res.status !== 202 || !answer.statusUrl) {
    out.write(`refused (${res.status} ${answer.error?.code ?? ''}): ${answer.error?.message ?? JSON.stringify(answer)}\n`);
    process.exitCode = 1;
    return;
  }
  out.write(`job ${answer.jobId ?? ''}\n`);
  const tty = out.isTTY === true;
  let last = '';
  for (;;) {
    const job = (await (await fetch(`${api}${answer.statusUrl}`, { headers })).json()) as { state: string; progress: unknown; result: unknown; failedReason: string | null };
    const line = progressLine(job.state, job.progress);
    if (tty) out.write(`\r${line.padEnd(80)}`);
    else if (line !== last) out.write(`${line}\n`);
    last = line;
    if (job.state === 'completed') {
      out.write(`${tty ? '\n' : ''}${JSON.stringify(job.result, null, 2)}\n`);
      return;
    }
    if (job.state === 'failed') {
      out.write(`${tty ? '\n' : ''}failed: ${job.failedReason ?? 'unknown reason'}\n`);
      process.exitCode = 1;
      return;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** `copying [#####-----] 1200/4000 rows` from the job's progress. */
function progressLine(state: string, progress: unknown): string {
  const p = (typeof progress === 'object' && progress !== null ? progress : {}) as { phase?: string; rows?: number; total?: number; restored?: number };
  if (typeof p.rows !== 'number') return state;
  const total = p.total ?? 0;
  const width = 30;
  const filled = total > 0 ? Math.min(width, Math.round((p.rows / total) * width)) : 0;
  const bar = total > 0 ? ` [${'#'.repeat(filled)}${'-'.repeat(width - filled)}]` : '';
  return `${p.phase ?? state}${bar} ${p.rows}${total > 0 ? `/${total}` : ''} rows`;
}

main().catch((error: unknown) => exitOnStartupFailure('migrate-pgvector', error));
