import { pino, type DestinationStream, type LogFn, type Logger } from 'pino';
import { currentCorrelationId } from './correlation.js';

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
  // The patient's identifier under every name the records domain gives it (docs/audit.md).
  'idNumber',
  'identifier',
  'documentNumber',
  'patientRef',
  // The patient's mobile number (docs/consent.md, "SMS gateway").
  'mobile',
  'phoneNumber',
] as const;

const CENSOR = '[redacted]';
// Header names arrive in any case (`Authorization`), so keys are compared in lower case.
const REDACTED = new Set<string>(REDACTED_KEYS.map((key) => key.toLowerCase()));

/**
 * Bounds of the walk over a logged object, so a cyclic or huge object costs a few hundred
 * steps and a marker, never the process.
 */
const MAX_DEPTH = 8;
const MAX_ENTRIES = 100;

/**
 * What an error keeps in the log: its type, message and stack, and the fields of a database
 * error that say which rule failed without the values that broke it (the SQLSTATE code,
 * constraint, table, column). Everything else is left out, above all drizzle's and PGlite's
 * `params` (a patient reference, a password hash) and PostgreSQL's `detail`
 * (`Key (username)=(…) already exists`).
 */
const ERROR_FIELDS = [
  'code',
  'severity',
  'constraint',
  'table',
  'column',
  'schema',
  'dataType',
  'routine',
  'query',
  'errno',
  'syscall',
] as const;

/**
 * drizzle writes the parameters into the message of a failed query
 * (`Failed query: …\nparams: a,b`), and so into its stack; they end at the stack's first
 * frame or at the end of a bare message.
 */
const PARAMS_LINE = /\nparams: [\s\S]*?(?=\n {4}at |$)/g;

/** Takes the parameters out of an error's message or stack, or of a message passed alone. */
export function scrubErrorText(text: string, params: readonly string[] = []): string {
  let scrubbed = text.replace(PARAMS_LINE, `\nparams: ${CENSOR}`);
  // PostgreSQL quotes a bad value in its message (`invalid input syntax for type uuid: "…"`).
  for (const value of params) {
    if (value.length === 0) continue;
    scrubbed = scrubbed.replaceAll(`"${value}"`, `"${CENSOR}"`);
    if (value.length >= 4) scrubbed = scrubbed.replaceAll(value, CENSOR);
  }
  return scrubbed;
}

/** The string parameters of a failed query, wherever in the cause chain they hang. */
function paramsOf(error: Error): string[] {
  const found: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < MAX_DEPTH; depth += 1) {
    const params = (current as { params?: unknown }).params;
    if (Array.isArray(params)) {
      for (const param of params) if (typeof param === 'string') found.push(param);
    }
    current = current.cause;
  }
  // Longest first, so a value that contains another is masked whole.
  return found.sort((a, b) => b.length - a.length);
}

/**
 * pino's `err` serializer, and how an error anywhere in a log line is written: by an allow
 * list, so a new driver's error that carries its query parameters leaks nothing.
 */
export function serializeError(value: unknown): unknown {
  if (typeof value === 'string') return scrubErrorText(value);
  if (!(value instanceof Error)) return redactValue(value, 0);
  return errorFields(value, paramsOf(value), 0);
}

function errorFields(error: Error, params: readonly string[], depth: number): unknown {
  const out: Record<string, unknown> = {
    // DrizzleQueryError and others keep the name 'Error'; their class says more.
    type: error.name === 'Error' ? error.constructor.name : error.name,
    message: scrubErrorText(error.message, params),
  };
  if (error.stack) out['stack'] = scrubErrorText(error.stack, params);
  for (const key of ERROR_FIELDS) {
    const field = (error as unknown as Record<string, unknown>)[key];
    if (typeof field === 'string') out[key] = scrubErrorText(field, params);
    else if (typeof field === 'number') out[key] = field;
  }
  if (error.cause !== undefined && depth < MAX_DEPTH) {
    out['cause'] =
      error.cause instanceof Error
        ? errorFields(error.cause, params, depth + 1)
        : redactValue(error.cause, depth + 1);
  }
  if (error instanceof AggregateError && depth < MAX_DEPTH) {
    out['errors'] = (error.errors as unknown[])
      .slice(0, MAX_ENTRIES)
      .map((inner) => (inner instanceof Error ? errorFields(inner, params, depth + 1) : inner));
  }
  return out;
}

/**
 * A copy of a logged value with every REDACTED_KEYS value censored at any depth, inside
 * arrays too, and errors written by `serializeError`. pino's own `redact` takes paths, which
 * cannot say "at any depth", so the logger walks the object itself.
 */
export function redactValue(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return serializeError(value);
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (value instanceof Date) return value;
  if (ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_ENTRIES).map((item) => redactValue(item, depth + 1));
    if (value.length > MAX_ENTRIES) items.push(`[${value.length - MAX_ENTRIES} more]`);
    return items;
  }
  const entries = Object.entries(value);
  const out: Record<string, unknown> = {};
  for (const [key, field] of entries.slice(0, MAX_ENTRIES)) {
    out[key] = REDACTED.has(key.toLowerCase()) ? CENSOR : redactValue(field, depth + 1);
  }
  if (entries.length > MAX_ENTRIES) out['…'] = `[${entries.length - MAX_ENTRIES} more keys]`;
  return out;
}

/**
 * Structured JSON logs. Ids only: anything that could carry a patient identifier, a
 * secret or a token is redacted by key at any depth, whatever the caller passes, and an
 * error is written without the values of the query that failed.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'telerelay-relay' },
    serializers: { err: serializeError },
    // Every line written while a recording, request or job is handled names what caused it.
    mixin: () => {
      const correlationId = currentCorrelationId();
      return correlationId === undefined ? {} : { correlationId };
    },
    formatters: {
      // The `err` key is left to its serializer, which pino applies after this hook. (pino
      // does not pass a child logger's bindings through here: bind ids only.)
      log: (object: Record<string, unknown>) => {
        const { err, ...rest } = object;
        const redacted = redactValue(rest) as Record<string, unknown>;
        return err === undefined ? redacted : { ...redacted, err };
      },
    },
    hooks: {
      // Given an error and no message, pino would write the error's raw message as `msg`.
      logMethod(this: Logger, args: Parameters<LogFn>, method: LogFn) {
        const [first, ...rest] = args as unknown[];
        const error = first instanceof Error ? first : (first as { err?: unknown } | null)?.err;
        if (rest.length === 0 && error instanceof Error) {
          const fields = first instanceof Error ? { err: first } : (first as object);
          method.call(this, fields, scrubErrorText(error.message, paramsOf(error)));
          return;
        }
        method.apply(this, args);
      },
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
export type { Logger };
