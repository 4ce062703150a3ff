import { documentSparseVector } from '@catalog-indexer/text';
import { POINTS_PER_TURN, chunkPoint, pointsWithoutVectors } from './chunk-point';

const rows = Array.from({ length: POINTS_PER_TURN * 2 + 5 }, (_, i) => ({
  id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
  kind: 'column',
  chunkKey: `shop.orders.col${i}`,
  content: `Column orders.customerorder${i} of table orders: the customer's order number ${i}`,
  metadata: { schema: 'shop', table: 'orders', column: `col${i}` },
  contentHash: `hash-${i}`,
}));
const vocabulary = new Set(['customer', 'order']);

describe(pointsWithoutVectors.name, () => {
  it('makes the points chunkPoint makes, without their dense vectors', async () => {
    const points = await pointsWithoutVectors('catalog-1', rows, vocabulary);
    expect(points).toEqual(rows.map((row) => chunkPoint('catalog-1', row, row.contentHash, undefined, vocabulary)));
    expect(points.every((p) => Array.isArray(p.vector) && p.vector.length === 0)).toBe(true);
    // Split against the vocabulary given.
    expect(points[0]!.sparse).toEqual(documentSparseVector(rows[0]!.content, vocabulary));
    expect(points[0]!.sparse).not.toEqual(documentSparseVector(rows[0]!.content));
  });

  it('lets the event loop run between every few points, so a request can go out while they are made', async () => {
    let made = false;
    const turns: boolean[] = [];
    const tick = (): void => {
      turns.push(made);
      if (!made) setImmediate(tick);
    };
    setImmediate(tick);
    const points = pointsWithoutVectors('catalog-1', rows, vocabulary).then((p) => {
      made = true;
      return p;
    });
    expect(await points).toHaveLength(rows.length);
    // Three slices of at most POINTS_PER_TURN points: the loop turned between them, before they were all made,
    // and not between every two points (a turn costs the batch time too).
    const slices = Math.ceil(rows.length / POINTS_PER_TURN);
    expect(turns.filter((done) => !done).length).toBeGreaterThanOrEqual(slices);
    expect(turns.filter((done) => !done).length).toBeLessThanOrEqual(slices + 2);
  });

  it('makes no point of no rows', async () => {
    expect(await pointsWithoutVectors('catalog-1', [], undefined)).toEqual([]);
  });
});
