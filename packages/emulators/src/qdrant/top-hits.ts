import { type PointId, comparePointIds } from './point-id';

/** A scored item of a search. */
export interface Hit<P extends { id: PointId }> {
  point: P;
  score: number;
}

/** The best `limit` hits seen so far, kept sorted; ties keep id order. Large limits sort once at the end. */
export class TopHits<P extends { id: PointId }> {
  private readonly hits: Hit<P>[] = [];
  private readonly sign: number;
  private readonly bounded: boolean;

  constructor(
    private readonly limit: number,
    higherBetter: boolean,
  ) {
    this.sign = higherBetter ? -1 : 1;
    this.bounded = limit <= 1000;
  }

  private order = (a: Hit<P>, b: Hit<P>): number =>
    this.sign * (a.score - b.score) || comparePointIds(a.point.id, b.point.id);

  offer(point: P, score: number): void {
    const hit = { point, score };
    if (!this.bounded) {
      this.hits.push(hit);
      return;
    }
    const last = this.hits[this.hits.length - 1];
    if (this.hits.length >= this.limit && last !== undefined && this.order(hit, last) >= 0) return;
    let i = this.hits.length;
    while (i > 0 && this.order(hit, this.hits[i - 1]!) < 0) i--;
    this.hits.splice(i, 0, hit);
    if (this.hits.length > this.limit) this.hits.pop();
  }

  sorted(): Hit<P>[] {
    if (this.bounded) return this.hits;
    return this.hits.sort(this.order).slice(0, this.limit);
  }
}
