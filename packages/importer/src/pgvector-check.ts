import { type PgvectorAdoptionRepository } from '@catalog-indexer/db';
import { AdoptionError } from './adoption.error';
import { LOOPBACK_ONLY } from './source-policy';
import { openSource, type LegacyLayout, type LegacySource } from './pgvector-source';

/** The table an adoption in place reads: where the product's migrations kept the pgvector-era table. */
export const IN_PLACE_TABLE = 'dq_embeddings_pgvector';
const DEFAULT_MODEL = 'text-embedding-3-large';

/** The embedding space an install serves: who embeds, with which model, at which size. */
export interface ServedSpace {
  provider: 'openai' | 'local';
  model: string;
  dimensions: number;
}

export interface AdoptionRequest {
  /** A separate source; absent: the product's own database, table `dq_embeddings_pgvector`. */
  sourceUrl?: string | null;
  table?: string;
  model?: string;
  dryRun?: boolean;
  dropLegacy?: boolean;
}

/** What checking a request needs: the product's database and the space it serves. */
export interface CheckDeps {
  adoptions: PgvectorAdoptionRepository;
  space: ServedSpace;
  databaseUrl: string;
  /** `IMPORT_ALLOWED_HOSTS`: the servers a caller's `sourceUrl` may name (loopback only when not given). */
  allowedHosts?: readonly string[];
}

/**
 * Connects to the source and checks, before anything is written, that the table holds vectors of the
 * served space; `dropLegacy` also needs a verified adoption of every row the source holds now.
 * @throws AdoptionError saying what to fix
 */
export async function checkAdoption(deps: CheckDeps, request: AdoptionRequest): Promise<{ source: string; layout: LegacyLayout }> {
  const { db, source, layout, close } = await openLegacy(deps, request);
  try {
    if (request.dropLegacy && !request.dryRun) await requireVerified(deps, db, source, layout);
    return { source, layout };
  } finally {
    await close();
  }
}

/**
 * Connects to the target of a rollback and checks that the table is there, before anything is written.
 * @throws AdoptionError saying what to fix
 */
export async function checkRollback(deps: CheckDeps, request: { targetUrl?: string | null; table?: string }): Promise<void> {
  const url = request.targetUrl ?? deps.databaseUrl;
  const table = request.table ?? (request.targetUrl ? 'dq_embeddings' : IN_PLACE_TABLE);
  const db = await openSource(url, request.targetUrl ? { allowedHosts: deps.allowedHosts ?? LOOPBACK_ONLY } : {});
  try {
    if (!(await db.hasTable(table))) throw new AdoptionError('source_table_not_found', `${db.display} has no table "${table}": give the pgvector table as "table"`);
  } finally {
    await db.close();
  }
}

export async function openLegacy(deps: CheckDeps, request: AdoptionRequest): Promise<{ db: LegacySource; source: string; layout: LegacyLayout; close: () => Promise<void> }> {
  const url = request.sourceUrl ?? deps.databaseUrl;
  const table = request.table ?? (request.sourceUrl ? 'dq_embeddings' : IN_PLACE_TABLE);
  const db = await openSource(url, request.sourceUrl ? { allowedHosts: deps.allowedHosts ?? LOOPBACK_ONLY } : {});
  try {
    const layout = await db.inspect(table);
    checkSpace(deps.space, layout, request.model ?? DEFAULT_MODEL);
    return { db, source: `${db.display} ${table}`, layout, close: () => db.close() };
  } catch (error) {
    await db.close();
    throw error;
  }
}

/** Legacy vectors are OpenAI's: only an install serving the same model and size may take them. */
function checkSpace(space: ServedSpace, layout: LegacyLayout, model: string): void {
  if (layout.dimensions === 0) return;
  if (space.provider === 'openai' && space.model === model && space.dimensions === layout.dimensions) return;
  const served = space.provider === 'openai' ? `OpenAI ${space.model} at ${space.dimensions} dimensions` : `the local embedder at ${space.dimensions} dimensions (no OPENAI_API_KEY)`;
  throw new AdoptionError(
    'space_mismatch',
    `the legacy vectors are ${model} at ${layout.dimensions} dimensions, but this install serves ${served}: ` +
      `set OPENAI_API_KEY, EMBEDDING_MODEL=${model} and EMBEDDING_DIMENSIONS=${layout.dimensions} on every service (or give "model" if the legacy vectors came from another model); nothing was written`,
    { legacy: { model, dimensions: layout.dimensions }, served: space },
  );
}

export async function requireVerified(deps: CheckDeps, db: LegacySource, source: string, layout: LegacyLayout): Promise<void> {
  const record = await deps.adoptions.record(source);
  if (!record?.verifiedAt || record.verified?.ok !== true) {
    throw new AdoptionError(
      'adoption_not_verified',
      `${source} has no verified adoption yet: adopt it first (the same request without dropLegacy), then drop the legacy column`,
    );
  }
  const counts = layout.has.catalog_id ? await db.migratableCounts(layout) : new Map<string, number>();
  const migratable = [...counts.values()].reduce((s, n) => s + n, 0);
  if (Number(record.verified.migratable) !== migratable) {
    throw new AdoptionError(
      'adoption_not_verified',
      `${source} has ${migratable} rows to adopt but its verified adoption covered ${String(record.verified.migratable)}: adopt it again first`,
    );
  }
}

