/**
 * The one error currency of the relay's domain code. Each edge maps it: REST to an HTTP
 * status (DomainErrorFilter), Socket.IO to an error event, MQTT to a device error.
 */
export const DOMAIN_ERROR_STATUS = {
  INVALID_INPUT: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  TOO_MANY_ATTEMPTS: 429,
  UNAVAILABLE: 503,
} as const;
export type DomainErrorCode = keyof typeof DOMAIN_ERROR_STATUS;

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}
