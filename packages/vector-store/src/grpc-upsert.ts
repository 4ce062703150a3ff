import { createRequire } from 'node:module';
import path from 'node:path';
import { type DescMethodUnary, type DescService, type MessageShape } from '@bufbuild/protobuf';
import { Code, ConnectError, createContextValues, type Interceptor } from '@connectrpc/connect';
import {
  createAsyncIterable,
  createMethodSerializationLookup,
  createMethodUrl,
  pipeTo,
  runUnaryCall,
  transformDecompressEnvelope,
  transformParseEnvelope,
  transformSplitEnvelope,
  validateReadWriteMaxBytes,
  type UniversalClientFn,
} from '@connectrpc/connect/protocol';
import { headerGrpcStatus, requestHeaderWithCompression, validateResponseWithCompression, validateTrailer } from '@connectrpc/connect/protocol-grpc';
import { Http2SessionManager, createNodeHttpClient } from '@connectrpc/connect-node';
import { QdrantClientResourceExhaustedError, type PointsOperationResponseSchema, type UpsertPointsSchema } from '@qdrant/js-client-grpc';
import { encodeUpsertFrame } from './point-wire';
import { type PointToWrite } from './points-transport';

type UpsertMethod = DescMethodUnary<typeof UpsertPointsSchema, typeof PointsOperationResponseSchema>;

/**
 * A module of the official client's own files. Its package exports only its entry point, so a file beside it
 * is loaded by path (the module the client itself loads).
 */
function clientModule<T>(...parts: string[]): T {
  const load = createRequire(__filename);
  return load(path.join(path.dirname(load.resolve('@qdrant/js-client-grpc')), ...parts)) as T;
}

/** `qdrant.Points/Upsert` as the official client publishes it. */
function upsertMethod(): UpsertMethod {
  return clientModule<{ Points: DescService & { method: { upsert: UpsertMethod } } }>('proto', 'points_service_pb.js').Points.method.upsert;
}

/** The version the official client names in its `user-agent`. */
function clientVersion(): string {
  const version = clientModule<{ PACKAGE_VERSION?: unknown }>('client-version.js').PACKAGE_VERSION;
  return typeof version === 'string' ? version : 'unknown';
}

export interface GrpcUpsertOptions {
  /** Qdrant's gRPC endpoint, `http://host:6334` (`https` for TLS). */
  url: string;
  apiKey?: string;
  timeoutMs: number;
}

/**
 * `qdrant.Points/Upsert` with a request encoded ahead ({@link encodeUpsertFrame}) and sent as it is. The call
 * is connect's gRPC unary call step for step (its interceptors, headers, checks of the answer's headers,
 * envelopes and trailers, from connect's own protocol functions), as the official client makes it (its
 * `user-agent`, `api-key`, `retry-after` and timeout interceptors, no compression), so errors, timeouts, API
 * keys and TLS are what the client's own upsert gives. Only the request's serialization is not connect's: it
 * would encode the message again and copy it twice more.
 */
export class GrpcUpsert {
  private readonly method = upsertMethod();
  private readonly httpClient: UniversalClientFn;
  private readonly interceptors: Interceptor[];
  private readonly url: string;
  private readonly timeoutMs: number;
  private readonly limits = validateReadWriteMaxBytes(undefined, undefined, undefined);
  private readonly output;

  constructor(options: GrpcUpsertOptions) {
    // The address as the client reads it: its port, or gRPC's 6334; a path is a prefix.
    const url = new URL(options.url);
    const baseUrl = `${url.protocol}//${url.hostname}:${url.port || 6334}${url.pathname.replace(/\/+$/, '')}`;
    const sessions = new Http2SessionManager(baseUrl);
    this.httpClient = createNodeHttpClient({ httpVersion: '2', sessionProvider: () => sessions });
    this.url = createMethodUrl(baseUrl, this.method);
    this.timeoutMs = options.timeoutMs;
    this.output = createMethodSerializationLookup(this.method, undefined, undefined, this.limits).getO(true);
    const userAgent = `qdrant-js/${clientVersion()}`;
    const { apiKey } = options;
    this.interceptors = [
      (next) => (req) => {
        req.header.set('user-agent', userAgent);
        return next(req);
      },
      (next) => (req) =>
        next(req).catch((error: unknown) => {
          if (error instanceof ConnectError && error.code === Code.ResourceExhausted) {
            const retryAfter = error.metadata.get('retry-after')?.[0];
            if (retryAfter) throw new QdrantClientResourceExhaustedError(error.rawMessage, retryAfter);
          }
          throw error;
        }),
      ...(apiKey === undefined
        ? []
        : [
            ((next) => (req) => {
              req.header.set('api-key', apiKey);
              return next(req);
            }) satisfies Interceptor,
          ]),
      // The client's timeout: the call is aborted after it (no `grpc-timeout` is sent).
      (next) => async (req) => {
        const controller = new AbortController();
        const timer = setTimeout(() => controller.abort(), this.timeoutMs);
        try {
          return await next(Object.assign(req, { signal: controller.signal }));
        } finally {
          clearTimeout(timer);
        }
      },
    ];
  }

  /** Upserts `points` into `collection` with `wait`; rejects with the `ConnectError` the client would. */
  async send(collection: string, points: readonly PointToWrite[]): Promise<void> {
    const frame = encodeUpsertFrame(collection, points);
    const { method, limits, output } = this;
    await runUnaryCall<typeof UpsertPointsSchema, typeof PointsOperationResponseSchema>({
      interceptors: this.interceptors,
      req: {
        stream: false,
        service: method.parent,
        method,
        requestMethod: 'POST',
        url: this.url,
        header: requestHeaderWithCompression(true, undefined, undefined, [], null),
        contextValues: createContextValues(),
        // What interceptors see; the points go in the frame.
        message: { collectionName: collection, wait: true },
      },
      next: async (req) => {
        const res = await this.httpClient({ url: req.url, method: 'POST', header: req.header, signal: req.signal, body: createAsyncIterable([frame.bytes]) });
        const { compression, headerError } = validateResponseWithCompression([], res.status, res.header);
        const message = await pipeTo(
          res.body,
          transformSplitEnvelope(limits.readMaxBytes),
          transformDecompressEnvelope(compression ?? null, limits.readMaxBytes),
          transformParseEnvelope(output),
          async (messages) => {
            let only: MessageShape<typeof PointsOperationResponseSchema> | undefined;
            for await (const m of messages) {
              if (only !== undefined) throw new ConnectError('protocol error: received extra output message for unary method', Code.Unimplemented);
              only = m;
            }
            return only;
          },
          { propagateDownStreamError: false },
        );
        validateTrailer(res.trailer, res.header);
        if (message === undefined) {
          if (headerError) throw headerError;
          throw new ConnectError('protocol error: missing output message for unary method', res.trailer.has(headerGrpcStatus) ? Code.Unimplemented : Code.Unknown);
        }
        if (headerError) throw new ConnectError('protocol error: received output message for unary method with error status', Code.Unknown);
        // Answered: Qdrant has read the whole request, so its buffer may take the next one. (After a failure
        // a write may still hold it; it is left to the collector.)
        frame.release();
        return { stream: false, service: method.parent, method, header: res.header, message, trailer: res.trailer };
      },
    });
  }
}
