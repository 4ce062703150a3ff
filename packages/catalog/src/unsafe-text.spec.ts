import { parseCatalog, type Catalog } from './index';
import { shopCatalog } from './testing';
import { describeUnsafeText, exceedsJsonDepth, findUnsafeText, MAX_JSON_DEPTH } from './unsafe-text';

describe(findUnsafeText.name, () => {
  it('finds NUL characters and lone surrogates in values and keys, with their paths', () => {
    const found = findUnsafeText({ a: 'ok', b: ['x\u0000y', { c: 'hi \ud800' }], ['k\udc00']: 1 });
    expect(found.map((f) => f.path)).toEqual([['b', 0], ['b', 1, 'c'], ['k\udc00']]);
    expect(found[0]!.message).toMatch(/NUL character \(U\+0000\) at position 1/);
    expect(found[1]!.message).toMatch(/lone UTF-16 surrogate \(U\+D800\) at position 3/);
    expect(found[2]!.message).toMatch(/^the field name contains a lone UTF-16 surrogate \(U\+DC00\)/);
  });

  it('accepts surrogate pairs, other control characters and every other text', () => {
    expect(findUnsafeText({ emoji: 'revenue 📈', tab: 'a\tb', cjk: '売上', bell: '\u0007' })).toEqual([]);
    expect(describeUnsafeText('\ud83d\udcc8')).toBeUndefined();
    expect(describeUnsafeText('\udcc8\ud83d')).toMatch(/U\+DCC8/);
  });
});

describe(exceedsJsonDepth.name, () => {
  const nestedObjects = (depth: number): unknown => JSON.parse('{"a":'.repeat(depth) + '1' + '}'.repeat(depth));
  const nestedArrays = (depth: number): unknown => JSON.parse('['.repeat(depth) + ']'.repeat(depth));

  it('measures objects and arrays alike, the root being level one', () => {
    expect(exceedsJsonDepth(nestedObjects(MAX_JSON_DEPTH))).toBe(false);
    expect(exceedsJsonDepth(nestedObjects(MAX_JSON_DEPTH + 1))).toBe(true);
    expect(exceedsJsonDepth(nestedArrays(3), 3)).toBe(false);
    expect(exceedsJsonDepth(nestedArrays(4), 3)).toBe(true);
    expect(exceedsJsonDepth({ a: [1, { b: 2 }] }, 3)).toBe(false);
    expect(exceedsJsonDepth({ a: [1, { b: [] }] }, 3)).toBe(true);
    expect(exceedsJsonDepth('text')).toBe(false);
    expect(exceedsJsonDepth(null)).toBe(false);
  });

  it('measures 100,000 nested arrays and 5,000 nested objects without overflowing the stack', () => {
    expect(exceedsJsonDepth(nestedArrays(100_000))).toBe(true);
    expect(exceedsJsonDepth({ ok: 'x', deep: nestedObjects(5_000) })).toBe(true);
    expect(() => findUnsafeText(nestedObjects(5_000))).not.toThrow();
  });

  it('passes a wide array of any length', () => {
    expect(exceedsJsonDepth({ items: Array.from({ length: 200_000 }, (_, i) => ({ i })) })).toBe(false);
  });
});

describe('parseCatalog with text that cannot be stored', () => {
  it('names the description, the document text and the sample value that hold a NUL or a lone surrogate', () => {
    const catalog = structuredClone<Catalog>(shopCatalog);
    catalog.schemas[0]!.tables[0]!.description = 'one row\u0000 per order';
    catalog.documents![0]!.text = 'net of refunds \ud800';
    catalog.schemas[0]!.tables[0]!.columns[1]!.examples = ['42\u0000'];
    let error: { details: { path: string; message: string }[] } | undefined;
    try {
      parseCatalog(catalog);
    } catch (e) {
      error = e as typeof error;
    }
    expect(error?.details.map((d) => d.path)).toEqual([
      'schemas[0].tables[0].description',
      'schemas[0].tables[0].columns[1].examples[0]',
      'documents[0].text',
    ]);
  });
});
