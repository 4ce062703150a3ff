/**
 * A NUL character (Postgres text cannot hold it) or a UTF-16 surrogate without its partner (it has no UTF-8
 * form, so it would be stored silently changed). Either way the text cannot be kept as sent.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** A text that cannot be stored, found by {@link findUnsafeText}. */
export interface UnsafeText {
  /** Where it is: object keys and array indexes from the root of the value. */
  path: PropertyKey[];
  /** What is wrong and what to do about it. */
  message: string;
}

/** What is wrong with a text, or `undefined` when it can be stored as it is. */
export function describeUnsafeText(value: string): string | undefined {
  const match = UNSAFE.exec(value);
  if (!match) return undefined;
  if (match[0] === '\u0000') return `contains a NUL character (U+0000) at position ${match.index}; remove it`;
  const unit = match[0].charCodeAt(0).toString(16).toUpperCase();
  return `contains a lone UTF-16 surrogate (U+${unit}) at position ${match.index}, which is not valid Unicode; send well-formed text`;
}

/**
 * The deepest nesting of objects and arrays any request body may have. A catalog is about eight levels deep;
 * the bound keeps every walk over a body (this module's, the validators', the serializers') far from the
 * stack's limit.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * Whether `input` nests objects or arrays more than `maxDepth` levels deep (the root object or array is
 * level 1). Iterative, so a value of any depth is measured without recursion.
 */
export function exceedsJsonDepth(input: unknown, maxDepth = MAX_JSON_DEPTH): boolean {
  const stack: [unknown, number][] = [[input, 0]];
  for (let entry = stack.pop(); entry; entry = stack.pop()) {
    const [value, depth] = entry;
    if (value === null || typeof value !== 'object') continue;
    if (depth + 1 > maxDepth) return true;
    const items = Array.isArray(value) ? (value as unknown[]) : Object.values(value as Record<string, unknown>);
    for (const item of items) if (item !== null && typeof item === 'object') stack.push([item, depth + 1]);
  }
  return false;
}

/** Where a value sits: its key or index under its parent's place (`null` for the root). */
interface Place {
  parent: Place | null;
  key: PropertyKey;
}

/** The keys and indexes from the root down to `place`. */
function pathOf(place: Place | null): PropertyKey[] {
  const path: PropertyKey[] = [];
  for (let p = place; p; p = p.parent) path.push(p.key);
  return path.reverse();
}

/**
 * Every string (value or object key) under `input` that holds a NUL character or a lone surrogate, with its
 * path, in document order. Walks any JSON value without recursion; stops after `limit` findings. A value's
 * path is spelled out only for a finding: the walk keeps a link to the parent's place instead.
 */
export function findUnsafeText(input: unknown, limit = 100): UnsafeText[] {
  const found: UnsafeText[] = [];
  // A pending visit: a value at a place, or a finding about a field name (kept in line for document order).
  type Visit = { value: unknown; place: Place | null } | UnsafeText;
  const stack: Visit[] = [{ value: input, place: null }];
  for (let visit = stack.pop(); visit && found.length < limit; visit = stack.pop()) {
    if (!('value' in visit)) {
      found.push(visit);
      continue;
    }
    const { value, place } = visit;
    if (typeof value === 'string') {
      const message = describeUnsafeText(value);
      if (message) found.push({ path: pathOf(place), message });
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) {
        const item = value[i] as unknown;
        // Numbers, booleans and nulls hold no text: not worth a visit.
        if (typeof item === 'string' || (item !== null && typeof item === 'object')) stack.push({ value: item, place: { parent: place, key: i } });
      }
    } else if (value !== null && typeof value === 'object') {
      const keys = Object.keys(value);
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i]!;
        const item = (value as Record<string, unknown>)[key];
        const message = describeUnsafeText(key);
        if (message) stack.push({ path: pathOf({ parent: place, key }), message: `the field name ${message}` });
        else if (typeof item === 'string' || (item !== null && typeof item === 'object')) stack.push({ value: item, place: { parent: place, key } });
      }
    }
  }
  return found;
}
