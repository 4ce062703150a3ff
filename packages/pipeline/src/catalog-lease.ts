import { type Fence, type LeaseRepository } from '@catalog-indexer/db';
import { type Logger } from '@catalog-indexer/logger';

/**
 * Tells whether the holder of a lease is still at work, from outside Postgres (the queue that carries the
 * holder's job). A lease whose renewals stopped because Postgres was out of reach has expired there, yet its
 * holder is only blocked: it goes on, with the same fence, once Postgres answers again.
 */
export interface HolderLiveness {
  /** True while `holder` will go on with its work (its job is waiting, delayed, active or waiting for children). */
  alive(holder: string): Promise<boolean>;
}

/** What a holder's name becomes once it released its lease (see {@link LeaseRepository.release}). */
const RELEASED_SUFFIX = ':released';

/**
 * The one-writer-per-catalog lease as the pipeline uses it: acquire, keep alive while working, release.
 * See {@link LeaseRepository} for the guarantees (expiry, fencing). With a {@link HolderLiveness}, an expired
 * lease is taken over only when its holder is gone, not merely late to renew it.
 */
export class CatalogLease {
  /** Renewals in flight, by catalog and fence: a release waits for them (see {@link CatalogLease.release}). */
  private readonly renewals = new Map<string, Promise<void>>();

  constructor(
    private readonly leases: LeaseRepository,
    readonly ttlMs: number,
    private readonly logger: Logger,
    private readonly liveness?: HolderLiveness,
  ) {}

  /**
   * The fence of a lease granted to `holder`, or null while another writer holds the catalog: its lease is
   * live, or expired but its holder is still alive (see {@link HolderLiveness}).
   */
  async acquire(catalogId: string, holder: string): Promise<Fence | null> {
    if (this.liveness) {
      const current = await this.leases.get(catalogId);
      if (current?.expired && current.holder !== holder && (await this.holderAlive(current.holder))) {
        this.logger.debug({ catalogId, holder: current.holder }, 'catalog lease expired but its holder is alive: not taken over');
        return null;
      }
    }
    return this.leases.acquire(catalogId, holder, this.ttlMs);
  }

  /** Whether the holder of a lease is still at work (false once it released the lease, or without liveness). */
  async holderAlive(holder: string): Promise<boolean> {
    if (!this.liveness || holder.endsWith(RELEASED_SUFFIX)) return false;
    return this.liveness.alive(holder);
  }

  /** Whether the fence is still current (a cheap check before work that costs money). */
  holds(fence: Fence): Promise<boolean> {
    return this.leases.holds(fence);
  }

  /**
   * Renews the lease every third of its time to live until the returned function is called. A renewal that
   * finds the lease taken over calls `onLost` (writes would fail anyway: they check the fence).
   */
  keepAlive(fence: Fence, onLost?: () => void): () => void {
    let stopped = false;
    const key = renewalKey(fence);
    const timer = setInterval(() => {
      const renewal = this.leases.renew(fence, this.ttlMs).then(
        (held) => {
          if (!held && !stopped) {
            stopped = true;
            clearInterval(timer);
            this.logger.warn({ catalogId: fence.catalogId, fence: fence.fence }, 'catalog lease was taken over');
            onLost?.();
          }
        },
        (error: unknown) => this.logger.warn({ catalogId: fence.catalogId, err: error }, 'could not renew the catalog lease'),
      );
      this.renewals.set(key, renewal);
      void renewal.then(() => {
        if (this.renewals.get(key) === renewal) this.renewals.delete(key);
      });
    }, Math.max(50, Math.floor(this.ttlMs / 3)));
    timer.unref();
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }

  /**
   * Ends the lease at once. Waits first for a renewal still in flight: landing after the release, it would
   * extend the released lease and keep the next writer out for a whole time to live.
   */
  async release(fence: Fence): Promise<void> {
    await this.renewals.get(renewalKey(fence));
    await this.leases.release(fence).catch((error: unknown) => {
      // An unreleased lease expires by itself; the next writer waits at most its time to live.
      this.logger.warn({ catalogId: fence.catalogId, err: error }, 'could not release the catalog lease');
    });
  }
}

function renewalKey(fence: Fence): string {
  return `${fence.catalogId}:${fence.fence}`;
}
