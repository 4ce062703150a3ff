import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { CONTROL_PREFIX, EmulatorServer, type EmulatorServerOptions, type StartedEmulator } from '../shared/emulator-server';
import { FaultInjector, type FaultRule } from '../shared/fault-injector';
import { sleep } from '../shared/sleep';
import { Collection, type PayloadIndex, type PointInput, type StoredPoint } from './collection';
import { applySettingsUpdate, parseCreateSettings } from './collection-settings';
import { type Payload, compileFilter } from './filter';
import { type PointId, parsePointId } from './point-id';
import { batchVectors, deleteKey, pointInput, pointRecord, scoredRecord, setAtKey } from './point-io';
import { QdrantError } from './qdrant-error';
import { QdrantGrpcServer } from './qdrant-grpc.server';
import { QueryEngine } from './query-engine';
import { objectBody, optionalNumber, optionalUint, waitParam, withPayload, withVector } from './request-body';
import {
  type SparseConfig,
  UNNAMED,
  describeDense,
  describeSparse,
  parseDense,
  parseLayout,
  parsePointVectors,
  sparseConfig,
} from './vectors';

/** Options of {@link QdrantEmulator}. */
export interface QdrantEmulatorOptions extends EmulatorServerOptions {
  /** When set, every request but `/`, `/healthz`, `/livez`, `/readyz` needs it (`api-key` or Bearer). */
  apiKey?: string;
  /** Version reported by `GET /`; the js client compares it with its own. Default `1.19.0`. */
  version?: string;
}

const PAYLOAD_SCHEMA_TYPES = ['keyword', 'integer', 'float', 'geo', 'text', 'bool', 'datetime', 'uuid'];
/** Paths Qdrant serves without an API key. */
const OPEN_PATHS = new Set(['/', '/healthz', '/livez', '/readyz']);
const JSON_LIMIT = '64mb';

type Locals = { startedAt?: bigint };

/** Where a started Qdrant emulator listens: REST (`url`, `port`) and gRPC (`grpcUrl`, `grpcPort`). */
export interface StartedQdrantEmulator extends StartedEmulator {
  grpcPort: number;
  grpcUrl: string;
}

/**
 * An in-memory Qdrant 1.19 server for the endpoints catalog-indexer uses. REST: collections, aliases,
 * payload indexes, points (upsert, retrieve, delete, scroll, count, query and the legacy search). gRPC, on a
 * port of its own and over the same collections and engine: the points service (upsert, delete, get,
 * scroll, count, query) and the health check (see {@link QdrantGrpcServer}). Scoring is exact over float32
 * vectors, as Qdrant stores them. Writes apply at once whatever `wait` says; only the reported status differs.
 */
export class QdrantEmulator extends EmulatorServer {
  private readonly collections = new Map<string, Collection>();
  private aliases = new Map<string, string>();
  private readonly faults = new FaultInjector();
  private readonly apiKey: string | undefined;
  private readonly version: string;
  private readonly grpc: QdrantGrpcServer;
  private startedGrpcPort: number | undefined;

  constructor(options: QdrantEmulatorOptions = {}) {
    super(options);
    this.apiKey = options.apiKey;
    this.version = options.version ?? '1.19.0';
    this.grpc = new QdrantGrpcServer({
      engine: this,
      version: this.version,
      apiKey: this.apiKey,
      takeFault: (method, path) => this.faults.take(method, path),
      logger: options.logger,
    });
  }

  /**
   * Starts REST on `port` and gRPC on `grpcPort` (0: a free port for either), both on 127.0.0.1. Faults armed
   * for a path such as `/qdrant.Points/Upsert` (method `POST`) apply to that gRPC call.
   */
  override async start(port = 0, grpcPort = 0): Promise<StartedQdrantEmulator> {
    const rest = await super.start(port);
    try {
      this.startedGrpcPort = await this.grpc.start(grpcPort);
    } catch (error) {
      await super.stop();
      throw error;
    }
    return { ...rest, grpcPort: this.startedGrpcPort, grpcUrl: `http://127.0.0.1:${this.startedGrpcPort}` };
  }

