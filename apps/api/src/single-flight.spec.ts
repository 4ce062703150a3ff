import { TrailingSingleFlight } from './single-flight';

/** A call that finishes when the test says so. */
function controlled() {
  const calls: { key: string; inputs: number[]; finish: (results?: string[]) => void; fail: (e: Error) => void }[] = [];
  const flight = new TrailingSingleFlight<string, number, string>(
    (key, inputs) =>
      new Promise<string[]>((resolve, reject) => {
        calls.push({ key, inputs, finish: (r) => resolve(r ?? inputs.map((i) => `${key}:${calls.length}:${i}`)), fail: reject });
      }),
  );
  return { calls, flight };
}
const tick = () => new Promise((r) => setImmediate(r));

describe(TrailingSingleFlight.name, () => {
  it('runs the first caller at once and gathers later callers into one next call', async () => {
    const { calls, flight } = controlled();
    const first = flight.run('a', 1);
    await tick();
    const later = [2, 3, 4].map((i) => flight.run('a', i));
    await tick();
    expect(calls.map((c) => c.inputs)).toEqual([[1]]);
    calls[0]!.finish();
    expect(await first).toBe('a:1:1');
    await tick();
    expect(calls.map((c) => c.inputs)).toEqual([[1], [2, 3, 4]]);
    calls[1]!.finish();
    expect(await Promise.all(later)).toEqual(['a:2:2', 'a:2:3', 'a:2:4']);
  });

  it('never answers a caller with a call that started before it arrived', async () => {
    const { calls, flight } = controlled();
    const arrivedAt: number[] = [];
    const startedAt: number[] = [];
    let clock = 0;
    const results: Promise<string>[] = [];
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 3; i++) {
        arrivedAt.push(++clock);
        results.push(flight.run('k', arrivedAt.length - 1));
      }
      await tick();
      const call = calls[calls.length - 1]!;
      if (startedAt.length < calls.length) startedAt.push(++clock);
      call.finish();
      await tick();
    }
    while (calls.length > startedAt.length) {
      startedAt.push(++clock);
      calls[calls.length - 1]!.finish();
      await tick();
    }
    await Promise.all(results);
    calls.forEach((c, n) => c.inputs.forEach((input) => expect(arrivedAt[input]!).toBeLessThan(startedAt[n]!)));
  });

  it('keeps keys apart and passes a failure to the callers of that call only', async () => {
    const { calls, flight } = controlled();
    const a = flight.run('a', 1);
    const b = flight.run('b', 1);
    await tick();
    expect(calls.map((c) => c.key)).toEqual(['a', 'b']);
    const a2 = flight.run('a', 2);
    calls[0]!.fail(new Error('redis down'));
    await expect(a).rejects.toThrow('redis down');
    await tick();
    calls[2]!.finish();
    calls[1]!.finish();
    expect(await a2).toBe('a:3:2');
    expect(await b).toBe('b:3:1');
  });
});
