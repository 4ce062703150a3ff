import { type Hit } from './top-hits';
import { type PointId, pointKey } from './point-id';
import { QdrantError } from './qdrant-error';

/** Qdrant's default `k` of reciprocal rank fusion. */
export const DEFAULT_RRF_K = 2;

/**
 * Reciprocal rank fusion as Qdrant 1.19 computes it: a point at 0-based position `pos` of a source with
 * weight `w` earns `1 / ((pos + 1) / w + k - 1)` (nothing when `w <= 0`); earnings add up over sources.
 * Input scores are ignored, only the order counts. The result is sorted by fused score, best first.
 */
export function reciprocalRankFusion<P extends { id: PointId }>(
  sources: readonly (readonly Hit<P>[])[],
  k: number,
  weights?: readonly number[],
): Hit<P>[] {
  if (weights && weights.length !== sources.length) {
    throw QdrantError.wrongInput(
      `Number of weights in RRF should match number of pre-fetches: got ${weights.length}, expected ${sources.length}`,
    );
  }
  const fused = new Map<string, Hit<P>>();
  sources.forEach((hits, source) => {
    const w = weights?.[source] ?? 1;
    hits.forEach((hit, pos) => {
      const earned = w <= 0 ? 0 : 1 / ((pos + 1) / w + k - 1);
      const key = pointKey(hit.point.id);
      const seen = fused.get(key);
      if (seen) seen.score += earned;
      else fused.set(key, { point: hit.point, score: earned });
    });
  });
  return [...fused.values()].sort((a, b) => b.score - a.score);
}

/**
 * Distribution-based score fusion: each source's scores are mapped to [0, 1] between mean ± 3 standard
 * deviations (sample variance; one point gets 0.5, equal bounds give 0.5), flipped for sources where
 * smaller is better, then summed per point. `higherBetter[i]` says how source i is ordered.
 */
export function distributionBasedScoreFusion<P extends { id: PointId }>(
  sources: readonly (readonly Hit<P>[])[],
  higherBetter: readonly boolean[],
): Hit<P>[] {
  const fused = new Map<string, Hit<P>>();
  sources.forEach((hits, source) => {
    for (const hit of normalise(hits, higherBetter[source] ?? true)) {
      const key = pointKey(hit.point.id);
      const seen = fused.get(key);
      if (seen) seen.score += hit.score;
      else fused.set(key, hit);
    }
  });
  return [...fused.values()].sort((a, b) => b.score - a.score);
}

function normalise<P extends { id: PointId }>(hits: readonly Hit<P>[], higherBetter: boolean): Hit<P>[] {
  if (hits.length < 2) return hits.map((h) => ({ point: h.point, score: 0.5 }));
  let mean = 0;
  let aggregate = 0;
  hits.forEach((h, i) => {
    const before = h.score - mean;
    mean += before / (i + 1);
    aggregate += before * (h.score - mean);
  });
  const std = Math.sqrt(aggregate / (hits.length - 1));
  const min = mean - 3 * std;
  const max = mean + 3 * std;
  if (min === max) return hits.map((h) => ({ point: h.point, score: 0.5 }));
  return hits.map((h) => ({ point: h.point, score: higherBetter ? (h.score - min) / (max - min) : (max - h.score) / (max - min) }));
}