  override async stop(): Promise<void> {
    this.startedGrpcPort = undefined;
    await Promise.all([this.grpc.stop(), super.stop()]);
  }

  /** The gRPC port while started. */
  get grpcPort(): number {
    if (this.startedGrpcPort === undefined) throw new Error('QdrantEmulator is not started');
    return this.startedGrpcPort;
  }

  /** The gRPC URL while started (`http://127.0.0.1:<grpcPort>`). */
  get grpcUrl(): string {
    return `http://127.0.0.1:${this.grpcPort}`;
  }

  /** Arms a fault: the next matching requests fail with `status` and/or wait `delayMs`. */
  injectFault(rule: FaultRule): void {
    this.faults.add(rule);
  }

  /** Disarms every fault. */
  resetFaults(): void {
    this.faults.reset();
  }

  /** Drops all collections, aliases and faults. */
  reset(): void {
    this.collections.clear();
    this.aliases.clear();
    this.faults.reset();
  }

  /** Names of the existing collections. */
  collectionNames(): string[] {
    return [...this.collections.keys()];
  }

  /** Number of points in a collection (or alias), undefined when it does not exist. */
  pointCount(name: string): number | undefined {
    return this.findCollection(name)?.size;
  }

  protected registerRoutes(app: Express): void {
    app.use((_req, res, next) => {
      (res.locals as Locals).startedAt = process.hrtime.bigint();
      next();
    });
    app.use(express.json({ limit: JSON_LIMIT, strict: false }));
    this.controlRoutes(app);
    app.use((req, res, next) => this.applyFault(req, res, next));
    app.use((req, res, next) => this.checkApiKey(req, res, next));

    this.route(app, 'get', '/', (_req, res) => {
      res.json({ title: 'qdrant - vector search engine', version: this.version });
    });
    this.route(app, 'get', '/healthz', (_req, res) => this.text(res, 'healthz check passed'));
    this.route(app, 'get', '/livez', (_req, res) => this.text(res, 'healthz check passed'));
    this.route(app, 'get', '/readyz', (_req, res) => this.text(res, 'all shards are ready'));

    this.route(app, 'get', '/collections', (_req, res) => {
      this.ok(res, { collections: [...this.collections.keys()].map((name) => ({ name })) });
    });
    this.route(app, 'get', '/aliases', (_req, res) => {
      this.ok(res, { aliases: this.aliasList() });
    });
    this.route(app, 'post', '/collections/aliases', (req, res) => this.updateAliases(req, res));
    this.route(app, 'get', '/collections/{collection_name}', (req, res) => {
      const c = this.collection(req);
      this.ok(res, this.collectionInfo(c));
    });
    this.route(app, 'put', '/collections/{collection_name}', (req, res) => this.createCollection(req, res));
    this.route(app, 'patch', '/collections/{collection_name}', (req, res) => this.updateCollection(req, res));
    this.route(app, 'delete', '/collections/{collection_name}', (req, res) => {
      const name = param(req, 'collection_name');
      const existed = this.collections.delete(name);
      if (existed) this.aliases = new Map([...this.aliases].filter(([, target]) => target !== name));
      this.ok(res, existed);
    });
    this.route(app, 'get', '/collections/{collection_name}/exists', (req, res) => {
      this.ok(res, { exists: this.findCollection(param(req, 'collection_name')) !== undefined });
    });
    this.route(app, 'get', '/collections/{collection_name}/aliases', (req, res) => {
      const c = this.collection(req);
      this.ok(res, { aliases: this.aliasList().filter((a) => a.collection_name === c.name) });
    });
    this.route(app, 'put', '/collections/{collection_name}/index', (req, res) => this.createIndex(req, res));
    this.route(app, 'delete', '/collections/{collection_name}/index/{field_name}', (req, res) => {
      const c = this.collection(req);
      this.updated(req, res, c.deleteIndex(param(req, 'field_name')));
    });

    this.route(app, 'put', '/collections/{collection_name}/points', (req, res) => this.upsert(req, res));
    this.route(app, 'post', '/collections/{collection_name}/points', (req, res) => this.retrieve(req, res));
    this.route(app, 'get', '/collections/{collection_name}/points/{id}', (req, res) => {
      const c = this.collection(req);
      const raw = param(req, 'id');
      const id = parsePointId(/^\d+$/.test(raw) ? Number(raw) : raw);
      const point = c.get(id);
      if (!point) throw QdrantError.pointNotFound(id);
      this.ok(res, pointRecord(c, point, (p) => ({ ...p }), true));
    });
    this.route(app, 'post', '/collections/{collection_name}/points/delete', (req, res) => this.deletePoints(req, res));
    this.route(app, 'post', '/collections/{collection_name}/points/payload', (req, res) => this.setPayload(req, res, false));
    this.route(app, 'put', '/collections/{collection_name}/points/payload', (req, res) => this.setPayload(req, res, true));
    this.route(app, 'post', '/collections/{collection_name}/points/payload/delete', (req, res) => this.deletePayload(req, res));
    this.route(app, 'post', '/collections/{collection_name}/points/payload/clear', (req, res) => {
      const c = this.collection(req);
      this.updated(req, res, c.updatePayloads(this.selected(c, objectBody(req.body)), () => ({})));
    });
    this.route(app, 'put', '/collections/{collection_name}/points/vectors', (req, res) => this.updateVectors(req, res));
    this.route(app, 'post', '/collections/{collection_name}/points/vectors/delete', (req, res) => {
      const c = this.collection(req);
      const body = objectBody(req.body);
      if (!Array.isArray(body.vector) || !body.vector.every((n) => typeof n === 'string')) throw QdrantError.format('missing field `vector`');
      const names = body.vector;
      const unknown = names.find((n) => !c.layout.dense.has(n) && !c.layout.sparse.has(n));
      if (unknown !== undefined) throw QdrantError.wrongInput(`Not existing vector name error: ${unknown}`);
      this.updated(req, res, c.deleteVectors(this.selected(c, body), names));
    });
    this.route(app, 'post', '/collections/{collection_name}/points/scroll', (req, res) => this.scroll(req, res));
    this.route(app, 'post', '/collections/{collection_name}/points/count', (req, res) => {
      this.ok(res, { count: this.countPoints(param(req, 'collection_name'), req.body === undefined ? {} : objectBody(req.body)) });
    });
    this.route(app, 'post', '/collections/{collection_name}/points/query', (req, res) => {
      this.ok(res, this.queryPoints(param(req, 'collection_name'), req.body === undefined ? {} : objectBody(req.body)));
    });
    this.route(app, 'post', '/collections/{collection_name}/points/query/batch', (req, res) => {
      const c = this.collection(req);
      const body = objectBody(req.body);
      if (!Array.isArray(body.searches)) throw QdrantError.format('missing field `searches`');
      this.ok(res, (body.searches as unknown[]).map((s) => this.queryResult(c, objectBody(s))));
    });
    // Gone from the 1.19 spec and client, but the 1.19 server still routes it; older callers use it.
    this.route(app, 'post', '/collections/{collection_name}/points/search', (req, res) => this.search(req, res));

    app.use((req, res) => {
      this.fail(res, new QdrantError(404, `Not found: no route for ${req.method} ${req.path}`));
    });
  }

