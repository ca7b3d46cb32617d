import type { LoggerService } from '@nestjs/common';
import { scrubErrorText, type Logger } from './logger.js';

/** Routes Nest's own messages into the relay's JSON log. */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string): void {
    this.logger.debug({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string): void {
    // Nest passes an error's message and stack as text: a failed query's parameters with them.
    this.logger.error(
      { context, trace: trace === undefined ? undefined : scrubErrorText(trace) },
      scrubErrorText(String(message)),
    );
  }
  warn(message: unknown, context?: string): void {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string): void {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string): void {
    this.logger.trace({ context }, String(message));
  }
}
