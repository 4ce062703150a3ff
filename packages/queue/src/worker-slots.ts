import { type Queue } from 'bullmq';

/**
 * Jobs the queue's workers can run at once: the worker processes connected to the queue now (BullMQ names
 * each worker's Redis connection, and `getWorkersCount` lists them) × the jobs each runs at once. Every
 * process of a deployment has the same `WORKER_CONCURRENCY`. Never fewer than the caller's own
 * `concurrency` (a Redis that does not list its clients answers one worker, or none).
 */
export async function workerSlots(queue: Pick<Queue, 'getWorkersCount'>, concurrency: number): Promise<number> {
  const workers = await queue.getWorkersCount();
  return Math.max(1, workers) * concurrency;
}
