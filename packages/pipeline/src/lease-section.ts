import { type Fence, FencedError, type LeaseRepository } from '@catalog-indexer/db';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Logger } from '@catalog-indexer/logger';
import { CatalogLease, type HolderLiveness } from './catalog-lease';

/** How long a catalog lease lives without renewal when the configuration does not say. */
export const DEFAULT_LEASE_TTL_MS = 60_000;

/** What every writer of a catalog's index needs to take its lease. */
export interface LeaseDeps {
  leases: LeaseRepository;
  logger: Logger;
  /** How long a catalog lease lives without renewal (default {@link DEFAULT_LEASE_TTL_MS}). */
  leaseTtlMs?: number;
  /**
   * Whether the holder of an expired lease is still at work: such a lease is not taken over (a Postgres
   * outage stops renewals, not the run). Without it, an expired lease is taken over.
   */
  liveness?: HolderLiveness;
}

/** The lease as the work inside a section sees it. */
export interface HeldLease {
  readonly fence: Fence;
  /**
   * Aborted, with a {@link FencedError} as its reason, once a renewal finds the lease taken over: the work
   * may stop early (its writes would be refused anyway, they check the fence).
   */
  readonly signal: AbortSignal;
  /**
   * Leaves the lease held when the section ends, for a run that goes on in a later job (a reindex waiting
   * for its batches, or retried after a fault): it is released by the section that ends the run.
   */
  keep(): void;
}

export type LeaseOutcome<T> = { kind: 'busy' } | { kind: 'done'; value: T };
export type ResumeOutcome<T> = { kind: 'lost' } | { kind: 'done'; value: T };

/**
 * The one way to write a catalog's index: run the work under the catalog's lease. The section takes the
 * lease (or reports `busy` while another writer holds it), renews it while the work runs, and releases it
 * when the work ends, whichever way it ends, unless the work asked to {@link HeldLease.keep} it. Every write
 * inside checks the fence (see {@link LeaseRepository.fenced}).
 */
export class LeaseSection {
  private readonly lease: CatalogLease;

  constructor(deps: LeaseDeps) {
    this.lease = new CatalogLease(deps.leases, deps.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS, deps.logger, deps.liveness);
  }

  get ttlMs(): number {
    return this.lease.ttlMs;
  }

  /** Runs `work` holding the catalog's lease as `holder`, or answers `busy` while another writer holds it. */
  async withLease<T>(catalogId: string, holder: string, work: (held: HeldLease) => Promise<T>): Promise<LeaseOutcome<T>> {
    const fence = await this.lease.acquire(catalogId, holder);
    if (!fence) return { kind: 'busy' };
    return { kind: 'done', value: await this.hold(fence, work) };
  }

  /**
   * Runs `work` under a lease an earlier job of the same `holder` took (a run resumed after waiting or a
   * retry): the lease is taken again with the same fence, or the section answers `lost` when another writer
   * took the catalog meanwhile (a lease taken afresh is given back at once).
   */
  async resume<T>(fence: Fence, holder: string, work: (held: HeldLease) => Promise<T>): Promise<ResumeOutcome<T>> {
    const current = await this.lease.acquire(fence.catalogId, holder);
    if (current?.fence !== fence.fence) {
      if (current) await this.lease.release(current);
      return { kind: 'lost' };
    }
    return { kind: 'done', value: await this.hold(fence, work) };
  }

  /**
   * Keeps alive, while `work` runs, a lease another job of the same run holds (a batch of a fanned-out
   * reindex): neither takes nor releases it.
   */
  async sustain<T>(fence: Fence, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    const stop = this.lease.keepAlive(fence, () => controller.abort(new FencedError(fence.catalogId, fence.fence)));
    try {
      return await work(controller.signal);
    } finally {
      stop();
    }
  }

  /**
   * Runs `work` that writes the index of several catalogs (an adoption): `leaseOf(catalogId)` takes that
   * catalog's lease the first time the work needs it, waiting up to `waitMs` while another writer holds it,
   * and keeps it alive; every lease taken is released when the work ends, whichever way it ends.
   */
  async withLeasesOf<T>(holder: string, waitMs: number, work: (leaseOf: (catalogId: string) => Promise<Fence>) => Promise<T>): Promise<T> {
    const held = new Map<string, { fence: Fence; stop: () => void }>();
    const leaseOf = async (catalogId: string): Promise<Fence> => {
      const current = held.get(catalogId);
      if (current) return current.fence;
      const deadline = Date.now() + waitMs;
      for (;;) {
        const fence = await this.lease.acquire(catalogId, holder);
        if (fence) {
          held.set(catalogId, { fence, stop: this.lease.keepAlive(fence) });
          return fence;
        }
        if (Date.now() > deadline) throw new Error(`catalog ${catalogId} stayed held by another writer for ${waitMs} ms`);
        await sleep(Math.min(500, waitMs));
      }
    };
    try {
      return await work(leaseOf);
    } finally {
      for (const { fence, stop } of held.values()) {
        stop();
        await this.lease.release(fence);
      }
    }
  }

  /** Whether the fence is still current (a cheap check before work that costs money). */
  holds(fence: Fence): Promise<boolean> {
    return this.lease.holds(fence);
  }

  /** Whether `holder` is still at work (see {@link HolderLiveness}); false without liveness. */
  holderAlive(holder: string): Promise<boolean> {
    return this.lease.holderAlive(holder);
  }

  /** Throws {@link FencedError} unless the fence is still current. */
  async assertHeld(fence: Fence): Promise<void> {
    if (!(await this.lease.holds(fence))) throw new FencedError(fence.catalogId, fence.fence);
  }

  private async hold<T>(fence: Fence, work: (held: HeldLease) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    let kept = false;
    const stop = this.lease.keepAlive(fence, () => controller.abort(new FencedError(fence.catalogId, fence.fence)));
    try {
      return await work({ fence, signal: controller.signal, keep: () => void (kept = true) });
    } finally {
      stop();
      if (!kept) await this.lease.release(fence);
    }
  }
}
