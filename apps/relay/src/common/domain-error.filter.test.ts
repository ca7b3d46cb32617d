import type { ArgumentsHost } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import type { AuditService, RefusalSite } from '../audit/audit.service.js';
import type { Logger } from '../infra/logging/logger.js';
import { PrometheusMetrics } from '../infra/metrics/prometheus-metrics.js';
import { DomainError } from './domain-error.js';
import { DomainErrorFilter } from './domain-error.filter.js';

interface Sent {
  status: number;
  body: unknown;
  /** How many refusals were recorded when the answer went out. */
  auditedBefore: number;
}

/** A filter over a fake request, response and audit trail. */
function harness(user?: { id: string }) {
  const recorded: { error: DomainError; site: RefusalSite }[] = [];
  const audit = {
    refused: (error: DomainError, site: RefusalSite) => {
      recorded.push({ error, site });
      return Promise.resolve();
    },
  } as unknown as AuditService;
  const log = { error: () => undefined } as unknown as Logger;
  const metrics = new PrometheusMetrics({ warn: () => undefined } as unknown as Logger);
  const filter = new DomainErrorFilter(log, audit, metrics);
  const request = {
    method: 'POST',
    route: { path: '/api/cases/:id/claim' },
    path: '/api/cases/5b1e/claim',
    ip: '127.0.0.1',
    user,
  };
  const answer = (error: unknown) =>
    new Promise<Sent>((resolve) => {
      const response = {
        status: (status: number) => ({
          json: (body: unknown) => resolve({ status, body, auditedBefore: recorded.length }),
        }),
      };
      const host = {
        switchToHttp: () => ({ getRequest: () => request, getResponse: () => response }),
      } as unknown as ArgumentsHost;
      filter.catch(error, host);
    });
  /** The REST refusals counted in the metrics exposition, by code. */
  const refusals = async () => {
    const { body } = await metrics.exposition();
    return Object.fromEntries(
      [...body.matchAll(/^telerelay_refusals_total\{edge="rest",code="(\w+)"\} (\d+)$/gm)].map(
        (match) => [match[1], Number(match[2])],
      ),
    );
  };
  return { recorded, answer, refusals };
}

describe('DomainErrorFilter', () => {
  it('audits a refusal with the route pattern and the signed-in user before answering', async () => {
    const { recorded, answer } = harness({ id: 'u-1' });
    const error = new DomainError('NOT_FOUND', 'No such case in your worklist', {
      subject: 'case:5b1e',
    });
    const sent = await answer(error);
    expect(sent).toMatchObject({ status: 404, auditedBefore: 1 });
    expect(recorded).toEqual([
      {
        error,
        site: {
          actor: 'user:u-1',
          action: 'POST /api/cases/:id/claim',
          remoteAddress: '127.0.0.1',
        },
      },
    ]);
  });

  it('audits a refusal without a user as anonymous', async () => {
    const { recorded, answer } = harness();
    expect((await answer(new DomainError('UNAUTHENTICATED', 'Sign in'))).status).toBe(401);
    expect(recorded[0]?.site.actor).toBe('anonymous');
  });

  it('counts refusals by code in the metrics, and answers that refuse nobody not at all', async () => {
    const { answer, refusals } = harness({ id: 'u-1' });
    await answer(new DomainError('UNAUTHENTICATED', 'Sign in'));
    await answer(new DomainError('FORBIDDEN', 'Readers only'));
    await answer(new DomainError('FORBIDDEN', 'Readers only'));
    await answer(new DomainError('CONFLICT', 'Claimed by another reader'));
    expect(await refusals()).toEqual({ UNAUTHENTICATED: 1, FORBIDDEN: 2 });
  });

  it('does not audit answers that refuse nobody', async () => {
    const { recorded, answer } = harness({ id: 'u-1' });
    expect((await answer(new DomainError('CONFLICT', 'Claimed by another reader'))).status).toBe(
      409,
    );
    expect((await answer(new DomainError('INVALID_INPUT', 'conclusion: required'))).status).toBe(
      400,
    );
    expect((await answer(new Error('boom'))).status).toBe(500);
    expect(recorded).toEqual([]);
  });
});
