import type { Request, Response } from 'express';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { metricsEndpoint } from './metrics-endpoint.js';
import { PrometheusMetrics } from './prometheus-metrics.js';

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** Runs the handler on a fake request and resolves with what it answered. */
function scrape(handler: ReturnType<typeof metricsEndpoint>, authorization?: string) {
  return new Promise<Answer>((resolve, reject) => {
    const answer: Answer = { status: 0, headers: {}, body: undefined };
    const response = {
      status(code: number) {
        answer.status = code;
        return response;
      },
      set(name: string, value: string) {
        answer.headers[name.toLowerCase()] = value;
        return response;
      },
      json(body: unknown) {
        answer.body = body;
        resolve(answer);
      },
      send(body: unknown) {
        answer.body = body;
        resolve(answer);
      },
    };
    const request = { headers: authorization === undefined ? {} : { authorization } };
    handler(request as Request, response as unknown as Response, reject);
  });
}

describe('GET /metrics', () => {
  const metrics = new PrometheusMetrics(pino({ level: 'silent' }));
  metrics.count('telerelay_ingest_chunks_stored_total', {}, 3);
  const token = 't'.repeat(40);

  it('answers 404 when no METRICS_TOKEN is configured, whatever is sent', async () => {
    const refused: unknown[] = [];
    const closed = metricsEndpoint(metrics, undefined, (request) => refused.push(request));
    for (const authorization of [undefined, 'Bearer anything', `Bearer ${token}`]) {
      const answer = await scrape(closed, authorization);
      expect(answer.status).toBe(404);
      expect(JSON.stringify(answer.body)).not.toContain('telerelay_');
    }
    expect(refused).toHaveLength(0);
  });

  it('answers 401 to a missing or wrong token and the exposition to the right one', async () => {
    const refused: unknown[] = [];
    const open = metricsEndpoint(metrics, token, (request) => refused.push(request));
    for (const authorization of [undefined, `Bearer ${token}x`, `Basic ${token}`, token]) {
      const answer = await scrape(open, authorization);
      expect(answer.status).toBe(401);
      expect(answer.headers['www-authenticate']).toBe('Bearer');
    }
    expect(refused).toHaveLength(4);
    const answer = await scrape(open, `Bearer ${token}`);
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(answer.body).toMatch(/^telerelay_ingest_chunks_stored_total 3$/m);
  });
});
