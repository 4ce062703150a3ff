import { type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { type Logger } from '@catalog-indexer/logger';
import { type Exchange, type ExchangeListener } from './exchange';
import { toExpressPath } from './route-template';

/** Where a started emulator listens. */
export interface StartedEmulator {
  url: string;
  port: number;
}

/** A route an emulator serves, in OpenAPI notation. */
export interface EmulatedRoute {
  method: 'get' | 'post' | 'put' | 'delete' | 'patch';
  template: string;
}

/** Options shared by every emulator. */
export interface EmulatorServerOptions {
  /** Called with every request/response pair (control endpoints excepted). */
  onExchange?: ExchangeListener;
  /** Logger for start/stop and unexpected errors; silent when omitted. */
  logger?: Logger;
}

type Handler = (req: Request, res: Response) => void | Promise<void>;

/** Path prefix of the emulators' own control endpoints; never recorded as exchanges. */
export const CONTROL_PREFIX = '/__emulator';

interface ResponseCapture {
  template?: string;
  json?: unknown;
  text?: string;
}

/**
 * Base of the HTTP emulators: listening on 127.0.0.1, closing cleanly, recording exchanges and keeping
 * the list of served routes (so a spec test can prove it exercised all of them).
 */
export abstract class EmulatorServer {
  private server: Server | undefined;
  private readonly listeners = new Set<ExchangeListener>();
  private readonly servedRoutes: EmulatedRoute[] = [];
  private startedUrl: string | undefined;
  protected readonly logger: Logger | undefined;

  protected constructor(options: EmulatorServerOptions) {
    if (options.onExchange) this.listeners.add(options.onExchange);
    this.logger = options.logger;
  }

  /** Builds the Express app: recording middleware, the emulator's routes, then its error handler. */
  createApp(): Express {
    this.servedRoutes.length = 0;
    const app = express();
    app.disable('x-powered-by');
    app.set('etag', false);
    app.use((req, res, next) => this.record(req, res, next));
    this.registerRoutes(app);
    app.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
      if (res.headersSent) {
        next(err);
        return;
      }
      this.handleError(err, req, res);
    });
    return app;
  }

  /** Starts listening on 127.0.0.1; port 0 picks a free port. */
  async start(port = 0): Promise<StartedEmulator> {
    if (this.server) throw new Error(`${this.constructor.name} is already started at ${this.startedUrl ?? '?'}`);
    const app = this.createApp();
    const server = await new Promise<Server>((resolve, reject) => {
      const s = app.listen(port, '127.0.0.1', (err?: Error) => (err ? reject(err) : resolve(s)));
    });
    this.server = server;
    const address = server.address() as AddressInfo;
    this.startedUrl = `http://127.0.0.1:${address.port}`;
    this.logger?.debug({ url: this.startedUrl }, 'emulator listening');
    return { url: this.startedUrl, port: address.port };
  }

  /** Stops listening and drops open keep-alive connections, so tests end promptly. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.startedUrl = undefined;
    await new Promise<void>((resolve, reject) => {
      server.close((err) => (err ? reject(err) : resolve()));
      server.closeAllConnections();
    });
  }

  /** The base URL while started. */
  get url(): string {
    if (!this.startedUrl) throw new Error(`${this.constructor.name} is not started`);
    return this.startedUrl;
  }

  /** Subscribes to exchanges; returns the unsubscribe function. */
  onExchange(listener: ExchangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Routes served by the last app built, in OpenAPI notation (control endpoints excluded). */
  routes(): EmulatedRoute[] {
    return [...this.servedRoutes];
  }

  /** Registers the emulator's routes on `app`. */
  protected abstract registerRoutes(app: Express): void;

  /** Answers an error that escaped a handler, in the emulated API's error shape. */
  protected abstract handleError(err: unknown, req: Request, res: Response): void;

  /** Declares a route by its OpenAPI template; handler rejections reach the error handler. */
  protected route(app: Express, method: EmulatedRoute['method'], template: string, handler: Handler): void {
    this.servedRoutes.push({ method, template });
    app[method](toExpressPath(template), (req: Request, res: Response, next: NextFunction) => {
      (res.locals as { capture?: ResponseCapture }).capture!.template = template;
      Promise.resolve()
        .then(() => handler(req, res))
        .catch(next);
    });
  }

  private record(req: Request, res: Response, next: NextFunction): void {
    if (req.path.startsWith(CONTROL_PREFIX)) {
      next();
      return;
    }
    const capture: ResponseCapture = {};
    (res.locals as { capture?: ResponseCapture }).capture = capture;
    const json = res.json.bind(res);
    res.json = (body: unknown) => {
      capture.json = body;
      return json(body);
    };
    const send = res.send.bind(res);
    res.send = (body?: unknown) => {
      if (typeof body === 'string' && capture.json === undefined) capture.text = body;
      return send(body);
    };
    res.on('finish', () => {
      if (this.listeners.size === 0) return;
      const exchange: Exchange = {
        method: req.method,
        path: req.path,
        template: capture.template,
        query: { ...(req.query as Record<string, unknown>) },
        status: res.statusCode,
        requestHeaders: { ...req.headers },
        responseHeaders: res.getHeaders(),
        requestBody: req.body as unknown,
        responseBody: capture.json ?? capture.text,
        responseContentType: res.getHeader('content-type')?.toString(),
      };
      for (const listener of this.listeners) {
        try {
          listener(exchange);
        } catch (err) {
          // A failing listener must not take the emulator down; it is a test's problem to report.
          this.logger?.error({ err }, 'exchange listener failed');
        }
      }
    });
    next();
  }
}
