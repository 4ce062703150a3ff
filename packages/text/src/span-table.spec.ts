import { SpanTable } from './span-table';
import { seededRandom } from '@catalog-indexer/testing';

describe(SpanTable.name, () => {
  it('finds a piece kept from one text inside any other text, by its characters', () => {
    const table = new SpanTable<number>(100);
    const text = 'select orders from sales';
    expect(table.get(text, 7, 13)).toBeUndefined();
    table.add(text.slice(7, 13), 42);
    expect(table.get('orders', 0, 6)).toBe(42);
    expect(table.get('count(orders)', 6, 12)).toBe(42);
    // Same length, other characters; a prefix; a longer span.
    expect(table.get('orderz', 0, 6)).toBeUndefined();
    expect(table.get('orders', 0, 5)).toBeUndefined();
    expect(table.get('orderss', 0, 7)).toBeUndefined();
    expect(table.size).toBe(1);
  });

  it('keeps every piece as it grows, and gives each its own value (seed 20261208)', () => {
    const seed = 20261208;
    const random = seededRandom(seed);
    const table = new SpanTable<string>(50_000);
    const kept = new Map<string, string>();
    for (let i = 0; i < 20_000; i++) {
      // Short pieces over a small alphabet: many share their slot and their length.
      const piece = Array.from({ length: 1 + Math.floor(random() * 6) }, () => 'ab_1'[Math.floor(random() * 4)]).join('');
      const padded = `(${piece})`;
      const found = table.get(padded, 1, padded.length - 1);
      if (found === undefined) {
        if (kept.has(piece)) throw new Error(`seed ${seed}: ${piece} was kept and is not found`);
        table.add(piece, `value of ${piece}`);
        kept.set(piece, `value of ${piece}`);
      } else if (found !== kept.get(piece)) {
        throw new Error(`seed ${seed}: ${piece} gave ${found}`);
      }
    }
    expect(table.size).toBe(kept.size);
    for (const [piece, value] of kept) expect(table.get(piece, 0, piece.length)).toBe(value);
  });

  it('holds at most its capacity: full, it is emptied, and keeps pieces again from there', () => {
    const table = new SpanTable<number>(600);
    for (let i = 0; i < 600; i++) {
      const piece = `p${i}`;
      expect(table.get(piece, 0, piece.length)).toBeUndefined();
      table.add(piece, i);
    }
    expect(table.size).toBe(600);
    expect(table.get('p599', 0, 4)).toBe(599);
    expect(table.get('p600', 0, 4)).toBeUndefined();
    table.add('p600', 600);
    expect(table.size).toBe(0);
    expect(table.get('p0', 0, 2)).toBeUndefined();
    table.add('p0', 0);
    expect(table.get('p0', 0, 2)).toBe(0);
  });

  it('refuses to keep a piece without a lookup that missed it', () => {
    const table = new SpanTable<number>(10);
    expect(() => table.add('x', 1)).toThrow('without a lookup that missed');
    table.get('x', 0, 1);
    table.add('x', 1);
    expect(() => table.add('y', 2)).toThrow('without a lookup that missed');
  });
});
