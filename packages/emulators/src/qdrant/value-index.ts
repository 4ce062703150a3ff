import { type Payload, valuesAt } from './filter';

/** The key of a scalar in a value index: typed, so the keyword "1" and the integer 1 stay apart. */
export function valueKey(value: unknown): string | undefined {
  if (typeof value === 'string') return `s${value}`;
  if (typeof value === 'number' && Number.isInteger(value)) return `n${value}`;
  if (typeof value === 'boolean') return `b${String(value)}`;
  return undefined;
}

/**
 * Posting lists of one indexed payload field (keyword, integer, uuid, bool): value → points. Filters whose
 * `must` matches such a field by value start from the posting list instead of every point, which is what
 * keeps a tenant-filtered search over one big collection from scanning the other tenants.
 */
export class ValueIndex {
  private readonly postings = new Map<string, Set<string>>();

  constructor(readonly field: string) {}

  add(pointKey: string, payload: Payload): void {
    for (const v of valuesAt(payload, this.field)) {
      const key = valueKey(v);
      if (key === undefined) continue;
      let set = this.postings.get(key);
      if (!set) {
        set = new Set();
        this.postings.set(key, set);
      }
      set.add(pointKey);
    }
  }

  remove(pointKey: string, payload: Payload): void {
    for (const v of valuesAt(payload, this.field)) {
      const key = valueKey(v);
      if (key === undefined) continue;
      const set = this.postings.get(key);
      set?.delete(pointKey);
      if (set && set.size === 0) this.postings.delete(key);
    }
  }

  /** Points having any of `values` (a superset check is left to the filter itself). */
  lookup(values: readonly unknown[]): Set<string> {
    if (values.length === 1) return this.postings.get(valueKey(values[0]) ?? '') ?? new Set();
    const out = new Set<string>();
    for (const v of values) for (const k of this.postings.get(valueKey(v) ?? '') ?? []) out.add(k);
    return out;
  }
}
