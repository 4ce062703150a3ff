import { runBounded } from './in-process-fan-out';

describe(runBounded.name, () => {
  const tick = () => new Promise((r) => setTimeout(r, 2));

  it('works through every item with at most `limit` in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const done: number[] = [];
    await runBounded([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await tick();
      done.push(n);
      inFlight--;
    });
    expect(done.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(most).toBe(3);
  });

  it('does nothing for no items and uses no more lanes than items', async () => {
    let calls = 0;
    await runBounded([], 4, () => {
      calls++;
      return Promise.resolve();
    });
    expect(calls).toBe(0);
    let most = 0;
    let inFlight = 0;
    await runBounded(['a', 'b'], 8, async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      await tick();
      inFlight--;
    });
    expect(most).toBe(2);
  });

  it('starts no new item after a failure, waits for those in flight, and rejects with the failure', async () => {
    const started: number[] = [];
    const finished: number[] = [];
    const run = runBounded([1, 2, 3, 4, 5, 6], 2, async (n) => {
      started.push(n);
      if (n === 2) throw new Error('item 2 failed');
      await tick();
      finished.push(n);
    });
    await expect(run).rejects.toThrow('item 2 failed');
    expect(started).toEqual([1, 2]);
    expect(finished).toEqual([1]);
  });
});
