import { type PointId, parsePointId, pointKey } from './point-id';
import { parseDatetime } from './datetime';
import { QdrantError } from './qdrant-error';

/** A point's payload: any JSON object. */
export type Payload = Record<string, unknown>;

/** What a filter looks at. */
export interface FilterTarget {
  id: PointId;
  payload: Payload;
  /** Names of the vectors the point has (for `has_vector`). */
  vectors?: { dense: ReadonlyMap<string, unknown>; sparse: ReadonlyMap<string, unknown> };
}

/** A compiled filter or condition. */
export type Predicate = (target: FilterTarget) => boolean;

const FILTER_KEYS = ['should', 'min_should', 'must', 'must_not'] as const;
const ACCEPT_ALL: Predicate = () => true;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Compiles a Qdrant `Filter` into a predicate, rejecting what Qdrant rejects (unknown keys, malformed
 * conditions) with its 400 "Format error". `null`/`undefined` accept every point.
 *
 * Semantics follow Qdrant: `must` needs all its conditions, `must_not` none, `should` at least one (so an
 * empty `should` matches nothing), `min_should` at least `min_count`; each takes one condition or a list.
 */
export function compileFilter(raw: unknown): Predicate {
  if (raw === null || raw === undefined) return ACCEPT_ALL;
  if (!isObject(raw)) throw QdrantError.format(`invalid type: ${typeName(raw)}, expected struct Filter`);
  for (const key of Object.keys(raw)) {
    if (!(FILTER_KEYS as readonly string[]).includes(key)) {
      throw QdrantError.format(`unknown field \`${key}\`, expected one of \`should\`, \`min_should\`, \`must\`, \`must_not\``);
    }
  }
  const must = conditionList(raw.must);
  const mustNot = conditionList(raw.must_not);
  const should = conditionList(raw.should);
  const minShould = compileMinShould(raw.min_should);
  return (target) =>
    (must === undefined || must.every((c) => c(target))) &&
    (mustNot === undefined || !mustNot.some((c) => c(target))) &&
    (should === undefined || should.some((c) => c(target))) &&
    (minShould === undefined || minShould(target));
}

function conditionList(raw: unknown): Predicate[] | undefined {
  if (raw === null || raw === undefined) return undefined;
  return (Array.isArray(raw) ? raw : [raw]).map(compileCondition);
}

function compileMinShould(raw: unknown): Predicate | undefined {
  if (raw === null || raw === undefined) return undefined;
  if (!isObject(raw) || !Array.isArray(raw.conditions) || typeof raw.min_count !== 'number') {
    throw QdrantError.format('invalid min_should: expected {conditions: [...], min_count: integer}');
  }
  const conditions = raw.conditions.map(compileCondition);
  const minCount = raw.min_count;
  return (target) => conditions.filter((c) => c(target)).length >= minCount;
}

function untagged(): QdrantError {
  return QdrantError.format('data did not match any variant of untagged enum Condition');
}

/** Compiles one `Condition` (field, has_id, is_empty, is_null, nested, or a whole Filter). */
export function compileCondition(raw: unknown): Predicate {
  if (!isObject(raw)) throw untagged();
  if ('key' in raw) return compileFieldCondition(raw);
  if ('has_id' in raw) {
    if (!Array.isArray(raw.has_id)) throw untagged();
    const ids = new Set(raw.has_id.map((id) => pointKey(parsePointId(id))));
    return (target) => ids.has(pointKey(target.id));
  }
  if ('is_empty' in raw) {
    const key = payloadFieldKey(raw.is_empty);
    return (target) => valuesAt(target.payload, key).filter((v) => v !== null).length === 0;
  }
  if ('is_null' in raw) {
    const key = payloadFieldKey(raw.is_null);
    return (target) => rawValuesAt(target.payload, key).some((v) => v === null || (Array.isArray(v) && v.includes(null)));
  }
  if ('nested' in raw) {
    const nested = raw.nested;
    if (!isObject(nested) || typeof nested.key !== 'string') throw untagged();
    const key = nested.key;
    const inner = compileFilter(nested.filter);
    // Every condition of the nested filter must hold for one and the same array element.
    return (target) =>
      valuesAt(target.payload, key).some((element) => isObject(element) && inner({ id: target.id, payload: element }));
  }
  if ('has_vector' in raw) {
    if (typeof raw.has_vector !== 'string') throw untagged();
    const name = raw.has_vector;
    return (target) => target.vectors !== undefined && (target.vectors.dense.has(name) || target.vectors.sparse.has(name));
  }
  if (Object.keys(raw).every((k) => (FILTER_KEYS as readonly string[]).includes(k))) return compileFilter(raw);
  throw untagged();
}

