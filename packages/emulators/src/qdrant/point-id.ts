import { QdrantError } from './qdrant-error';

/** A Qdrant point id: an unsigned integer or a UUID in lowercase hyphenated form. */
export type PointId = number | string;

const HYPHENATED = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SIMPLE = /^[0-9a-f]{32}$/i;
const URN = /^urn:uuid:/i;
const BRACED = /^\{(.*)\}$/;

/**
 * Parses a point id from a request body. Accepts unsigned integers and UUIDs in the forms Qdrant accepts
 * (hyphenated, 32 hex digits, braced, `urn:uuid:`), in any case; returns UUIDs lowercase and hyphenated.
 * Throws Qdrant's 400 for anything else.
 */
export function parsePointId(value: unknown): PointId {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value) && value >= 0) return value;
    throw QdrantError.format(`value ${value} is not a valid point ID, valid values are either an unsigned integer or a UUID`);
  }
  if (typeof value === 'string') {
    const bare = value.replace(URN, '').replace(BRACED, '$1');
    if (HYPHENATED.test(bare)) return bare.toLowerCase();
    if (SIMPLE.test(bare)) {
      const h = bare.toLowerCase();
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    }
    throw QdrantError.format(`value ${value} is not a valid point ID, valid values are either an unsigned integer or a UUID`);
  }
  throw QdrantError.format(`invalid type: ${describeJson(value)}, expected an unsigned integer or a UUID`);
}

/** The map key of an id: integers and UUIDs never collide because UUIDs contain hyphens. */
export function pointKey(id: PointId): string {
  return typeof id === 'number' ? String(id) : id;
}

/** Qdrant's id order: integers ascending, then UUIDs by their 128-bit value (= their hex text). */
export function comparePointIds(a: PointId, b: PointId): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** How serde describes an unexpected JSON value in its error messages. */
export function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'sequence';
  if (typeof value === 'string') return `string ${JSON.stringify(value)}`;
  if (typeof value === 'number') return Number.isInteger(value) ? `integer \`${value}\`` : `floating point \`${value}\``;
  if (typeof value === 'boolean') return `boolean \`${value}\``;
  return typeof value === 'object' ? 'map' : typeof value;
}
