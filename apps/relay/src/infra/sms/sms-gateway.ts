import { setTimeout as delay } from 'node:timers/promises';
import type { SmsGatewayConfig } from '../../config/config.js';
import type { Logger } from '../logging/logger.js';

/** One text message: the number in clear exists only here and in the request body. */
export interface SmsMessage {
  phoneNumber: string;
  message: string;
}

/** The message could not be delivered to the gateway; says why without the number. */
export class SmsDeliveryError extends Error {
  constructor(
    readonly attempts: number,
    readonly reason: string,
  ) {
    super(`SMS not accepted by the gateway after ${attempts} attempt(s): ${reason}`);
    this.name = 'SmsDeliveryError';
  }
}

/** Answers worth another try (RFC 9110 §15.5.9, §15.6; RFC 6585 §4 for 429). */
const RETRYABLE_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);
/** The longest Retry-After waited for: a code lives minutes, the patient is waiting. */
const MAX_RETRY_AFTER_MS = 60_000;

/**
 * The region's SMS gateway over HTTP: a JSON POST `{phoneNumber, message}` with a bearer
 * token, each attempt bounded by a timeout, retried with exponential backoff on network
 * errors, timeouts and answers that say "later" (429, 5xx). Every attempt of one message
 * carries the same `Idempotency-Key`, so a gateway that honours it sends one SMS however
 * often the relay had to ask. Logs name the message by that key, never the number, the
 * text or the gateway's answer body (which may echo them).
 */
export class HttpSmsGateway {
  constructor(
    private readonly config: SmsGatewayConfig,
    private readonly log: Logger,
  ) {}

  /** Resolves with the attempts it took; throws SmsDeliveryError when it gave up. */
  async send(sms: SmsMessage, reference: string): Promise<{ attempts: number }> {
    let reason = 'not attempted';
    for (let attempt = 1; attempt <= this.config.attempts; attempt += 1) {
      const outcome = await this.attempt(sms, reference);
      if (outcome.kind === 'sent') return { attempts: attempt };
      reason = outcome.reason;
      if (outcome.kind === 'permanent') throw new SmsDeliveryError(attempt, reason);
      if (attempt === this.config.attempts) break;
      const wait = Math.max(this.backoff(attempt), outcome.retryAfterMs ?? 0);
      this.log.warn({ reference, attempt, reason, retryInMs: wait }, 'SMS gateway attempt failed');
      await delay(wait);
    }
    throw new SmsDeliveryError(this.config.attempts, reason);
  }

  private async attempt(
    sms: SmsMessage,
    reference: string,
  ): Promise<
    | { kind: 'sent' }
    | { kind: 'retry'; reason: string; retryAfterMs?: number }
    | { kind: 'permanent'; reason: string }
  > {
    let response: Response;
    try {
      response = await fetch(this.config.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json; charset=utf-8',
          authorization: `Bearer ${this.config.token}`,
          'idempotency-key': reference,
        },
        body: JSON.stringify(sms),
        signal: AbortSignal.timeout(this.config.timeoutMs),
        redirect: 'error',
      });
      // Read to the end inside the timeout, and never kept: it may echo the number.
      await response.arrayBuffer();
    } catch (error) {
      const timedOut = error instanceof Error && error.name === 'TimeoutError';
      return { kind: 'retry', reason: timedOut ? 'timeout' : 'network error' };
    }
    if (response.ok) return { kind: 'sent' };
    const reason = `HTTP ${response.status}`;
    if (!RETRYABLE_STATUS.has(response.status)) return { kind: 'permanent', reason };
    return { kind: 'retry', reason, retryAfterMs: retryAfterMs(response.headers) };
  }

  /** backoff · 2^(n−1), with up to half of it random so many relays do not retry in step. */
  private backoff(attempt: number): number {
    const full = this.config.backoffMs * 2 ** (attempt - 1);
    return Math.round(full / 2 + Math.random() * (full / 2));
  }
}

/** Retry-After in seconds (RFC 9110 §10.2.3), at most a minute; an HTTP date is ignored. */
function retryAfterMs(headers: Headers): number | undefined {
  const value = headers.get('retry-after')?.trim();
  if (value === undefined || !/^[0-9]+$/.test(value)) return undefined;
  return Math.min(Number(value) * 1000, MAX_RETRY_AFTER_MS);
}