function payloadFieldKey(raw: unknown): string {
  if (!isObject(raw) || typeof raw.key !== 'string') throw untagged();
  return raw.key;
}

function compileFieldCondition(raw: Record<string, unknown>): Predicate {
  if (typeof raw.key !== 'string') throw untagged();
  const key = raw.key;
  const parts: Predicate[] = [];
  if (raw.match !== undefined && raw.match !== null) parts.push(compileMatch(key, raw.match));
  if (raw.range !== undefined && raw.range !== null) parts.push(compileRange(key, raw.range));
  if (raw.values_count !== undefined && raw.values_count !== null) parts.push(compileValuesCount(key, raw.values_count));
  for (const geo of ['geo_bounding_box', 'geo_radius', 'geo_polygon']) {
    if (raw[geo] !== undefined && raw[geo] !== null) throw QdrantError.unsupported(`The ${geo} condition`);
  }
  const isEmpty = (t: FilterTarget): boolean => valuesAt(t.payload, key).filter((v) => v !== null).length === 0;
  const isNull = (t: FilterTarget): boolean => rawValuesAt(t.payload, key).some((v) => v === null || (Array.isArray(v) && v.includes(null)));
  if (typeof raw.is_empty === 'boolean') parts.push(raw.is_empty ? isEmpty : (t) => !isEmpty(t));
  if (typeof raw.is_null === 'boolean') parts.push(raw.is_null ? isNull : (t) => !isNull(t));
  if (parts.length === 0) {
    throw new QdrantError(422, 'Validation error in JSON body: [filter: At least one field condition must be specified]');
  }
  return (target) => parts.every((p) => p(target));
}

type Scalar = string | number | boolean;

/** Qdrant's match is strictly typed: the keyword "1" never equals the integer 1. */
function sameScalar(a: unknown, b: Scalar): boolean {
  return typeof a === typeof b && a === b;
}

function compileMatch(key: string, match: unknown): Predicate {
  if (!isObject(match)) throw QdrantError.format('data did not match any variant of untagged enum Match');
  if ('value' in match) {
    const value = match.value;
    if (typeof value === 'number' && !Number.isInteger(value)) {
      throw QdrantError.format(`data did not match any variant of untagged enum ValueVariants`);
    }
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw QdrantError.format('data did not match any variant of untagged enum ValueVariants');
    }
    return (t) => valuesAt(t.payload, key).some((v) => sameScalar(v, value));
  }
  if ('any' in match || 'except' in match) {
    const isAny = 'any' in match;
    const list = anyVariants(isAny ? match.any : match.except);
    if (isAny) return (t) => valuesAt(t.payload, key).some((v) => list.some((x) => sameScalar(v, x)));
    // A missing field fails `except` like every other condition but is_empty (see FACTS).
    return (t) => {
      const values = valuesAt(t.payload, key).filter((v) => v !== null);
      return values.length > 0 && values.some((v) => !list.some((x) => sameScalar(v, x)));
    };
  }
  if ('text' in match) {
    const text = match.text;
    if (typeof text !== 'string') throw QdrantError.format('invalid type for match.text, expected a string');
    // Without a full-text index Qdrant matches `text` as a substring.
    return (t) => valuesAt(t.payload, key).some((v) => typeof v === 'string' && v.includes(text));
  }
  for (const kind of ['text_any', 'phrase', 'prefix']) {
    if (kind in match) throw QdrantError.unsupported(`match.${kind}`);
  }
  throw QdrantError.format('data did not match any variant of untagged enum Match');
}

function anyVariants(raw: unknown): Scalar[] {
  if (!Array.isArray(raw)) throw QdrantError.format('data did not match any variant of untagged enum AnyVariants');
  const allStrings = raw.every((v) => typeof v === 'string');
  const allIntegers = raw.every((v) => typeof v === 'number' && Number.isInteger(v));
  if (!allStrings && !allIntegers) {
    throw QdrantError.format('data did not match any variant of untagged enum AnyVariants');
  }
  return raw as Scalar[];
}