  protected handleError(err: unknown, _req: Request, res: Response): void {
    if (err instanceof QdrantError) {
      this.fail(res, err);
      return;
    }
    const bodyError = err as { type?: string; message?: string; status?: number };
    if (bodyError.type === 'entity.parse.failed') {
      this.fail(res, QdrantError.format(bodyError.message ?? 'invalid JSON'));
    } else if (bodyError.type === 'entity.too.large') {
      this.fail(res, new QdrantError(413, `Payload error: JSON payload is larger than allowed (limit: ${JSON_LIMIT})`));
    } else if (typeof bodyError.status === 'number' && bodyError.status >= 400 && bodyError.status < 500) {
      this.fail(res, new QdrantError(bodyError.status, bodyError.message ?? 'Bad request'));
    } else {
      this.logger?.error({ err }, 'qdrant emulator failed');
      this.fail(res, new QdrantError(500, `Service internal error: ${bodyError.message ?? String(err)}`));
    }
  }

  private controlRoutes(app: Express): void {
    app.post(`${CONTROL_PREFIX}/faults`, (req, res) => {
      try {
        const body = (req.body ?? {}) as FaultRule & { reset?: boolean };
        if (body.reset === true) this.faults.reset();
        else this.faults.add(body);
        res.json({ pending: this.faults.pending });
      } catch (err) {
        res.status(400).json({ error: (err as Error).message });
      }
    });
    app.delete(`${CONTROL_PREFIX}/faults`, (_req, res) => {
      this.faults.reset();
      res.json({ pending: 0 });
    });
    app.post(`${CONTROL_PREFIX}/reset`, (_req, res) => {
      this.reset();
      res.json({ reset: true });
    });
  }

