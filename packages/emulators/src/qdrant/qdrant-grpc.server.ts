import http2 from 'node:http2';
import { type AddressInfo } from 'node:net';
import path from 'node:path';
import { createRequire } from 'node:module';
import { type DescService } from '@bufbuild/protobuf';
import { Code, ConnectError, type ConnectRouter, type HandlerContext } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import {
  Qdrant,
  type CountPoints,
  type DeletePoints,
  type GetPoints,
  type QueryPoints,
  type ScrollPoints,
  type UpsertPoints,
} from '@qdrant/js-client-grpc';
import { type Logger } from '@catalog-indexer/logger';
import { type TriggeredFault } from '../shared/fault-injector';
import { sleep } from '../shared/sleep';
import {
  filterJson,
  idJson,
  operationMessage,
  pointIdMessage,
  pointJson,
  retrievedMessage,
  scoredMessage,
  stageJson,
  withPayloadJson,
  withVectorJson,
} from './grpc-convert';
import { QdrantError } from './qdrant-error';

/** The point operations of the engine the gRPC side shares with the REST side, on REST bodies. */
export interface PointsEngine {
  upsertPoints(collection: string, body: Record<string, unknown>): number;
  deletePointsOf(collection: string, body: Record<string, unknown>): number;
  retrievePoints(collection: string, body: Record<string, unknown>): Record<string, unknown>[];
  scrollPoints(collection: string, body: Record<string, unknown>): { points: Record<string, unknown>[]; next_page_offset: number | string | null };
  countPoints(collection: string, body: Record<string, unknown>): number;
  queryPoints(collection: string, body: Record<string, unknown>): { points: Record<string, unknown>[] };
}

export interface QdrantGrpcServerOptions {
  engine: PointsEngine;
  version: string;
  apiKey?: string;
  /** The fault armed for a call (matched on method `POST` and path `/qdrant.Points/Upsert`…), if any. */
  takeFault: (method: string, path: string) => TriggeredFault | undefined;
  logger?: Logger;
}

/** The flow-control window Qdrant's gRPC server gives a connection and each of its streams: hyper's default, 1 MiB. */
export const FLOW_CONTROL_WINDOW = 1024 * 1024;

/**
 * The `qdrant.Points` service descriptor as the official client publishes it. Its package exports only its
 * entry point, so the generated file beside it is loaded by path (the same module the client itself loads).
 */
function pointsService(): DescService {
  const load = createRequire(__filename);
  const file = path.join(path.dirname(load.resolve('@qdrant/js-client-grpc')), 'proto', 'points_service_pb.js');
  return (load(file) as { Points: DescService }).Points;
}

/** gRPC codes for the HTTP statuses of the REST side, as Qdrant maps one error to both. */
function codeOf(status: number): Code {
  if (status === 400 || status === 413 || status === 422) return Code.InvalidArgument;
  if (status === 401) return Code.Unauthenticated;
  if (status === 403) return Code.PermissionDenied;
  if (status === 404) return Code.NotFound;
  if (status === 409) return Code.AlreadyExists;
  if (status === 429) return Code.ResourceExhausted;
  if (status === 503) return Code.Unavailable;
  if (status === 504 || status === 408) return Code.DeadlineExceeded;
  return Code.Internal;
}

function connectError(error: QdrantError): ConnectError {
  const metadata: Record<string, string> = {};
  if (error.retryAfterSeconds !== undefined) metadata['retry-after'] = String(error.retryAfterSeconds);
  return new ConnectError(error.message, codeOf(error.status), metadata);
}

/** Health checks are open, as on Qdrant (the REST side's `/healthz` too). */
const OPEN_METHODS = new Set(['/qdrant.Qdrant/HealthCheck']);

/**
 * Qdrant's gRPC API (HTTP/2, protobuf) for the emulator: `qdrant.Points` (Upsert, Delete, Get, Scroll,
 * Count, Query) and `qdrant.Qdrant` (HealthCheck), served by `@connectrpc/connect-node` from the same
 * engine, collections and query engine as the REST side. API key (`api-key` metadata or a bearer token) and
 * injected faults apply as on REST.
 */