function boundsOf(raw: unknown, what: string): Record<'gt' | 'gte' | 'lt' | 'lte', number | undefined> {
  if (!isObject(raw)) throw QdrantError.format(`data did not match any variant of untagged enum ${what}`);
  const out: Record<'gt' | 'gte' | 'lt' | 'lte', number | undefined> = { gt: undefined, gte: undefined, lt: undefined, lte: undefined };
  for (const [k, v] of Object.entries(raw)) {
    if (k !== 'gt' && k !== 'gte' && k !== 'lt' && k !== 'lte') {
      throw QdrantError.format(`unknown field \`${k}\`, expected one of \`lt\`, \`gt\`, \`gte\`, \`lte\``);
    }
    if (v === null) continue;
    if (typeof v === 'string') throw QdrantError.unsupported('A datetime range');
    if (typeof v !== 'number') throw QdrantError.format(`data did not match any variant of untagged enum ${what}`);
    out[k] = v;
  }
  return out;
}

function datetimeBounds(raw: Record<string, unknown>): Record<'gt' | 'gte' | 'lt' | 'lte', number | undefined> {
  const out: Record<'gt' | 'gte' | 'lt' | 'lte', number | undefined> = { gt: undefined, gte: undefined, lt: undefined, lte: undefined };
  for (const [k, v] of Object.entries(raw)) {
    if (k !== 'gt' && k !== 'gte' && k !== 'lt' && k !== 'lte') {
      throw QdrantError.format(`unknown field \`${k}\`, expected one of \`lt\`, \`gt\`, \`gte\`, \`lte\``);
    }
    if (v === null) continue;
    const ms = typeof v === 'string' ? parseDatetime(v) : undefined;
    if (ms === undefined) {
      throw QdrantError.format(`data did not match any variant of untagged enum RangeInterface: ${JSON.stringify(v)} is not an RFC 3339 datetime`);
    }
    out[k] = ms;
  }
  return out;
}

function inBounds(v: number, b: Record<'gt' | 'gte' | 'lt' | 'lte', number | undefined>): boolean {
  return (
    (b.gt === undefined || v > b.gt) &&
    (b.gte === undefined || v >= b.gte) &&
    (b.lt === undefined || v < b.lt) &&
    (b.lte === undefined || v <= b.lte)
  );
}

function compileRange(key: string, raw: unknown): Predicate {
  if (isObject(raw) && Object.values(raw).some((v) => typeof v === 'string')) {
    const bounds = datetimeBounds(raw);
    return (t) =>
      valuesAt(t.payload, key).some((v) => {
        const ms = typeof v === 'string' ? parseDatetime(v) : undefined;
        return ms !== undefined && inBounds(ms, bounds);
      });
  }
  const bounds = boundsOf(raw, 'RangeInterface');
  return (t) => valuesAt(t.payload, key).some((v) => typeof v === 'number' && inBounds(v, bounds));
}

function compileValuesCount(key: string, raw: unknown): Predicate {
  const bounds = boundsOf(raw, 'ValuesCount');
  // A missing field fails, as for every condition but is_empty; null and [] count as 0 values.
  return (t) => rawValuesAt(t.payload, key).length > 0 && inBounds(valuesAt(t.payload, key).filter((v) => v !== null).length, bounds);
}

/** Dotted keys already split into path segments (filters run once per candidate point). */
const PATHS = new Map<string, string[]>();

/**
 * Values at a dotted key, before arrays at the end of the path are opened: `a.b` walks into nested
 * objects and through arrays of objects on the way (`a[].b` is accepted as the same path).
 */
export function rawValuesAt(payload: Payload, key: string): unknown[] {
  let segments = PATHS.get(key);
  if (segments === undefined) {
    segments = key.split('.').map((s) => s.replace(/\[\]$/, ''));
    if (PATHS.size >= 10_000) PATHS.clear();
    PATHS.set(key, segments);
  }
  let current: unknown[] = [payload];
  for (const segment of segments) {
    const next: unknown[] = [];
    for (const value of current) {
      const holders = Array.isArray(value) ? value : [value];
      for (const holder of holders) {
        if (isObject(holder) && segment in holder) next.push(holder[segment]);
      }
    }
    current = next;
  }
  return current;
}

/** Values at a dotted key with a final array opened: a payload array matches if any element matches. */
export function valuesAt(payload: Payload, key: string): unknown[] {
  return rawValuesAt(payload, key).flatMap((v) => (Array.isArray(v) ? (v as unknown[]) : [v]));
}

function typeName(value: unknown): string {
  if (Array.isArray(value)) return 'sequence';
  return typeof value === 'string' ? `string ${JSON.stringify(value)}` : typeof value;
}
