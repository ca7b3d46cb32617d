import { pino, type Logger } from 'pino';

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
        'password',
        '*.password',
        'secret',
        '*.secret',
        'token',
        '*.token',
        'accessToken',
        '*.accessToken',
        'refreshToken',
        '*.refreshToken',
        'passwordHash',
        '*.passwordHash',
        'secretHash',
        '*.secretHash',
        'authorization',
        '*.authorization',
        'headers.authorization',
        'req.headers.authorization',
        'nationalId',
        '*.nationalId',
        'patientRef',
        '*.patientRef',
      ],
      censor: '[redacted]',
    },
  });
}
export type { Logger };