export class QdrantGrpcServer {
  private server: http2.Http2Server | undefined;
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  /** The calls waiting for their turn on the engine (see {@link inTurn}). */
  private turns: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: QdrantGrpcServerOptions) {}

  /** Starts listening on 127.0.0.1 (port 0 picks a free one); returns the port. */
  async start(port: number): Promise<number> {
    const handler = connectNodeAdapter({ grpc: true, grpcWeb: false, connect: false, routes: (router) => this.routes(router) });
    // Qdrant's gRPC server (tonic on hyper) advertises 1 MiB flow-control windows, for the connection and
    // for each stream, where HTTP/2's default is 64 KiB: an upsert of a few hundred points is sent whole
    // rather than in round trips that wait for this process to read and acknowledge each 64 KiB.
    const server = http2.createServer({ settings: { initialWindowSize: FLOW_CONTROL_WINDOW } }, handler);
    server.on('session', (session) => {
      session.setLocalWindowSize(FLOW_CONTROL_WINDOW);
      this.sessions.add(session);
      session.once('close', () => this.sessions.delete(session));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    return (server.address() as AddressInfo).port;
  }

  /** Stops listening and ends open sessions at once. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const session of this.sessions) session.destroy();
    this.sessions.clear();
    await closed;
  }

  private routes(router: ConnectRouter): void {
    const engine = this.options.engine;
    const started = () => process.hrtime.bigint();
    const seconds = (from: bigint) => Number(process.hrtime.bigint() - from) / 1e9;
    router.service(Qdrant, {
      healthCheck: (_req, ctx) => this.serve(ctx, () => ({ title: 'qdrant - vector search engine', version: this.options.version })),
    });
    router.service(pointsService(), {
      upsert: (req: UpsertPoints, ctx: HandlerContext) =>
        this.serve(ctx, () => {
          const from = started();
          const body = { points: req.points.map(pointJson) };
          return operationMessage(engine.upsertPoints(req.collectionName, body), req.wait, seconds(from));
        }),
      delete: (req: DeletePoints, ctx: HandlerContext) =>
        this.serve(ctx, () => {
          const from = started();
          const selector = req.points?.pointsSelectorOneOf;
          const body =
            selector?.case === 'points'
              ? { points: selector.value.ids.map(idJson) }
              : selector?.case === 'filter'
                ? { filter: filterJson(selector.value) ?? {} }
                : {};
          return operationMessage(engine.deletePointsOf(req.collectionName, body), req.wait, seconds(from));
        }),
      get: (req: GetPoints, ctx: HandlerContext) =>
        this.serve(ctx, () => {
          const from = started();
          const body = { ids: req.ids.map(idJson), with_payload: withPayloadJson(req.withPayload), with_vector: withVectorJson(req.withVectors) };
          return { result: engine.retrievePoints(req.collectionName, body).map(retrievedMessage), time: seconds(from) };
        }),
      scroll: (req: ScrollPoints, ctx: HandlerContext) =>
        this.serve(ctx, () => {
          const from = started();
          if (req.orderBy) throw QdrantError.unsupported('Scroll with order_by');
          const body = {
            filter: filterJson(req.filter),
            offset: req.offset ? idJson(req.offset) : undefined,
            limit: req.limit,
            with_payload: withPayloadJson(req.withPayload),
            with_vector: withVectorJson(req.withVectors),
          };
          const page = engine.scrollPoints(req.collectionName, body);
          return {
            result: page.points.map(retrievedMessage),
            ...(page.next_page_offset !== null ? { nextPageOffset: pointIdMessage(page.next_page_offset) } : {}),
            time: seconds(from),
          };
        }),
      count: (req: CountPoints, ctx: HandlerContext) =>
        this.serve(ctx, () => {
          const from = started();
          return { result: { count: BigInt(engine.countPoints(req.collectionName, { filter: filterJson(req.filter) })) }, time: seconds(from) };
        }),
      query: (req: QueryPoints, ctx: HandlerContext) =>
        this.serve(ctx, () => {
          const from = started();
          if (req.lookupFrom) throw QdrantError.unsupported('Query with lookup_from');
          const body = {
            ...stageJson(req),
            ...(req.offset !== undefined ? { offset: Number(req.offset) } : {}),
            with_payload: withPayloadJson(req.withPayload),
            with_vector: withVectorJson(req.withVectors),
          };
          return { result: engine.queryPoints(req.collectionName, body).points.map(scoredMessage), time: seconds(from) };
        }),
    } as never);
  }

  /** One call: its fault if one is armed, the API key, then `answer`; Qdrant's errors as gRPC statuses. */
  private async serve<T>(ctx: HandlerContext, answer: () => T): Promise<T> {
    const method = `/${ctx.service.typeName}/${ctx.method.name}`;
    const fault = this.options.takeFault('POST', method);
    if (fault) {
      await sleep(fault.delayMs);
      if (ctx.signal.aborted) throw new ConnectError('the client went away', Code.Canceled);
      if (fault.status !== undefined) {
        const message = fault.message ?? (fault.status >= 500 ? 'Service unavailable (injected fault)' : 'Injected fault');
        throw connectError(new QdrantError(fault.status, message, fault.retryAfterSeconds));
      }
    }
    const apiKey = this.options.apiKey;
    if (apiKey !== undefined && !OPEN_METHODS.has(method)) {
      const given = ctx.requestHeader.get('api-key') ?? ctx.requestHeader.get('authorization')?.replace(/^Bearer\s+/i, '');
      if (!given) throw new ConnectError('Must provide an API key or an Authorization bearer token', Code.Unauthenticated);
      if (given !== apiKey) throw new ConnectError('Invalid API key or JWT', Code.PermissionDenied);
    }
    try {
      return await this.inTurn(answer);
    } catch (error) {
      if (error instanceof QdrantError) throw connectError(error);
      this.options.logger?.error({ err: error, method }, 'qdrant emulator failed (gRPC)');
      throw new ConnectError(`Service internal error: ${(error as Error).message}`, Code.Internal);
    }
  }

  /**
   * Computes one call at a time, each in an event-loop turn of its own, so that each answer leaves as soon as
   * it is computed. Without it, the calls that one read of the HTTP/2 connection brings (sixteen clients'
   * queries at once) were all computed before any answer was flushed, and came back to the client together:
   * Qdrant, on its own cores, answers each when it is done, and so does this emulator's REST side, which
   * reads each request from its own connection.
   */
  private inTurn<T>(work: () => T): Promise<T> {
    const turn = this.turns.then(() => new Promise<void>((resolve) => setImmediate(resolve))).then(work);
    this.turns = turn.catch(() => undefined);
    return turn;
  }
}
