import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/**
 * The correlation id of the work under way: a box's recording id, an HTTP request's
 * `x-request-id`, or the id a queued job carries from whatever queued it. The logger writes
 * it on every line (createLogger's mixin), so one grep follows one cause from the box or the
 * browser to the diagnosis and its delivery (docs/operations.md, "Logs"). It is carried by
 * Node's AsyncLocalStorage rather than passed by hand, since it must reach log lines in
 * code that has no reason to know about it (repositories, the outbox, the audit).
 */
const current = new AsyncLocalStorage<string>();

export function withCorrelation<T>(correlationId: string, work: () => T): T {
  return current.run(correlationId, work);
}

/** Runs `work` outside any correlation: shared work (a dispatch loop) that no one cause owns. */
export function withoutCorrelation<T>(work: () => T): T {
  return current.exit(work);
}

export function currentCorrelationId(): string | undefined {
  return current.getStore();
}

/**
 * An `x-request-id` a client or proxy sent, if it is safe to echo and to log: 1 to 64 of
 * letters, digits, `.`, `_`, `:` and `-` (a UUID, HAProxy's `unique-id-format`, a trace id).
 * Anything else is replaced, so a header cannot write into the log or the answer.
 */
const WELL_FORMED = /^[\w.:-]{1,64}$/;

export function requestCorrelationId(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && WELL_FORMED.test(value) ? value : randomUUID();
}