  private applyFault(req: Request, res: Response, next: NextFunction): void {
    const fault = this.faults.take(req.method, req.path);
    if (!fault) {
      next();
      return;
    }
    void sleep(fault.delayMs).then(() => {
      if (fault.status === undefined) {
        next();
        return;
      }
      const message = fault.message ?? (fault.status >= 500 ? 'Service unavailable (injected fault)' : 'Injected fault');
      this.fail(res, new QdrantError(fault.status, message, fault.retryAfterSeconds));
    });
  }

  private checkApiKey(req: Request, res: Response, next: NextFunction): void {
    if (this.apiKey === undefined || OPEN_PATHS.has(req.path)) {
      next();
      return;
    }
    const header = req.get('api-key') ?? req.get('authorization')?.replace(/^Bearer\s+/i, '');
    if (header === undefined || header === '') {
      this.fail(res, new QdrantError(401, 'Must provide an API key or an Authorization bearer token'));
    } else if (header !== this.apiKey) {
      this.fail(res, new QdrantError(403, 'Invalid API key or JWT'));
    } else {
      next();
    }
  }

  private createCollection(req: Request, res: Response): void {
    const name = param(req, 'collection_name');
    const body = objectBody(req.body);
    if (this.collections.has(name)) throw QdrantError.collectionExists(name);
    if (this.aliases.has(name)) {
      throw QdrantError.wrongInput(`Can't create collection with name ${name}. Alias with the same name already exists`);
    }
    for (const unsupported of ['init_from', 'sharding_method_custom']) {
      if (body[unsupported] !== undefined && body[unsupported] !== null) throw QdrantError.unsupported(`Create collection with ${unsupported}`);
    }
    const layout = parseLayout(body.vectors, body.sparse_vectors);
    this.collections.set(name, new Collection(name, layout, parseCreateSettings(body)));
    this.ok(res, true);
  }

