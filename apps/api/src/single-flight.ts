/**
 * Coalesces concurrent calls that want the same thing done, without ever answering a caller with the result
 * of work that began before it arrived: per key, at most one call runs; callers that arrive while it runs
 * wait together and share the next call, which starts after all of them arrived. So every caller gets the
 * result of a call that started after its own request, as if it had made the call itself.
 */
export class TrailingSingleFlight<K, I, R> {
  private readonly running = new Map<K, Promise<void>>();
  private readonly next = new Map<K, { inputs: I[]; waiters: { resolve: (r: R) => void; reject: (e: unknown) => void; index: number }[] }>();

  /** `work(inputs)` does the call for every input gathered and returns one result per input, in order. */
  constructor(private readonly work: (key: K, inputs: I[]) => Promise<R[]>) {}

  run(key: K, input: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      let batch = this.next.get(key);
      if (!batch) {
        batch = { inputs: [], waiters: [] };
        this.next.set(key, batch);
      }
      batch.waiters.push({ resolve, reject, index: batch.inputs.length });
      batch.inputs.push(input);
      if (!this.running.has(key)) this.drain(key);
    });
  }

  private drain(key: K): void {
    const batch = this.next.get(key);
    if (!batch) {
      this.running.delete(key);
      return;
    }
    this.next.delete(key);
    const call = this.work(key, batch.inputs).then(
      (results) => batch.waiters.forEach((w) => w.resolve(results[w.index]!)),
      (error: unknown) => batch.waiters.forEach((w) => w.reject(error)),
    );
    this.running.set(
      key,
      call.then(() => this.drain(key)),
    );
  }
}
