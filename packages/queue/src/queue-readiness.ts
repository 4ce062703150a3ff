import { type Queue } from 'bullmq';

/** What a readiness probe reports about the queue. */
export interface QueueReadiness {
  ready: boolean;
  /** Jobs per state, when Redis answered. */
  counts?: Record<string, number>;
  /** Why the queue is not ready, when it is not. */
  error?: string;
}

/**
 * Asks Redis for the queue's job counts, the way every real call does (scripts over the queue's keys, on
 * the node that owns its slot), rather than a PING that any node answers. Gives up after `timeoutMs`:
 * worker connections wait for Redis forever, a probe must not.
 */
export async function queueReadiness(queue: Queue, timeoutMs = 3_000): Promise<QueueReadiness> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from Redis within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const counts = await Promise.race([queue.getJobCounts('waiting', 'active', 'delayed', 'failed'), timeout]);
    return { ready: true, counts };
  } catch (error) {
    return { ready: false, error: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}
