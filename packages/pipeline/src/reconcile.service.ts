import { type CleanupDeps } from './cleanup.service';
import { forgetDeletedCatalog } from './forget-catalog';
import { LeaseSection } from './lease-section';
import { StoreSync } from './store-sync';

export interface CatalogDrift {
  catalogId: string;
  status: 'repaired' | 'busy' | 'deleted';
  rows: number;
  points: number;
  /** Points no row owns (deleted). */
  orphanPoints: number;
  /** Active rows without a point (a reindex is asked for). */
  missingPoints: number;
  /** Pending rows no running run owns (a reindex is asked for: it reuses or removes them). */
  strayPending: number;
  /** Outbox deletes done. */
  outboxDeleted: number;
  /** Whether the catalog needs a reindex to repair what Qdrant lost. */
  needsReindex: boolean;
}

/** What a reconcile reports: the drift found and repaired, summed over the catalogs it looked at. */
export interface ReconcileSummary {
  catalogs: number;
  /** Catalogs held by another writer (not looked at). */
  busy: number;
  /** Deleted catalogs that still had rows or points. */
  deletedCatalogs: number;
  orphanPoints: number;
  missingPoints: number;
  strayPending: number;
  outboxDeleted: number;
}

/** Sums the drifts of a reconcile (see {@link ReconcileSummary}). */
export function summarizeDrifts(drifts: readonly CatalogDrift[]): ReconcileSummary {
  const sum = (k: 'orphanPoints' | 'missingPoints' | 'strayPending' | 'outboxDeleted') => drifts.reduce((s, d) => s + d[k], 0);
  return {
    catalogs: drifts.length,
    busy: drifts.filter((d) => d.status === 'busy').length,
    deletedCatalogs: drifts.filter((d) => d.status === 'deleted' && d.rows + d.points > 0).length,
    orphanPoints: sum('orphanPoints'),
    missingPoints: sum('missingPoints'),
    strayPending: sum('strayPending'),
    outboxDeleted: sum('outboxDeleted'),
  };
}

/** The reconciler needs what a cleanup needs: the repositories, the lease and the store. */
export type ReconcileDeps = CleanupDeps;

/**
 * Compares each catalog's rows with its points and repairs both directions, under the catalog's lease:
 * points no row owns are deleted; active rows whose point is gone, and pending rows left by runs that
 * stopped, are reported as needing a reindex (which embeds the missing chunks again, or reuses the pending
 * ones). Rows and points of catalogs that no longer exist are removed. Also retries the delete outbox and
 * closes runs whose holders are gone (`abandoned`), so no run stays `running`; a run whose lease expired while
 * its holder is alive (see {@link HolderLiveness}) is left to go on.
 */
export class ReconcileService {
  private readonly lease: LeaseSection;
  private readonly sync: StoreSync;

  constructor(private readonly deps: ReconcileDeps) {
    this.lease = new LeaseSection(deps);
    this.sync = new StoreSync(deps.embeddings, deps.deletions, deps.store, deps.logger);
  }

  /** Reconciles one catalog (existing or deleted). */
  async reconcileCatalog(catalogId: string, holder: string): Promise<CatalogDrift> {
    const empty = { catalogId, rows: 0, points: 0, orphanPoints: 0, missingPoints: 0, strayPending: 0, outboxDeleted: 0, needsReindex: false };
    const outcome = await this.lease.withLease(catalogId, holder, async ({ fence }): Promise<CatalogDrift> => {
      const { catalogs, embeddings, runs, store } = this.deps;
      const catalog = await catalogs.get(catalogId);
      if (!catalog) {
        const forgotten = await forgetDeletedCatalog(this.deps, this.sync, fence);
        return { ...empty, status: 'deleted', rows: forgotten.rows, points: forgotten.points, orphanPoints: forgotten.points, outboxDeleted: forgotten.outboxDeleted };
      }
      await runs.abandonOthers(catalogId, null, 'superseded: its holder stopped');
      const run = await runs.start(catalogId, 'reconcile', null, catalog.version);
      const drained = await this.sync.drainOutbox(catalogId);
      const check = await this.sync.removeOrphanPoints(catalogId);
      const counts = await embeddings.counts(catalogId);
      const points = await store.count(catalogId);
      const drift: CatalogDrift = {
        catalogId,
        status: 'repaired',
        rows: counts.active + counts.pending,
        points,
        orphanPoints: check.orphanPoints,
        missingPoints: check.missingPoints,
        strayPending: counts.pending,
        outboxDeleted: drained.deleted,
        needsReindex: check.missingPoints > 0 || counts.pending > 0,
      };
      await runs.complete(run.id, { deleted: check.orphanPoints }, { ...drift });
      if (drift.orphanPoints + drift.missingPoints + drift.strayPending > 0) this.deps.logger.warn({ ...drift }, 'reconcile found drift');
      return drift;
    });
    return outcome.kind === 'busy' ? { ...empty, status: 'busy' } : outcome.value;
  }

  /**
   * Reconciles every catalog known to either store: live catalogs, catalogs that still have rows, and
   * tenants that still have points. Retries the outbox first and closes runs whose holders are gone.
   */
  async reconcileAll(holder: string): Promise<CatalogDrift[]> {
    const { catalogs, embeddings, runs, store } = this.deps;
    await this.sync.drainOutbox();
    // A lease that expired while its holder is alive (renewals stopped by a Postgres outage) keeps its runs.
    const alive: string[] = [];
    for (const holder of await runs.expiredHolders()) if (await this.lease.holderAlive(holder)) alive.push(holder);
    const abandoned = await runs.abandonOrphaned('its holder stopped and its lease expired', alive);
    if (abandoned > 0) this.deps.logger.warn({ abandoned }, 'runs of stopped holders marked abandoned');
    const ids = new Set<string>();
    for (const c of await catalogs.list(1_000_000, 0)) ids.add(c.id);
    for (const r of await embeddings.catalogsWithRows()) ids.add(r.catalogId);
    for (const id of await store.catalogIds()) ids.add(id);
    const out: CatalogDrift[] = [];
    for (const id of ids) out.push(await this.reconcileCatalog(id, `${holder}:${id}`));
    return out;
  }
}
