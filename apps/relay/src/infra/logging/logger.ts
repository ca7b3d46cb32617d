import { pino, type Logger } from 'pino';

/**
 * Keys whose values are never written anywhere, at any depth: secrets, tokens and patient
 * identifiers. The logger redacts them; the audit trail drops them.
 */
export const REDACTED_KEYS = [
  'password',
  'secret',
  'token',
  'accessToken',
  'refreshToken',
  'passwordHash',
  'secretHash',
  'authorization',
  'nationalId',
  'patientRef',
] as const;

/**
 * Structured JSON logs. Ids only: anything that could carry a patient identifier, a
 * secret or a token is redacted by path, whatever the caller passes.
 */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'telerelay-relay' },
    redact: {
      paths: [
        ...REDACTED_KEYS.flatMap((key) => [key, `*.${key}`]),
        'headers.authorization',
        'req.headers.authorization',
      ],
      censor: '[redacted]',
    },
  });
}
export type { Logger };