  private updateCollection(req: Request, res: Response): void {
    const c = this.collection(req);
    const body = objectBody(req.body);
    // Validate everything first so a refused update changes nothing.
    const sparse: [string, SparseConfig][] = [];
    if (body.sparse_vectors !== undefined && body.sparse_vectors !== null) {
      if (typeof body.sparse_vectors !== 'object' || Array.isArray(body.sparse_vectors)) throw QdrantError.format('sparse_vectors: expected a map');
      for (const [name, raw] of Object.entries(body.sparse_vectors as Record<string, unknown>)) {
        if (!c.layout.sparse.has(name)) throw QdrantError.wrongInput(`Not existing vector name error: ${name}`);
        sparse.push([name, sparseConfig(raw, `sparse_vectors.${name}`)]);
      }
    }
    const dense: [string, Record<string, unknown>][] = [];
    if (body.vectors !== undefined && body.vectors !== null) {
      if (typeof body.vectors !== 'object' || Array.isArray(body.vectors)) throw QdrantError.format('vectors: expected a map');
      for (const [name, raw] of Object.entries(body.vectors as Record<string, unknown>)) {
        if (!c.layout.dense.has(name)) throw QdrantError.wrongInput(`Not existing vector name error: ${name}`);
        if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw QdrantError.format(`vectors.${name}: expected a map`);
        dense.push([name, raw as Record<string, unknown>]);
      }
    }
    const settings = structuredClone(c.settings);
    applySettingsUpdate(settings, body);
    for (const [name, update] of sparse) {
      const old = c.layout.sparse.get(name)!;
      c.layout.sparse.set(name, {
        modifier: update.modifierSet ? update.modifier : old.modifier,
        modifierSet: update.modifierSet || old.modifierSet,
        ...(update.index ?? old.index ? { index: { ...old.index, ...update.index } } : {}),
      });
    }
    for (const [name, update] of dense) {
      const old = c.layout.dense.get(name)!;
      const extra = Object.fromEntries(Object.entries(update).filter(([, v]) => v !== null && v !== undefined));
      c.layout.dense.set(name, { ...old, extra: { ...old.extra, ...extra } });
    }
    Object.assign(c.settings, settings);
    this.ok(res, true);
  }

  private updateAliases(req: Request, res: Response): void {
    const body = objectBody(req.body);
    if (!Array.isArray(body.actions)) throw QdrantError.format('missing field `actions`');
    // Actions apply all or nothing, which is what makes an alias switch atomic.
    const next = new Map(this.aliases);
    for (const action of body.actions as unknown[]) {
      const a = (typeof action === 'object' && action !== null ? action : {}) as Record<string, Record<string, unknown> | undefined>;
      if (a.create_alias) {
        const alias = stringField(a.create_alias, 'alias_name');
        const target = stringField(a.create_alias, 'collection_name');
        if (!this.collections.has(target)) throw QdrantError.collectionNotFound(target);
        if (next.has(alias)) throw new QdrantError(409, `Wrong input: Alias \`${alias}\` already exists!`);
        if (this.collections.has(alias)) throw QdrantError.collectionExists(alias);
        next.set(alias, target);
      } else if (a.delete_alias) {
        const alias = stringField(a.delete_alias, 'alias_name');
        if (!next.delete(alias)) throw QdrantError.aliasNotFound(alias);
      } else if (a.rename_alias) {
        const from = stringField(a.rename_alias, 'old_alias_name');
        const to = stringField(a.rename_alias, 'new_alias_name');
        const target = next.get(from);
        if (target === undefined) throw QdrantError.aliasNotFound(from);
        if (next.has(to)) throw new QdrantError(409, `Wrong input: Alias \`${to}\` already exists!`);
        next.delete(from);
        next.set(to, target);
      } else {
        throw QdrantError.format('data did not match any variant of untagged enum AliasOperations');
      }
    }
    this.aliases = next;
    this.ok(res, true);
  }

  private createIndex(req: Request, res: Response): void {
    const c = this.collection(req);
    const body = objectBody(req.body);
    const field = body.field_name;
    if (typeof field !== 'string') throw QdrantError.format('missing field `field_name`');
    const schema = body.field_schema;
    let index: PayloadIndex;
    if (typeof schema === 'string' && PAYLOAD_SCHEMA_TYPES.includes(schema)) {
      index = { dataType: schema };
    } else if (
      typeof schema === 'object' &&
      schema !== null &&
      typeof (schema as { type?: unknown }).type === 'string' &&
      PAYLOAD_SCHEMA_TYPES.includes((schema as { type: string }).type)
    ) {
      const params = schema as Record<string, unknown>;
      if (params.type === 'integer' && params.lookup === false && params.range === false) {
        throw new QdrantError(
          422,
          "Validation error in JSON body: [field_schema: Validation error: the 'lookup' and 'range' capabilities can't be both disabled [{}]]",
        );
      }
      index = { dataType: params.type as string, params: { ...params } };
    } else if (schema === undefined || schema === null) {
      throw QdrantError.wrongInput('Can not infer field schema: field_schema is required by the emulator');
    } else {
      throw QdrantError.format('data did not match any variant of untagged enum PayloadFieldSchema');
    }
    this.updated(req, res, c.createIndex(field, index));
  }

