import { type RequestHandler } from 'express';
import { httpRequestDuration, renderMetrics } from '@catalog-indexer/metrics';

/**
 * Observes every response in `cidx_http_request_duration_seconds`, labelled by the route pattern
 * (`/v1/catalogs/:id`, not the id itself, so the number of series stays bounded) and the status.
 */
export function httpMetrics(service: string): RequestHandler {
  return (req, res, next) => {
    const end = httpRequestDuration.startTimer({ service, method: req.method });
    res.on('finish', () => {
      const pattern = (req.route as { path?: unknown } | undefined)?.path;
      const route = typeof pattern === 'string' ? `${req.baseUrl}${pattern === '/' ? '' : pattern}` || '/' : req.baseUrl || 'unmatched';
      end({ route, status: String(res.statusCode) });
    });
    next();
  };
}

/** `GET /metrics` in the Prometheus text format; `before` refreshes gauges read at scrape time. */
export function metricsRoute(before?: () => Promise<void>): RequestHandler {
  return async (_req, res) => {
    await before?.().catch(() => undefined);
    const { contentType, body } = await renderMetrics();
    res.setHeader('Content-Type', contentType);
    res.send(body);
  };
}
