import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoginResponseSchema, SessionUserSchema } from '#contracts';
import { ConsoleClient } from '../support/clients.js';
import { DEMO_PASSWORD, RelayProcess } from '../support/relay-process.js';

interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, { security?: unknown; summary?: string }>>;
  components: { securitySchemes: Record<string, unknown> };
}

describe('the API documents itself at /api/docs', () => {
  let relay: RelayProcess;

  beforeAll(async () => {
    relay = await RelayProcess.start();
  });

  afterAll(async () => {
    await relay?.dispose();
  });

  it('serves the interactive UI and the OpenAPI JSON without a token, and nothing else', async () => {
    const ui = await fetch(`${relay.httpUrl}/api/docs`);
    expect(ui.status).toBe(200);
    expect(ui.headers.get('content-type')).toContain('text/html');
    expect(await ui.text()).toContain('swagger-ui');

    const response = await fetch(`${relay.httpUrl}/api/docs/openapi.json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as OpenApiDocument;
    expect(document.openapi).toMatch(/^3\./);
    expect(document.components.securitySchemes.bearer).toMatchObject({ scheme: 'bearer' });
    expect(document.paths['/api/cases/{id}/claim']?.post?.security).toEqual([{ bearer: [] }]);
    expect(document.paths['/api/auth/login']?.post?.security).toEqual([]);

    // The docs are open; the API they describe is not.
    expect((await fetch(`${relay.httpUrl}/api/worklist`)).status).toBe(401);
  });

  it('describes the responses the relay really sends', async () => {
    const login = await fetch(`${relay.httpUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'county1.reader', password: DEMO_PASSWORD }),
    });
    expect(login.status).toBe(200);
    expect(LoginResponseSchema.safeParse(await login.json()).success).toBe(true);
    const reader = await ConsoleClient.login(relay.httpUrl, 'county1.reader');
    const me = await reader.get('/api/me');
    expect(SessionUserSchema.parse(me.body).username).toBe('county1.reader');
  });
});