  private upsert(req: Request, res: Response): void {
    this.updated(req, res, this.upsertPoints(param(req, 'collection_name'), objectBody(req.body)));
  }

  /** Upsert of a REST body (`points` or `batch`) into a collection or alias; returns the operation id. */
  upsertPoints(collection: string, body: Record<string, unknown>): number {
    const c = this.collectionNamed(collection);
    for (const unsupported of ['update_filter', 'update_mode', 'shard_key']) {
      if (body[unsupported] !== undefined && body[unsupported] !== null) throw QdrantError.unsupported(`Upsert with ${unsupported}`);
    }
    let inputs: PointInput[];
    if (Array.isArray(body.points)) {
      inputs = (body.points as unknown[]).map((raw, i) => {
        if (typeof raw !== 'object' || raw === null) throw QdrantError.format('invalid type: expected struct PointStruct');
        const p = raw as Record<string, unknown>;
        if (p.id === undefined) throw QdrantError.format('missing field `id`');
        if (p.vector === undefined) throw QdrantError.format('missing field `vector`');
        return pointInput(c.layout, p.id, p.vector, p.payload, `points[${i}].vector`);
      });
    } else if (typeof body.batch === 'object' && body.batch !== null) {
      const batch = body.batch as Record<string, unknown>;
      if (!Array.isArray(batch.ids)) throw QdrantError.format('data did not match any variant of untagged enum PointInsertOperations');
      const ids = batch.ids as unknown[];
      const vectors = batchVectors(batch.vectors, ids.length);
      const payloads = batch.payloads as unknown[] | null | undefined;
      if (Array.isArray(payloads) && payloads.length !== ids.length) {
        throw QdrantError.wrongInput('number of ids, vectors and payloads in a batch must be equal');
      }
      inputs = ids.map((id, i) => pointInput(c.layout, id, vectors[i], Array.isArray(payloads) ? payloads[i] : undefined, `batch.vectors[${i}]`));
    } else {
      throw QdrantError.format('data did not match any variant of untagged enum PointInsertOperations');
    }
    return c.upsert(inputs);
  }

  private updateVectors(req: Request, res: Response): void {
    const c = this.collection(req);
    const body = objectBody(req.body);
    if (body.update_filter !== undefined && body.update_filter !== null) throw QdrantError.unsupported('Update vectors with update_filter');
    if (!Array.isArray(body.points)) throw QdrantError.format('missing field `points`');
    const updates = (body.points as unknown[]).map((raw, i) => {
      if (typeof raw !== 'object' || raw === null) throw QdrantError.format('invalid type: expected struct PointVectors');
      const p = raw as Record<string, unknown>;
      const vectors = parsePointVectors(c.layout, p.vector, `points[${i}].vector`);
      if (vectors.dense.size === 0 && vectors.sparse.size === 0) {
        throw QdrantError.validation(`points[${i}].vector`, 'must specify vectors to update for point');
      }
      return { id: parsePointId(p.id), vectors };
    });
    this.updated(req, res, c.updateVectors(updates));
  }

  /** The points a payload operation targets: `points` (ids) or `filter`. */
  private selected(c: Collection, body: Record<string, unknown>): StoredPoint[] {
    if (Array.isArray(body.points)) return c.retrieve((body.points as unknown[]).map(parsePointId));
    if (body.filter !== undefined && body.filter !== null) {
      compileFilter(body.filter);
      return c.select(body.filter);
    }
    throw QdrantError.format('either `points` or `filter` is required');
  }

