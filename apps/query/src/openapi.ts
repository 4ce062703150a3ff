import { z } from 'zod';
import { buildOpenApiDocument, type OpenApiRoute } from '@catalog-indexer/http';
import { contextBody } from './routes/context.routes';
import { searchBody } from './routes/search.routes';

const searchResult = z.looseObject({
  id: z.uuid(),
  kind: z.string(),
  score: z.number(),
  content: z.string(),
  key: z.string(),
  metadata: z.looseObject({ schema: z.string().nullable().optional(), table: z.string().nullable().optional(), column: z.string().nullable().optional() }),
});
const readiness = z.object({
  status: z.enum(['ready', 'not ready']),
  checks: z.record(z.string(), z.boolean()),
  /** What is wrong, for each dependency that is not usable (each is asked within a bound of 3 s). */
  problems: z.record(z.string(), z.string()).optional(),
  /** The configured embedder and the space questions are embedded in now. */
  embedder: z.looseObject({ configured: z.string() }).optional(),
});

/** Every route of the query service, described from the zod schemas that validate its requests. */
export const QUERY_ROUTES: OpenApiRoute[] = [
  {
    method: 'post',
    path: '/v1/search',
    summary: 'The chunks of one catalog nearest to a question',
    tags: ['search'],
    body: searchBody,
    errors: ['invalid_request', 'invalid_text', 'invalid_json'],
    responses: { 200: { description: 'results, best first', schema: z.looseObject({
          results: z.array(searchResult),
          timings: z.record(z.string(), z.number()),
          space: z.object({ embedder: z.string(), collection: z.string().nullable() }),
        }) } },
  },
  {
    method: 'post',
    path: '/v1/context',
    summary: 'The tables, columns, joins, documents and examples a SQL generator needs for a question',
    tags: ['search'],
    body: contextBody,
    errors: ['invalid_request', 'invalid_text', 'invalid_json', 'not_found'],
    responses: {
      200: {
        description: 'tables by relevance, their join conditions, and a prompt-ready text within the token budget',
        schema: z.looseObject({
          tables: z.array(z.looseObject({ schema: z.string(), table: z.string(), score: z.number(), columns: z.array(z.looseObject({ name: z.string() })) })),
          joins: z.array(z.looseObject({ from: z.looseObject({ table: z.string() }), to: z.looseObject({ table: z.string() }) })),
          text: z.string(),
          tokens: z.number(),
        }),
      },
    },
  },
  { method: 'get', path: '/openapi.json', summary: 'This document', tags: ['operations'], responses: { 200: { description: 'OpenAPI 3.1', schema: z.record(z.string(), z.unknown()) } } },
  { method: 'get', path: '/metrics', summary: 'Prometheus metrics', tags: ['operations'], responses: { 200: { description: 'text exposition format', contentType: 'text/plain' } } },
  { method: 'get', path: '/healthz', summary: 'Liveness', tags: ['operations'], public: true, responses: { 200: { description: 'alive', schema: z.object({ status: z.literal('ok') }) } } },
  { method: 'get', path: '/readyz', summary: 'Readiness: Postgres and Qdrant answer', tags: ['operations'], public: true, responses: { 200: { description: 'ready', schema: readiness }, 503: { description: 'not ready', schema: readiness } } },
];

/** The query service's OpenAPI 3.1 document. */
export const queryOpenApiDocument = (routes: OpenApiRoute[] = QUERY_ROUTES): Record<string, unknown> =>
  buildOpenApiDocument({ title: 'catalog-indexer query', version: '1', description: 'The read path: the chunks and tables of a catalog that matter to a question.' }, routes);
