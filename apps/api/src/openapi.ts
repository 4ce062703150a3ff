import { z } from 'zod';
import { catalogSchema } from '@catalog-indexer/catalog';
import { buildOpenApiDocument, jsonSchemaOf, type OpenApiRoute } from '@catalog-indexer/http';
import { importBody } from './routes/import.routes';
import { adoptionBody, rollbackBody } from './routes/migrations.routes';
import { itemsBody, listQuery, reindexBody, replaceQuery } from './routes/catalogs.routes';

const isoTime = z.string().describe('ISO 8601 time');
const catalogView = z.looseObject({
  id: z.uuid(),
  name: z.string(),
  description: z.string().nullable(),
  version: z.number().int(),
  createdAt: isoTime,
  updatedAt: isoTime,
});
const stored = catalogView.extend({ items: z.number().int().describe('items stored (schemas, tables, columns, relationships, documents, examples)') });
const reindexStarted = z.object({
  jobId: z.string().nullable().describe('the reindex job that carries this change; null with ?reindex=false'),
  deduplicated: z.boolean().optional(),
  statusUrl: z.string().optional(),
});
const enqueued = z.looseObject({
  jobId: z.string(),
  name: z.enum(['reindex', 'cleanup', 'reconcile']),
  deduplicated: z.boolean().describe('an equal job for the catalog was waiting or running and took this request'),
  catalogId: z.uuid(),
  statusUrl: z.string(),
});
const jobView = z.looseObject({
  id: z.string(),
  name: z.string(),
  state: z.enum(['waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized', 'waiting-children']),
  progress: z.unknown(),
  result: z.unknown(),
  failedReason: z.string().nullable(),
  attemptsMade: z.number().int(),
  data: z.record(z.string(), z.unknown()),
  createdAt: isoTime.nullable(),
  processedAt: isoTime.nullable(),
  finishedAt: isoTime.nullable(),
});
const runView = z.looseObject({
  id: z.uuid(),
  mode: z.string(),
  status: z.string(),
  jobId: z.string().nullable(),
  catalogVersion: z.number().int(),
  embedded: z.number().int(),
  skipped: z.number().int(),
  deleted: z.number().int(),
  tokens: z.number().int(),
  startedAt: isoTime,
  finishedAt: isoTime.nullable(),
  error: z.string().nullable(),
});
const indexState = z.looseObject({
  catalogId: z.uuid(),
  version: z.number().int(),
  rows: z.looseObject({ active: z.number().int(), pending: z.number().int() }).describe('dq_embeddings rows of the catalog'),
  points: z.number().int().nullable().describe('points of the catalog in Qdrant; null when Qdrant cannot be reached'),
  inStep: z.boolean().nullable().describe('one point per row and no point deletion pending; null when Qdrant cannot be reached'),
  pendingPointDeletes: z.number().int().describe('point deletions waiting in the outbox'),
  drift: z
    .object({ checkedAt: isoTime, found: z.unknown(), repaired: z.boolean() })
    .nullable()
    .describe('what the last reconcile found, and whether it repaired it'),
  lastRun: runView.extend({ details: z.unknown() }).nullable(),
});
const readiness = z.object({
  status: z.enum(['ready', 'not ready']),
  checks: z.record(z.string(), z.boolean()),
  /** What is wrong, for each dependency that is not usable (each is asked within a bound of 3 s). */
  problems: z.record(z.string(), z.string()).optional(),
  /** The real queue call readiness makes: whether it answered, and the job counts it read. */
  queue: z.looseObject({ ready: z.boolean(), counts: z.record(z.string(), z.number()).optional() }).optional(),
});

const catalogId = { id: { description: 'catalog id', format: 'uuid' as const } };
const json = (description: string, schema: z.ZodType) => ({ description, schema });

