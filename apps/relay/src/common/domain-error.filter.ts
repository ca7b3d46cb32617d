import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import type { ApiError } from '#contracts';
import { DOMAIN_ERROR_STATUS, DomainError } from './domain-error.js';
import type { Logger } from '../infra/logging/logger.js';

/** Maps every error leaving a REST handler to one JSON shape; internals are never echoed. */
@Catch()
export class DomainErrorFilter implements ExceptionFilter {
  constructor(private readonly log: Logger) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const body = this.toApiError(error);
    if (body.statusCode >= 500) this.log.error({ err: error }, 'request failed');
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
