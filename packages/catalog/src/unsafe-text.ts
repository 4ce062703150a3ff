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
 * Every string (value or object key) under `input` that holds a NUL character or a lone surrogate, with its
 * path. Walks any JSON value; stops after `limit` findings.
 */
export function findUnsafeText(input: unknown, limit = 100): UnsafeText[] {
  const found: UnsafeText[] = [];
  const visit = (value: unknown, path: PropertyKey[]): void => {
    if (found.length >= limit) return;
    if (typeof value === 'string') {
      const message = describeUnsafeText(value);
      if (message) found.push({ path, message });
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => visit(item, [...path, i]));
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
        const message = describeUnsafeText(key);
        if (message) found.push({ path: [...path, key], message: `the field name ${message}` });
        else visit(item, [...path, key]);
      }
    }
  };
  visit(input, []);
  return found;
}