  /** `POST …/payload` merges keys into the payload (or under `key`); `PUT` replaces the whole payload. */
  private setPayload(req: Request, res: Response, overwrite: boolean): void {
    const c = this.collection(req);
    const body = objectBody(req.body);
    const payload = body.payload;
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw QdrantError.format('missing field `payload`');
    const key = typeof body.key === 'string' ? body.key : undefined;
    if (overwrite && key !== undefined) throw QdrantError.unsupported('Overwriting payload under a key');
    const targets = this.selected(c, body);
    const change = overwrite
      ? () => structuredClone(payload as Payload)
      : (old: Payload) => (key === undefined ? { ...old, ...structuredClone(payload as Payload) } : setAtKey(old, key, payload as Payload));
    this.updated(req, res, c.updatePayloads(targets, change));
  }

  private deletePayload(req: Request, res: Response): void {
    const c = this.collection(req);
    const body = objectBody(req.body);
    if (!Array.isArray(body.keys) || !body.keys.every((k) => typeof k === 'string')) throw QdrantError.format('missing field `keys`');
    const keys = body.keys;
    this.updated(req, res, c.updatePayloads(this.selected(c, body), (old) => keys.reduce(deleteKey, old)));
  }

  private retrieve(req: Request, res: Response): void {
    this.ok(res, this.retrievePoints(param(req, 'collection_name'), objectBody(req.body)));
  }

  /** Records of the points a REST retrieve body names. */
  retrievePoints(collection: string, body: Record<string, unknown>): Record<string, unknown>[] {
    const c = this.collectionNamed(collection);
    if (!Array.isArray(body.ids)) throw QdrantError.format('missing field `ids`');
    const ids = (body.ids as unknown[]).map(parsePointId);
    const projection = withPayload(body.with_payload, true);
    const vectors = withVector(body, false);
    return c.retrieve(ids).map((p) => pointRecord(c, p, projection, vectors));
  }

  private deletePoints(req: Request, res: Response): void {
    this.updated(req, res, this.deletePointsOf(param(req, 'collection_name'), objectBody(req.body)));
  }

  /** Deletes the points a REST body selects (`points` or `filter`); returns the operation id. */
  deletePointsOf(collection: string, body: Record<string, unknown>): number {
    const c = this.collectionNamed(collection);
    if (Array.isArray(body.points)) return c.deleteIds((body.points as unknown[]).map(parsePointId));
    if (typeof body.filter === 'object' && body.filter !== null) {
      compileFilter(body.filter);
      return c.deleteWhere(body.filter);
    }
    throw QdrantError.format('data did not match any variant of untagged enum PointsSelector');
  }

  private scroll(req: Request, res: Response): void {
    this.ok(res, this.scrollPoints(param(req, 'collection_name'), req.body === undefined ? {} : objectBody(req.body)));
  }

  /** One page of a REST scroll body: `{points, next_page_offset}`. */
  scrollPoints(collection: string, body: Record<string, unknown>): { points: Record<string, unknown>[]; next_page_offset: PointId | null } {
    const c = this.collectionNamed(collection);
    if (body.order_by !== undefined && body.order_by !== null) throw QdrantError.unsupported('Scroll with order_by');
    const limit = optionalUint(body, 'limit', 10, 1);
    const offset = body.offset === undefined || body.offset === null ? undefined : parsePointId(body.offset);
    const projection = withPayload(body.with_payload, true);
    const vectors = withVector(body, false);
    compileFilter(body.filter);
    const { points: page, next } = c.page(body.filter, offset, limit);
    return {
      points: page.map((p) => pointRecord(c, p, projection, vectors)),
      next_page_offset: next ? next.id : null,
    };
  }

  /** The number of points a REST count body's filter selects (always exact). */
  countPoints(collection: string, body: Record<string, unknown>): number {
    const c = this.collectionNamed(collection);
    compileFilter(body.filter);
    return c.count(body.filter);
  }

  /** The answer to a REST query body: `{points}`, scored records best first. */
  queryPoints(collection: string, body: Record<string, unknown>): { points: Record<string, unknown>[] } {
    return this.queryResult(this.collectionNamed(collection), body);
  }

