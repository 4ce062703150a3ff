import { describeJson } from './point-id';
import { QdrantError } from './qdrant-error';
import { type Payload } from './filter';

/** A JSON object body, or Qdrant's parse error when there is none. */
export function objectBody(body: unknown): Record<string, unknown> {
  if (body === undefined) throw QdrantError.format('EOF while parsing a value at line 1 column 0');
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw QdrantError.format(`invalid type: ${describeJson(body)}, expected a map`);
  }
  return body as Record<string, unknown>;
}

/**
 * An optional unsigned integer field: absent/null gives `fallback`; a wrong type is a 400 format error
 * (serde), a value under `min` a 422 validation error (Qdrant's validator).
 */
export function optionalUint(body: Record<string, unknown>, field: string, fallback: number, min: number): number {
  const value = body[field];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw QdrantError.format(`invalid type: ${describeJson(value)}, expected usize`);
  }
  if (value < min) throw QdrantError.validation(field, `value ${value} invalid, must be ${min} or larger`);
  return value;
}

/** An optional finite number field. */
export function optionalNumber(body: Record<string, unknown>, field: string): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw QdrantError.format(`invalid type: ${describeJson(value)}, expected f32`);
  }
  return value;
}

/** A dense vector: a non-empty list of finite numbers. */
export function denseVector(value: unknown): number[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw QdrantError.format('data did not match any variant of untagged enum VectorStruct');
  }
  return value as number[];
}

/** What `with_payload` asks for, compiled into a projection of the payload (undefined = no payload). */
export type PayloadProjection = (payload: Payload) => Payload;

/** Reads `with_payload`: a boolean, a list of keys to include, or `{include}` / `{exclude}`. */
export function withPayload(value: unknown, fallback: boolean): PayloadProjection | undefined {
  if (value === undefined || value === null) value = fallback;
  if (value === true) return (p) => ({ ...p });
  if (value === false) return undefined;
  if (Array.isArray(value) && value.every((k) => typeof k === 'string')) return pick(value);
  if (typeof value === 'object' && value !== null) {
    const selector = value as Record<string, unknown>;
    if (Array.isArray(selector.include)) return pick(selector.include as string[]);
    if (Array.isArray(selector.exclude)) {
      const excluded = new Set(selector.exclude as string[]);
      return (p) => Object.fromEntries(Object.entries(p).filter(([k]) => !excluded.has(k)));
    }
  }
  throw QdrantError.format('data did not match any variant of untagged enum WithPayloadInterface');
}

function pick(keys: string[]): PayloadProjection {
  return (p) => Object.fromEntries(keys.filter((k) => k in p).map((k) => [k, p[k]]));
}

/** Reads `with_vector`: a boolean, or a list of vector names where "" is the unnamed vector. */
export function withVector(value: unknown, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'boolean') return value;
  if (Array.isArray(value) && value.every((k) => typeof k === 'string')) return value.includes('');
  throw QdrantError.format('data did not match any variant of untagged enum WithVector');
}

/** Reads the `wait` query parameter; Qdrant's default is false. */
export function waitParam(value: unknown): boolean {
  if (value === undefined) return false;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new QdrantError(400, `Query deserialize error: wait: provided string was not \`true\` or \`false\``);
}
