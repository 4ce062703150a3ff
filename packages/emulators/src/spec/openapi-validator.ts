import { readFileSync } from 'node:fs';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { parse as parseYaml } from 'yaml';

/** The parts of an OpenAPI document the validator reads. */
export interface OpenApiDocument {
  openapi: string;
  servers?: { url: string }[];
  paths: Record<string, Record<string, unknown>>;
  components?: Record<string, unknown>;
  [key: string]: unknown;
}

/** Outcome of validating one body. */
export interface SpecValidation {
  valid: boolean;
  errors: string[];
  /** JSON pointer of the schema used, when one was found. */
  schema?: string;
  operationId?: string;
}

/** Options of {@link OpenApiValidator}. */
export interface OpenApiValidatorOptions {
  /**
   * Schema (JSON pointer into the document, e.g. `#/components/schemas/ErrorResponse`) for error statuses
   * the operation does not describe. OpenAI's spec documents only 200 and 429 for embeddings, yet every
   * error it sends has the ErrorResponse shape.
   */
  errorSchema?: string;
}

interface Operation {
  method: string;
  template: string;
  pointer: string;
  operationId?: string;
  matcher: RegExp;
  definition: Record<string, unknown>;
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];
const DOC_ID = 'openapi-document';

/** Rust-style numeric formats of the Qdrant spec, checked rather than ignored. */
const NUMERIC_FORMATS: Record<string, (n: number) => boolean> = {
  uint: (n) => Number.isInteger(n) && n >= 0,
  uint8: (n) => Number.isInteger(n) && n >= 0 && n <= 255,
  uint32: (n) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff,
  uint64: (n) => Number.isInteger(n) && n >= 0,
  int32: (n) => Number.isInteger(n) && Math.abs(n) <= 0x80000000,
  int64: (n) => Number.isInteger(n),
  float: (n) => Number.isFinite(n),
  double: (n) => Number.isFinite(n),
};

