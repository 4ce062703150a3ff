import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { createLogger } from '@catalog-indexer/logger';
import { RedisErrorBackoff, type PausableWorker } from './redis-error-backoff';

/** A stand-in for the BullMQ worker's control surface: records pauses and resumes. */
class RecordingWorker extends EventEmitter implements PausableWorker {
  readonly calls: string[] = [];
  paused = false;
  pause(): Promise<void> {
    this.calls.push('pause');
    this.paused = true;
    return Promise.resolve();
  }
  resume(): void {
    this.calls.push('resume');
    this.paused = false;
  }
}

function capturedLogger() {
  const lines: { msg: string; errors?: number }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as { msg: string });
      cb();
    },
  });
  return { logger: createLogger({ destination: stream, level: 'info' }), lines };
}

describe(RedisErrorBackoff.name, () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('pauses the worker on a failed call and resumes it after the delay', () => {
    const { logger } = capturedLogger();
    const worker = new RecordingWorker();
    new RedisErrorBackoff({ logger, initialDelayMs: 1_000 }).attach(worker);
    worker.emit('error', new Error('CROSSSLOT Keys in request do not hash to the same slot'));
    expect(worker.calls).toEqual(['pause']);
    jest.advanceTimersByTime(1_300);
    expect(worker.calls).toEqual(['pause', 'resume']);
  });

  it('doubles the pause while calls keep failing, up to the cap', () => {
    const { logger } = capturedLogger();
    const worker = new RecordingWorker();
    const backoff = new RedisErrorBackoff({ logger, initialDelayMs: 1_000, maxDelayMs: 4_000 }).attach(worker);
    const pauses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const before = Date.now();
      worker.emit('error', new Error('NOPERM'));
      // Resumed as soon as the pause ends: measure how long that took.
      while (worker.paused) jest.advanceTimersByTime(50);
      pauses.push(Date.now() - before);
    }
    expect(pauses[0]).toBeLessThanOrEqual(1_250);
    expect(pauses[1]).toBeGreaterThanOrEqual(1_600);
    expect(pauses[2]).toBeGreaterThanOrEqual(3_200);
    for (const p of pauses) expect(p).toBeLessThanOrEqual(4_050);
    expect(backoff.nextDelayMs()).toBeLessThanOrEqual(4_000);
  });

  it('logs the first error, then a bounded summary with the count, then one line when calls succeed again', () => {
    const { logger, lines } = capturedLogger();
    const worker = new RecordingWorker();
    new RedisErrorBackoff({ logger, initialDelayMs: 100, maxDelayMs: 1_000, summaryIntervalMs: 5_000 }).attach(worker);
    // 20 s of a failing Redis, errors every 10 ms (2,000 failed calls).
    for (let t = 0; t < 20_000; t += 10) {
      worker.emit('error', new Error(`NOPERM call ${t}`));
      jest.advanceTimersByTime(10);
    }
    jest.advanceTimersByTime(10_000);
    expect(lines.length).toBeLessThanOrEqual(6);
    expect(lines[0]!.msg).toContain('NOPERM call 0');
    const summaries = lines.filter((l) => l.msg.includes('failed redis calls'));
    expect(summaries.length).toBeGreaterThanOrEqual(3);
    expect(summaries[0]!.msg).toContain('first: NOPERM call 0');
    expect(lines.at(-1)!.msg).toContain('redis calls succeed again after 2000 failures');
  });

  it('never resumes a worker that is closing', () => {
    const { logger } = capturedLogger();
    const worker = new RecordingWorker();
    new RedisErrorBackoff({ logger, initialDelayMs: 1_000 }).attach(worker);
    worker.emit('error', new Error('NOPERM'));
    worker.emit('closing');
    jest.advanceTimersByTime(60_000);
    worker.emit('error', new Error('NOPERM'));
    expect(worker.calls).toEqual(['pause']);
  });

  it('starts from the shortest pause again after calls have succeeded', () => {
    const { logger } = capturedLogger();
    const worker = new RecordingWorker();
    const backoff = new RedisErrorBackoff({ logger, initialDelayMs: 1_000, maxDelayMs: 30_000 }).attach(worker);
    for (let i = 0; i < 4; i++) {
      worker.emit('error', new Error('ERR'));
      while (worker.paused) jest.advanceTimersByTime(100);
    }
    expect(backoff.nextDelayMs()).toBeGreaterThanOrEqual(12_800);
    jest.advanceTimersByTime(10_000);
    expect(backoff.nextDelayMs()).toBeLessThanOrEqual(1_200);
  });
});
