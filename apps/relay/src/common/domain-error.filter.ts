import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { ApiError, SessionUser } from '#contracts';
import type { AuditService } from '../audit/audit.service.js';
import { DOMAIN_ERROR_STATUS, DomainError } from './domain-error.js';
import type { Metrics } from './metrics.js';
import type { Logger } from '../infra/logging/logger.js';

/**
 * Maps every error leaving a REST handler to one JSON shape; internals are never echoed.
 * It is also where every REST refusal (401, 403, 404, 429 from the guard or a service) is
 * audited, so no route can refuse without a trace; the answer waits for the audit row.
 */
@Catch()
export class DomainErrorFilter implements ExceptionFilter {
  constructor(
    private readonly log: Logger,
    private readonly audit: AuditService,
    private readonly metrics: Metrics,
  ) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<Request & { user?: SessionUser }>();
    const response = http.getResponse<Response>();
    const body = this.toApiError(error);
    if (body.statusCode >= 500) this.log.error({ err: error }, 'request failed');
    const send = () => this.respond(response, body);
    if (!(error instanceof DomainError) || !error.isRefusal) {
      send();
      return;
    }
    this.metrics.count('telerelay_refusals_total', { edge: 'rest', code: error.code });
    this.audit
      .refused(error, {
        actor: request.user ? `user:${request.user.id}` : 'anonymous',
        // The route's pattern, not the path: one action per route, whatever the ids.
        action: `${request.method} ${(request.route as { path?: string } | undefined)?.path ?? request.path}`,
        remoteAddress: request.ip,
      })
      .catch((auditError: unknown) =>
        this.log.error({ err: auditError, code: error.code }, 'audit of a refusal failed'),
      )
      .finally(send);
  }

  /** How the error is written; an edge with its own error format (FHIR) overrides it. */
  protected respond(response: Response, body: ApiError): void {
    response.status(body.statusCode).json(body);
  }

  private toApiError(error: unknown): ApiError {
    if (error instanceof DomainError) {
      return {
        statusCode: DOMAIN_ERROR_STATUS[error.code],
        code: error.code,
        message: error.message,
      };
    }
    if (error instanceof HttpException) {
      const status = error.getStatus();
      return {
        statusCode: status,
        code: status === 404 ? 'NOT_FOUND' : 'HTTP_ERROR',
        message: error.message,
      };
    }
    return { statusCode: 500, code: 'INTERNAL', message: 'Internal error' };
  }
}
