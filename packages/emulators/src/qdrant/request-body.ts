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
export function optionalUint(
  body: Record<string, unknown>,
  field: string,
  fallback: number,
  min: number,
  label: string = field,
): number {
  const value = body[field];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw QdrantError.format(`invalid type: ${describeJson(value)}, expected usize`);
  }
  if (value < min) throw QdrantError.validation(label, `value ${value} invalid, must be ${min} or larger`);
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

/** Reads `with_payload`: a boolean, a list of paths to include, or `{include}` / `{exclude}` (dotted paths). */
export function withPayload(value: unknown, fallback: boolean): PayloadProjection | undefined {
  if (value === undefined || value === null) value = fallback;
  if (value === true) return (p) => ({ ...p });
  if (value === false) return undefined;
  if (Array.isArray(value) && value.every((k) => typeof k === 'string')) return includePaths(value);
  if (typeof value === 'object' && value !== null) {
    const selector = value as Record<string, unknown>;
    if (Array.isArray(selector.include)) return includePaths(selector.include as string[]);
    if (Array.isArray(selector.exclude)) {
      const paths = (selector.exclude as string[]).map(splitPath);
      return (p) => paths.reduce<Payload>((acc, path) => excludePath(acc, path) as Payload, p);
    }
  }
  throw QdrantError.format('data did not match any variant of untagged enum WithPayloadInterface');
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `a.b[].c` → `["a", "b", "c"]`: arrays on the way are walked through element by element. */
function splitPath(path: string): string[] {
  return path.split('.').map((s) => s.replace(/\[\]$/, ''));
}

/** The part of `value` at `path`, keeping the objects and arrays around it; undefined when absent. */
function pickPath(value: unknown, path: readonly string[]): unknown {
  if (path.length === 0) return value;
  if (Array.isArray(value)) {
    const picked = value.map((v) => pickPath(v, path)).filter((v) => v !== undefined);
    return picked.length > 0 ? picked : undefined;
  }
  if (!isRecord(value) || !(path[0]! in value)) return undefined;
  const inner = pickPath(value[path[0]!], path.slice(1));
  return inner === undefined ? undefined : { [path[0]!]: inner };
}

/** Deep merge of two picked parts of one payload. */
function mergePicked(a: unknown, b: unknown): unknown {
  if (a === undefined) return b;
  if (Array.isArray(a) && Array.isArray(b)) return a.map((v, i) => mergePicked(v, b[i]));
  if (isRecord(a) && isRecord(b)) {
    const out: Record<string, unknown> = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = mergePicked(out[k], v);
    return out;
  }
  return b;
}

function includePaths(keys: readonly string[]): PayloadProjection {
  const paths = keys.map(splitPath);
  return (p) => (paths.reduce<unknown>((acc, path) => mergePicked(acc, pickPath(p, path)), {}) ?? {}) as Payload;
}

function excludePath(value: unknown, path: readonly string[]): unknown {
  if (path.length === 0) return value;
  if (Array.isArray(value)) return value.map((v) => excludePath(v, path));
  if (!isRecord(value) || !(path[0]! in value)) return value;
  const out = { ...value };
  if (path.length === 1) delete out[path[0]!];
  else out[path[0]!] = excludePath(value[path[0]!], path.slice(1));
  return out;
}

/** What `with_vector` asks for: no vectors, all of them, or the listed names ("" is the unnamed one). */
export type VectorSelection = false | true | ReadonlySet<string>;

/** Reads `with_vector` (or its alias `with_vectors`): a boolean or a list of vector names. */
export function withVector(body: Record<string, unknown>, fallback: boolean): VectorSelection {
  const value = body.with_vector ?? body.with_vectors;
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'boolean') return value;
  if (Array.isArray(value) && value.every((k) => typeof k === 'string')) return new Set(value);
  throw QdrantError.format('data did not match any variant of untagged enum WithVector');
}

/** Reads the `wait` query parameter; Qdrant's default is false. */
export function waitParam(value: unknown): boolean {
  if (value === undefined) return false;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new QdrantError(400, `Query deserialize error: wait: provided string was not \`true\` or \`false\``);
}
