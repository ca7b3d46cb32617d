/**
 * The one error currency of the relay's domain code. Each edge maps it: REST to an HTTP
 * status (DomainErrorFilter), Socket.IO to an error event, MQTT to a device error.
 */
export const DOMAIN_ERROR_STATUS = {
  INVALID_INPUT: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  NOT_ACCEPTABLE: 406,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNPROCESSABLE: 422,
  TOO_MANY_ATTEMPTS: 429,
  UNAVAILABLE: 503,
  INSUFFICIENT_STORAGE: 507,
} as const;
export type DomainErrorCode = keyof typeof DOMAIN_ERROR_STATUS;

/**
 * The codes that refuse a caller (who they are, what their role or facility may reach).
 * Every edge audits an error with one of these, so domain code only says why.
 */
const REFUSAL_CODES: ReadonlySet<DomainErrorCode> = new Set([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'TOO_MANY_ATTEMPTS',
]);

/**
 * What the audit row of a refusal says beyond the edge's defaults (the signed-in user or
 * `anonymous`, and the route or socket event). Ids only, never a patient identifier.
 */
export interface RefusalContext {
  actor?: string;
  action?: string;
  subject?: string;
  detail?: Record<string, unknown>;
}

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly refusal: RefusalContext = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }

  get isRefusal(): boolean {
    return REFUSAL_CODES.has(this.code);
  }
}
