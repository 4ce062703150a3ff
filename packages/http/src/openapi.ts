import { z } from 'zod';
import { ERROR_STATUS } from './app-error';
import { RETRY_AFTER_SECONDS } from './middleware';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** One response of a route: JSON described by a zod schema, or another media type. */
export interface OpenApiResponse {
  description: string;
  /** JSON body; its output shape is documented. */
  schema?: z.ZodType;
  /** Media type when the body is not JSON (e.g. `text/plain` for metrics, `text/html` for Bull Board). */
  contentType?: string;
  /** Extra headers, name → description (e.g. `Location`). */
  headers?: Record<string, string>;
}

/** A route described from the same zod schemas that validate its requests. */
export interface OpenApiRoute {
  method: Method;
  /** OpenAPI form: `/v1/catalogs/{id}`. */
  path: string;
  summary: string;
  description?: string;
  tags?: string[];
  /** Path parameters, name → description; each a string (`format: uuid` when `uuid` is in the name's schema). */
  params?: Record<string, { description: string; format?: 'uuid' }>;
  query?: z.ZodObject;
  body?: z.ZodType;
  responses: Record<number, OpenApiResponse>;
  /** Error codes this route answers with (besides the ones every route has). */
  errors?: (keyof typeof ERROR_STATUS)[];
  /** Open without an API key (`/healthz`, `/readyz`). */
  public?: boolean;
}

/** The error shape of every 4xx and 5xx answer. */
export const errorBodySchema = z.object({
  error: z.object({
    code: z.enum(Object.keys(ERROR_STATUS) as [keyof typeof ERROR_STATUS, ...(keyof typeof ERROR_STATUS)[]]),
    message: z.string(),
    details: z.unknown().optional(),
  }),
});

/** A zod schema as JSON Schema 2020-12 (the dialect of OpenAPI 3.1), without the `$schema` key. */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

const ERROR_REF = { $ref: '#/components/schemas/Error' };

/**
 * Builds an OpenAPI 3.1 document from route descriptions. Every route but the public ones needs
 * `Authorization: Bearer <key>` (when keys are configured), may answer 401, and answers 503 with
 * `Retry-After` when a dependency is down.
 */
export function buildOpenApiDocument(info: { title: string; version: string; description: string }, routes: OpenApiRoute[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const parameters = [
      ...Object.entries(route.params ?? {}).map(([name, p]) => ({
        name,
        in: 'path',
        required: true,
        description: p.description,
        schema: { type: 'string', ...(p.format ? { format: p.format } : {}) },
      })),
      ...Object.entries(route.query ? (jsonSchemaOf(route.query, 'input').properties as Record<string, unknown>) : {}).map(([name, schema]) => ({
        name,
        in: 'query',
        required: false,
        schema,
      })),
    ];
    const responses: Record<string, unknown> = {};
    for (const [status, r] of Object.entries(route.responses)) {
      responses[status] = {
        description: r.description,
        ...(r.headers ? { headers: Object.fromEntries(Object.entries(r.headers).map(([h, d]) => [h, { description: d, schema: { type: 'string' } }])) } : {}),
        ...(r.schema
          ? { content: { 'application/json': { schema: jsonSchemaOf(r.schema, 'output') } } }
          : r.contentType
            ? { content: { [r.contentType]: { schema: { type: 'string' } } } }
            : {}),
      };
    }
    const errorStatuses = new Set<number>([...(route.errors ?? []).map((c) => ERROR_STATUS[c]), ...(route.public ? [] : [401]), 503]);
    if (route.body) errorStatuses.add(400).add(413).add(415);
    for (const status of errorStatuses) {
      responses[String(status)] ??= {
        description: status === 503 ? `a dependency is unavailable; retry after the number of seconds in Retry-After (${RETRY_AFTER_SECONDS})` : 'see error.code and error.message',
        ...(status === 503 ? { headers: { 'Retry-After': { description: 'seconds to wait', schema: { type: 'string' } } } } : {}),
        content: { 'application/json': { schema: ERROR_REF } },
      };
    }
    paths[route.path] ??= {};
    paths[route.path]![route.method] = {
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      ...(route.tags ? { tags: route.tags } : {}),
      operationId: `${route.method}${route.path.replace(/\{(\w+)\}/g, 'By_$1').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchemaOf(route.body, 'input') } } } } : {}),
      responses,
      ...(route.public ? { security: [] } : {}),
    };
  }
  return {
    openapi: '3.1.0',
    info,
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    components: {
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'one of the keys in API_KEYS' } },
      schemas: { Error: jsonSchemaOf(errorBodySchema, 'output') },
    },
    security: [{ apiKey: [] }],
    paths,
  };
}