const escapePointer = (segment: string): string => encodeURIComponent(segment.replace(/~/g, '~0').replace(/\//g, '~1'));

/**
 * Validates request and response bodies against an OpenAPI document: finds the operation by method and
 * path, takes the request body schema or the response schema for the status (exact, then `4XX`-style
 * ranges, then `default`), and validates with Ajv, `$ref`s resolved inside the document itself.
 * OpenAPI 3.0 documents are read as draft-07 with `nullable` rewritten to JSON Schema; 3.1 documents as
 * JSON Schema 2020-12.
 */
export class OpenApiValidator {
  private readonly ajv: Ajv;
  private readonly ops: Operation[];
  private readonly compiled = new Map<string, ValidateFunction>();
  /** Path prefix of the first server URL (`/v1` for OpenAI), stripped from request paths. */
  readonly basePath: string;

  constructor(
    readonly document: OpenApiDocument,
    private readonly options: OpenApiValidatorOptions = {},
  ) {
    const is31 = document.openapi.startsWith('3.1');
    const prepared = is31 ? document : (rewriteOpenApi30(structuredClone(document)) as OpenApiDocument);
    const ajvOptions = { strict: false, allErrors: true, validateSchema: false, logger: false as const };
    this.ajv = is31 ? new Ajv2020(ajvOptions) : new Ajv(ajvOptions);
    addFormats(this.ajv);
    for (const [name, check] of Object.entries(NUMERIC_FORMATS)) {
      this.ajv.addFormat(name, { type: 'number', validate: check });
    }
    this.ajv.addSchema(prepared, DOC_ID);
    this.basePath = serverBasePath(document.servers?.[0]?.url);
    this.ops = collectOperations(prepared);
  }

  /** Reads a JSON or YAML OpenAPI file; throws with the path when it is missing or unreadable. */
  static fromFile(filePath: string, options: OpenApiValidatorOptions = {}): OpenApiValidator {
    let text: string;
    try {
      text = readFileSync(filePath, 'utf8');
    } catch (err) {
      throw new Error(`OpenAPI spec not found or unreadable at ${filePath}: ${(err as Error).message}`);
    }
    const document = (filePath.endsWith('.json') ? JSON.parse(text) : parseYaml(text, { maxAliasCount: -1 })) as OpenApiDocument;
    if (typeof document?.openapi !== 'string' || typeof document.paths !== 'object') {
      throw new Error(`${filePath} is not an OpenAPI document`);
    }
    return new OpenApiValidator(document, options);
  }

  /** The operation serving `method path`; `path` may be concrete or a template. */
  findOperation(method: string, path: string): { template: string; operationId?: string } | undefined {
    const op = this.operation(method, path);
    return op && { template: op.template, operationId: op.operationId };
  }

  /** Every operation of the document as `METHOD template`. */
  operations(): string[] {
    return this.ops.map((o) => `${o.method.toUpperCase()} ${o.template}`);
  }

  /** Validates a request body (undefined = no body). */
  validateRequest(method: string, path: string, body: unknown): SpecValidation {
    const op = this.operation(method, path);
    if (!op) return { valid: false, errors: [`no operation ${method.toUpperCase()} ${path} in the spec`] };
    let requestBody = op.definition.requestBody as Record<string, unknown> | undefined;
    let pointer = `${op.pointer}/requestBody`;
    if (typeof requestBody?.$ref === 'string') {
      pointer = requestBody.$ref;
      requestBody = this.resolve(requestBody.$ref) as Record<string, unknown>;
    }
    if (!requestBody) {
      return body === undefined
        ? { valid: true, errors: [], operationId: op.operationId }
        : { valid: false, errors: ['the operation takes no request body'], operationId: op.operationId };
    }
    if (body === undefined) {
      return requestBody.required === true
        ? { valid: false, errors: ['the request body is required'], operationId: op.operationId }
        : { valid: true, errors: [], operationId: op.operationId };
    }
    const content = (requestBody.content ?? {}) as Record<string, unknown>;
    if (!content['application/json']) {
      return { valid: false, errors: ['the operation takes no JSON body'], operationId: op.operationId };
    }
    return this.check(`${pointer}/content/${escapePointer('application/json')}/schema`, body, op.operationId);
  }

  /** Validates a response body for a status; text bodies are checked against `text/plain` schemas. */
  validateResponse(method: string, path: string, status: number, body: unknown): SpecValidation {
    const op = this.operation(method, path);
    if (!op) return { valid: false, errors: [`no operation ${method.toUpperCase()} ${path} in the spec`] };
    const responses = (op.definition.responses ?? {}) as Record<string, Record<string, unknown>>;
    const key = [String(status), `${String(status)[0]}XX`, 'default'].find((k) => responses[k] !== undefined);
    let response = key === undefined ? undefined : responses[key];
    let pointer = `${op.pointer}/responses/${key ?? ''}`;
    if (typeof response?.$ref === 'string') {
      pointer = response.$ref;
      response = this.resolve(response.$ref) as Record<string, unknown>;
    }
    const content = response?.content as Record<string, unknown> | undefined;
    const mediaType = typeof body === 'string' && content?.['text/plain'] ? 'text/plain' : 'application/json';
    if (!content?.[mediaType]) {
      if (status >= 400 && this.options.errorSchema) return this.check(this.options.errorSchema, body, op.operationId);
      return {
        valid: false,
        errors: [`the spec describes no ${mediaType} body for status ${status} of ${op.operationId ?? op.template}`],
        operationId: op.operationId,
      };
    }
    return this.check(`${pointer}/content/${escapePointer(mediaType)}/schema`, body, op.operationId);
  }

  private operation(method: string, rawPath: string): Operation | undefined {
    const path = this.basePath && rawPath.startsWith(this.basePath) ? rawPath.slice(this.basePath.length) || '/' : rawPath;
    const m = method.toLowerCase();
    return (
      this.ops.find((o) => o.method === m && o.template === path) ??
      // Literal segments win over parameters (`/collections/aliases` over `/collections/{collection_name}`).
      this.ops
        .filter((o) => o.method === m && o.matcher.test(path))
        .sort((a, b) => paramCount(a.template) - paramCount(b.template))[0]
    );
  }

  private check(pointer: string, body: unknown, operationId: string | undefined): SpecValidation {
    const ref = pointer.startsWith('#') ? `${DOC_ID}${pointer}` : pointer;
    let validate = this.compiled.get(ref);
    if (!validate) {
      validate = this.ajv.compile({ $ref: ref });
      this.compiled.set(ref, validate);
    }
    const valid = validate(body);
    return { valid, errors: valid ? [] : formatErrors(validate.errors), schema: pointer, operationId };
  }

  private resolve(ref: string): unknown {
    return ref
      .replace(/^#\//, '')
      .split('/')
      .map((s) => decodeURIComponent(s).replace(/~1/g, '/').replace(/~0/g, '~'))
      .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], this.document);
  }
}

function collectOperations(document: OpenApiDocument): Operation[] {
  const ops: Operation[] = [];
  for (const [template, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const definition = item[method] as Record<string, unknown> | undefined;
      if (!definition) continue;
      const pattern = template
        .split(/(\{[^}]+\})/)
        .map((part) => (part.startsWith('{') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('');
      ops.push({
        method,
        template,
        pointer: `#/paths/${escapePointer(template)}/${method}`,
        operationId: definition.operationId as string | undefined,
        matcher: new RegExp(`^${pattern}$`),
        definition,
      });
    }
  }
  return ops;
}

function paramCount(template: string): number {
  return (template.match(/\{/g) ?? []).length;
}

function serverBasePath(url: string | undefined): string {
  if (!url) return '';
  try {
    const pathname = new URL(url, 'http://placeholder').pathname.replace(/\/$/, '');
    return pathname === '/' ? '' : pathname;
  } catch {
    return '';
  }
}

function formatErrors(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).slice(0, 20).map((e) => `${e.instancePath || '(root)'} ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`);
}

/**
 * Rewrites OpenAPI 3.0 schema dialect into JSON Schema draft-07: `nullable: true` becomes a `null` type
 * (a bare `{nullable: true}`, as Qdrant writes optional refs in `anyOf`, means "null"), and boolean
 * `exclusiveMinimum`/`exclusiveMaximum` become numbers.
 */
export function rewriteOpenApi30(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(rewriteOpenApi30);
  if (typeof node !== 'object' || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = rewriteOpenApi30(v);
  if (out.nullable === true) {
    delete out.nullable;
    if (typeof out.type === 'string') {
      out.type = [out.type, 'null'];
      if (Array.isArray(out.enum)) out.enum = [...(out.enum as unknown[]), null];
    } else if (Array.isArray(out.type)) {
      out.type = [...(out.type as unknown[]), 'null'];
    } else if (Object.keys(out).every((k) => ['description', 'default', 'example', 'deprecated', 'title'].includes(k))) {
      out.type = 'null';
    } else {
      const rest = { ...out };
      for (const k of Object.keys(out)) delete out[k];
      out.anyOf = [rest, { type: 'null' }];
    }
  }
  for (const key of ['exclusiveMinimum', 'exclusiveMaximum'] as const) {
    const bound = key === 'exclusiveMinimum' ? 'minimum' : 'maximum';
    if (out[key] === true && typeof out[bound] === 'number') {
      out[key] = out[bound];
      delete out[bound];
    } else if (out[key] === false) {
      delete out[key];
    }
  }
  return out;
}
