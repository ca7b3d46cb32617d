import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import type { PrometheusMetrics } from './prometheus-metrics.js';

/** Where Prometheus scrapes. Outside /api: it is not part of the relay's API (no OpenAPI entry). */
export const METRICS_PATH = '/metrics';

/**
 * GET /metrics in Prometheus's text format, for a scraper that sends `Authorization: Bearer
 * <METRICS_TOKEN>`. Without a configured token the path answers 404 as if absent, so a relay
 * that was not set up for scraping tells an outsider nothing (docs/operations.md, "Metrics").
 * A wrong or missing token is answered 401 and reported through `refused`.
 */
export function metricsEndpoint(
  metrics: PrometheusMetrics,
  token: string | undefined,
  refused: (request: Request) => void,
): RequestHandler {
  const expected = token === undefined ? undefined : digest(token);
  return (request, response, next) => {
    if (expected === undefined) {
      response.status(404).json({ statusCode: 404, code: 'NOT_FOUND', message: 'Not found' });
      return;
    }
    const header = request.headers.authorization ?? '';
    const offered = /^Bearer (\S+)$/i.exec(header)?.[1];
    // Compared as digests, in constant time: the token's length leaks nothing either.
    if (offered === undefined || !timingSafeEqual(digest(offered), expected)) {
      refused(request);
      response
        .status(401)
        .set('WWW-Authenticate', 'Bearer')
        .json({ statusCode: 401, code: 'UNAUTHENTICATED', message: 'A metrics token is required' });
      return;
    }
    metrics.exposition().then(({ contentType, body }) => {
      response.status(200).set('Content-Type', contentType).send(body);
    }, next);
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
