import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Body,
  Controller,
  Get,
  HttpCode,
  Module,
  Post,
  type INestApplication,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  ApiExcludeEndpoint,
  type OpenAPIObject,
  type ReferenceObject,
  type RequestBodyObject,
  type ResponseObject,
  type SchemaObject,
} from '@nestjs/swagger';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AppModule } from '../app.module.js';
import { ApiRoute } from '../common/api-route.js';
import { loadConfig } from '../config/config.js';
import { Infrastructure } from '../infra/infrastructure.js';
import { buildApiDocument, discoverRoutes, undocumentedRoutes } from './api-docs.js';
import { TEST_PATIENT_KEYS } from '../config/testing/patient-keys.js';

/**
 * The document is built from the real application module on real (embedded) infrastructure,
 * exactly the module graph main.ts serves, so a controller added anywhere is seen here.
 */
describe('OpenAPI document', () => {
  let dataDir: string;
  let infra: Infrastructure;
  let app: INestApplication;
  let document: OpenAPIObject;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'telerelay-docs-'));
    const config = loadConfig({
      ...TEST_PATIENT_KEYS,
      DATA_DIR: dataDir,
      HTTP_PORT: '0',
      MQTT_PORT: '0',
    });
    infra = await Infrastructure.start(config, pino({ level: 'silent' }));
    app = await NestFactory.create(AppModule.forRoot(infra), { logger: false });
    document = buildApiDocument(app);
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await infra?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('documents every controller route with its contract schemas', () => {
    const routes = discoverRoutes(app);
    // The discovery must see the real routes, or the check below would pass on nothing.
    expect(routes.map((r) => `${r.method} ${r.path}`)).toEqual(
      expect.arrayContaining([
        'post /api/auth/login',
        'get /api/worklist',
        'post /api/cases/{id}/claim',
        'post /api/cases/{id}/sign',
        'get /health',
      ]),
    );
    expect(undocumentedRoutes(routes, document)).toEqual([]);
  });

  it('describes the claim: bearer security, reader role, the case summary it answers', () => {
    expect(document.components?.securitySchemes?.bearer).toMatchObject({
      type: 'http',
      scheme: 'bearer',
    });
    const claim = document.paths['/api/cases/{id}/claim']?.post;
    expect(claim?.security).toEqual([{ bearer: [] }]);
    expect(claim?.description).toContain('Roles: reader');
    expect(claim?.parameters).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'id', in: 'path' })]),
    );
    const schema = resolve(document, claim?.responses['200']);
    expect(schema.required).toEqual(expect.arrayContaining(['id', 'status', 'priority', 'dueAt']));
    expect(deref(document, schema.properties?.status).enum).toEqual([
      'analysing',
      'awaiting_review',
      'in_review',
      'signed',
      'returned',
    ]);
    expect(resolve(document, claim?.responses.default).required).toEqual(
      expect.arrayContaining(['statusCode', 'code', 'message']),
    );
  });

  it('takes request bodies from the contract schemas and leaves public routes open', () => {
    const sign = document.paths['/api/cases/{id}/sign']?.post;
    const body = resolve(document, sign?.requestBody);
    expect(body.required).toEqual(['conclusion']);
    expect(body.properties?.conclusion).toMatchObject({ type: 'string', maxLength: 4000 });
    const login = document.paths['/api/auth/login']?.post;
    expect(login?.security).toEqual([]);
    expect(resolve(document, login?.requestBody).required).toEqual(['username', 'password']);
    expect(document.paths['/health']?.get?.security).toEqual([]);
    expect(document.paths['/api/me']?.get?.security).toEqual([{ bearer: [] }]);
    // Without @Roles the guard admits every role but the health authority; the document says so.
    expect(document.paths['/api/worklist']?.get?.description).toBe(
      'Roles: clinic_staff, reader, admin.',
    );
    expect(document.paths['/api/me']?.get?.description).toContain('health_authority');
  });

  it('names what is missing when a route is not documented', async () => {
    @Controller('api/probe')
    class ProbeController {
      @Get('bare')
      bare() {
        return 1;
      }

      @ApiRoute({ summary: 'takes an undocumented body', response: z.number() })
      @Post('body')
      @HttpCode(200)
      body(@Body() body: unknown) {
        return Number(body);
      }

      @HttpCode(200)
      @ApiRoute({ summary: 'documented as 201, answers 200', response: z.number() })
      @Post('misordered')
      misordered() {
        return 1;
      }

      @ApiExcludeEndpoint()
      @ApiRoute({ summary: 'hidden', response: null })
      @Get('hidden')
      hidden() {}
    }
    @Module({ controllers: [ProbeController] })
    class ProbeModule {}
    const probe = await NestFactory.create(ProbeModule, { logger: false });
    try {
      expect(undocumentedRoutes(discoverRoutes(probe), buildApiDocument(probe)).sort()).toEqual([
        'GET /api/probe/bare (ProbeController.bare): no @ApiRoute',
        'GET /api/probe/hidden (ProbeController.hidden): not in the document',
        'POST /api/probe/body (ProbeController.body): request body without @Body({ schema })',
        'POST /api/probe/misordered (ProbeController.misordered): answers 200, documented 201 (@ApiRoute above @HttpCode?)',
      ]);
    } finally {
      await probe.close();
    }
  });

  it('refuses @ApiRoute written below the route decorator', () => {
    expect(() => {
      class Misplaced {
        @Get('x')
        @ApiRoute({ summary: 'too low', response: z.number() })
        x() {
          return 1;
        }
      }
      return Misplaced;
    }).toThrow('@ApiRoute on Misplaced.x must be written above @Get/@Post/…');
  });
});

type Referable<T> = T | ReferenceObject;

/** The JSON schema of a response or request body, following `$ref`s into the components. */
function resolve(
  document: OpenAPIObject,
  body: Referable<ResponseObject | RequestBodyObject> | undefined,
): SchemaObject {
  if (!body || '$ref' in body) throw new Error('no inline body');
  return deref(document, body.content?.['application/json']?.schema);
}

function deref(document: OpenAPIObject, schema: Referable<SchemaObject> | undefined): SchemaObject {
  if (!schema) throw new Error('no schema');
  if (!('$ref' in schema)) return schema;
  const name = schema.$ref.replace('#/components/schemas/', '');
  return deref(document, document.components?.schemas?.[name]);
}