/** Every route of the api, described from the zod schemas that validate its requests. */
export const API_ROUTES: OpenApiRoute[] = [
  { method: 'post', path: '/v1/catalogs', summary: 'Store a catalog', tags: ['catalogs'], body: catalogSchema, errors: ['invalid_catalog', 'invalid_text', 'invalid_json'], responses: { 201: { ...json('stored', stored), headers: { Location: 'the catalog URL' } } } },
  { method: 'get', path: '/v1/catalogs', summary: 'List catalogs', tags: ['catalogs'], query: listQuery, errors: ['invalid_request'], responses: { 200: json('catalogs, newest first', z.object({ catalogs: z.array(catalogView.extend({ itemCount: z.number().int() })), limit: z.number().int(), offset: z.number().int() })) } },
  {
    method: 'post',
    path: '/v1/catalogs/import',
    summary: 'Import a catalog from a live PostgreSQL or MySQL/MariaDB database',
    description: 'Reads tables, views, columns, keys and comments read-only, with connect and statement timeouts. The connection string is used to connect and never stored, logged or put in a job. With catalogId the catalog is replaced and reindexed (unless ?reindex=false).',
    tags: ['catalogs'],
    query: replaceQuery,
    body: importBody,
    errors: ['invalid_request', 'invalid_catalog', 'invalid_connection_string', 'not_found', 'source_not_allowed', 'source_access_denied', 'source_database_not_found', 'source_schema_not_found', 'source_timeout', 'source_unreachable'],
    responses: {
      201: { ...json('imported as a new catalog', stored.extend({ notes: z.array(z.string()) })), headers: { Location: 'the catalog URL' } },
      200: json('imported into catalogId, version + 1', stored.extend({ notes: z.array(z.string()) }).extend(reindexStarted.shape)),
    },
  },
  {
    method: 'post',
    path: '/v1/migrations/pgvector',
    summary: 'Adopt a pgvector-era table: its vectors into Qdrant, its rows into this install, zero embedding calls',
    description: 'Checks the source before anything is written (reachable, a table with a vector column, vectors of the served model and size), then enqueues a pgvector-adoption job whose result reports rows, migrated, unchanged, skipped by reason, catalogs, tokens (0) and verified. dryRun writes nothing; dropLegacy drops the legacy vector column after a verified adoption. The connection string is never stored, logged or put in job data.',
    tags: ['jobs'],
    body: adoptionBody,
    errors: ['invalid_request', 'invalid_connection_string', 'source_access_denied', 'source_database_not_found', 'source_table_not_found', 'source_not_vector', 'source_unreachable', 'space_mismatch', 'adoption_not_verified'],
    responses: { 202: json('enqueued', z.looseObject({ jobId: z.string(), statusUrl: z.string(), source: z.string(), table: z.string(), rows: z.number().int(), dimensions: z.number().int() })) },
  },
  {
    method: 'post',
    path: '/v1/migrations/pgvector/rollback',
    summary: 'Write the vectors back from Qdrant into the legacy table (vector(n) column, recreated when dropped)',
    tags: ['jobs'],
    body: rollbackBody,
    errors: ['invalid_request'],
    responses: { 202: json('enqueued', z.object({ jobId: z.string(), statusUrl: z.string() })) },
  },
  { method: 'get', path: '/v1/catalogs/{id}', summary: 'A catalog with its document', tags: ['catalogs'], params: catalogId, errors: ['invalid_id', 'not_found'], responses: { 200: json('the catalog', catalogView.extend({ document: catalogSchema })) } },
  { method: 'put', path: '/v1/catalogs/{id}', summary: 'Replace a catalog and reindex it', description: 'version + 1; rejections of keys that still exist are kept; an incremental reindex follows unless ?reindex=false.', tags: ['catalogs'], params: catalogId, query: replaceQuery, body: catalogSchema, errors: ['invalid_id', 'invalid_catalog', 'invalid_text', 'not_found'], responses: { 200: json('replaced', stored.extend(reindexStarted.shape)) } },
  { method: 'delete', path: '/v1/catalogs/{id}', summary: 'Delete a catalog; a cleanup job removes its index', tags: ['catalogs'], params: catalogId, errors: ['invalid_id', 'not_found'], responses: { 202: json('deleted', z.object({ id: z.uuid(), deleted: z.literal(true), jobId: z.string() })) } },
  { method: 'patch', path: '/v1/catalogs/{id}/items', summary: 'Reject or restore items by key', tags: ['catalogs'], params: catalogId, body: itemsBody, errors: ['invalid_id', 'invalid_request', 'unknown_keys', 'not_found'], responses: { 200: json('changed', z.object({ id: z.uuid(), rejected: z.array(z.string()), restored: z.array(z.string()), hint: z.string() })) } },
  { method: 'post', path: '/v1/catalogs/{id}/reindex', summary: 'Start (or join) a reindex', tags: ['jobs'], params: catalogId, body: reindexBody, errors: ['invalid_id', 'invalid_request', 'not_found'], responses: { 202: json('enqueued or joined', enqueued) } },
  { method: 'post', path: '/v1/catalogs/{id}/cleanup', summary: 'Remove rejected items from the index', tags: ['jobs'], params: catalogId, errors: ['invalid_id', 'not_found'], responses: { 202: json('enqueued or joined', enqueued) } },
  { method: 'post', path: '/v1/catalogs/{id}/reconcile', summary: "Compare the catalog's rows with its points and repair both", tags: ['jobs'], params: catalogId, errors: ['invalid_id', 'not_found'], responses: { 202: json('enqueued or joined', enqueued) } },
  { method: 'get', path: '/v1/catalogs/{id}/index', summary: "The state of the catalog's index: rows, points, outbox, last reconcile and run", tags: ['jobs'], params: catalogId, errors: ['invalid_id', 'not_found'], responses: { 200: json('the index state', indexState) } },
  { method: 'get', path: '/v1/catalogs/{id}/runs', summary: 'Index runs of a catalog', tags: ['jobs'], params: catalogId, errors: ['invalid_id', 'not_found'], responses: { 200: json('runs, newest first', z.object({ runs: z.array(runView) })) } },
  { method: 'get', path: '/v1/jobs/{id}', summary: 'A job as BullMQ reports it', tags: ['jobs'], params: { id: { description: 'job id' } }, errors: ['invalid_id', 'not_found'], responses: { 200: json('the job', jobView) } },
  { method: 'get', path: '/v1/catalog.schema.json', summary: 'The catalog upload format as JSON Schema', tags: ['catalogs'], responses: { 200: json('JSON Schema 2020-12', z.record(z.string(), z.unknown())) } },
  { method: 'get', path: '/openapi.json', summary: 'This document', tags: ['operations'], responses: { 200: json('OpenAPI 3.1', z.record(z.string(), z.unknown())) } },
  { method: 'get', path: '/metrics', summary: 'Prometheus metrics', tags: ['operations'], responses: { 200: { description: 'text exposition format', contentType: 'text/plain' } } },
  { method: 'get', path: '/admin/queues', summary: 'Bull Board (HTTP Basic auth: any user, an API key as password)', tags: ['operations'], responses: { 200: { description: 'the Bull Board page', contentType: 'text/html' } } },
  { method: 'get', path: '/healthz', summary: 'Liveness', tags: ['operations'], public: true, responses: { 200: json('alive', z.object({ status: z.literal('ok') })) } },
  { method: 'get', path: '/readyz', summary: 'Readiness: Postgres answers and the job queue answers a real call', tags: ['operations'], public: true, responses: { 200: json('ready', readiness), 503: json('not ready', readiness) } },
];

/** The api's OpenAPI 3.1 document. */
export const apiOpenApiDocument = (): Record<string, unknown> =>
  buildOpenApiDocument(
    { title: 'catalog-indexer api', version: '1', description: 'Stores database catalogs, enqueues their reindex and cleanup jobs, and reports job state.' },
    API_ROUTES,
  );

/** The catalog upload format as JSON Schema 2020-12. */
export const catalogJsonSchema = (): Record<string, unknown> => ({
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: '/v1/catalog.schema.json',
  title: 'catalog',
  ...jsonSchemaOf(catalogSchema, 'input'),
});