  private queryResult(c: Collection, body: Record<string, unknown>): { points: Record<string, unknown>[] } {
    const projection = withPayload(body.with_payload, false);
    const vectors = withVector(body, false);
    const hits = new QueryEngine(c).run(body);
    return { points: hits.map((h) => scoredRecord(c, h.point, h.score, projection, vectors)) };
  }

  private search(req: Request, res: Response): void {
    const c = this.collection(req);
    const body = objectBody(req.body);
    let raw = body.vector;
    let using = UNNAMED;
    if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
      const named = raw as { name?: unknown; vector?: unknown };
      using = typeof named.name === 'string' ? named.name : UNNAMED;
      raw = named.vector;
    }
    const config = c.layout.dense.get(using);
    if (!config) throw QdrantError.wrongInput(`Not existing vector name error: ${using}`);
    const vector = parseDense(raw, config);
    const limitField = body.limit === undefined && body.top !== undefined ? 'top' : 'limit';
    if (body[limitField] === undefined) throw QdrantError.format('missing field `limit`');
    const limit = optionalUint(body, limitField, 10, 1);
    const offset = optionalUint(body, 'offset', 0, 0);
    compileFilter(body.filter);
    const hits = c.searchDense(using, vector, {
      filter: body.filter,
      limit: limit + offset,
      scoreThreshold: optionalNumber(body, 'score_threshold'),
    });
    const projection = withPayload(body.with_payload, false);
    const vectors = withVector(body, false);
    this.ok(res, hits.slice(offset).map((h) => scoredRecord(c, h.point, h.score, projection, vectors)));
  }

  private collectionInfo(c: Collection): Record<string, unknown> {
    const sparse = describeSparse(c.layout);
    const { params, ...sections } = c.settings;
    return {
      status: 'green',
      optimizer_status: 'ok',
      indexed_vectors_count: 0,
      points_count: c.size,
      segments_count: 1,
      config: {
        params: { vectors: describeDense(c.layout), ...(sparse ? { sparse_vectors: sparse } : {}), ...params },
        quantization_config: null,
        ...sections,
      },
      payload_schema: c.payloadSchema(),
    };
  }

  private aliasList(): { alias_name: string; collection_name: string }[] {
    return [...this.aliases].map(([alias_name, collection_name]) => ({ alias_name, collection_name }));
  }

  private findCollection(name: string): Collection | undefined {
    return this.collections.get(name) ?? this.collections.get(this.aliases.get(name) ?? '');
  }

  /** The collection (or alias target) named in the path, or Qdrant's 404. */
  private collection(req: Request): Collection {
    return this.collectionNamed(param(req, 'collection_name'));
  }

  /** The collection (or alias target) of that name, or Qdrant's 404. */
  private collectionNamed(name: string): Collection {
    const c = this.findCollection(name);
    if (!c) throw QdrantError.collectionNotFound(name);
    return c;
  }

  private updated(req: Request, res: Response, operationId: number): void {
    const wait = waitParam(req.query.wait);
    this.ok(res, { operation_id: operationId, status: wait ? 'completed' : 'acknowledged' });
  }

  private ok(res: Response, result: unknown): void {
    res.json({ result, status: 'ok', time: elapsed(res) });
  }

  private text(res: Response, body: string): void {
    res.type('text/plain').send(body);
  }

  private fail(res: Response, error: QdrantError): void {
    if (error.retryAfterSeconds !== undefined) res.set('retry-after', String(error.retryAfterSeconds));
    res.status(error.status).json({ status: { error: error.message }, time: elapsed(res) });
  }
}

function param(req: Request, name: string): string {
  const value = (req.params as Record<string, string | undefined>)[name];
  if (value === undefined) throw new QdrantError(500, `Service internal error: route lacks parameter ${name}`);
  return value;
}

function stringField(obj: Record<string, unknown>, field: string): string {
  const value = obj[field];
  if (typeof value !== 'string') throw QdrantError.format(`missing field \`${field}\``);
  return value;
}

function elapsed(res: Response): number {
  const started = (res.locals as Locals).startedAt;
  return started === undefined ? 0 : Number(process.hrtime.bigint() - started) / 1e9;
}

