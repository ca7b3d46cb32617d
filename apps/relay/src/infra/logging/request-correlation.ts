import type { RequestHandler } from 'express';
import { requestCorrelationId, withCorrelation } from './correlation.js';

export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * The first middleware of the HTTP server: takes the request's `x-request-id` when it is well
 * formed (from HAProxy or the client) or makes one, answers it back in the same header, and
 * handles the request under it, so every log line the request causes, and every job it
 * queues, carries it (docs/operations.md, "Logs").
 */
export function requestCorrelation(): RequestHandler {
  return (request, response, next) => {
    const correlationId = requestCorrelationId(request.headers[REQUEST_ID_HEADER]);
    response.setHeader(REQUEST_ID_HEADER, correlationId);
    withCorrelation(correlationId, next);
  };
}
