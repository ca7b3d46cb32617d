import { HttpStatus, RequestMethod, type INestApplication, type Type } from '@nestjs/common';
import {
  HTTP_CODE_METADATA,
  METHOD_METADATA,
  PATH_METADATA,
  ROUTE_ARGS_METADATA,
} from '@nestjs/common/constants.js';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum.js';
import { MetadataScanner, ModulesContainer, Reflector } from '@nestjs/core';
import {
  DocumentBuilder,
  SwaggerModule,
  type OpenAPIObject,
  type OperationObject,
} from '@nestjs/swagger';
import type { Role } from '#contracts';
import { API_ROUTE_DOC, type ApiRouteMetadata } from '../common/api-route.js';
import { DEFAULT_ROLES, PUBLIC, ROLES_KEY } from '../identity/auth.guard.js';

/** Served without a token: the interactive UI and the document it reads. */
export const API_DOCS_PATH = 'api/docs';
export const API_DOCS_JSON_PATH = 'api/docs/openapi.json';
export const BEARER_SCHEME = 'bearer';

/** A REST route as Nest registers it, with what the guard and @ApiRoute say about it. */
export interface DiscoveredRoute {
  /** Lower case, as OpenAPI path items key their operations: get, post, … */
  method: string;
  /** OpenAPI form: /api/cases/{id}/claim */
  path: string;
  handlerName: string;
  /** The status Nest answers a success with (@HttpCode, else 201 for POST, 200 otherwise). */
  status: number;
  public: boolean;
  roles: Role[] | undefined;
  readsBody: boolean;
  doc: ApiRouteMetadata | undefined;
}

/**
 * Every controller route of the running application, from the metadata Nest's router
 * explorer reads (controller and method paths, request method, parameters).
 */
export function discoverRoutes(app: INestApplication): DiscoveredRoute[] {
  const reflector = app.get(Reflector);
  const scanner = new MetadataScanner();
  const routes: DiscoveredRoute[] = [];
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as Type | null;
      if (!controller) continue;
      const prefixes = asArray(Reflect.getMetadata(PATH_METADATA, controller) as unknown);
      for (const name of scanner.getAllMethodNames(controller.prototype as object)) {
        const handler = (controller.prototype as Record<string, unknown>)[name];
        if (typeof handler !== 'function') continue;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        if (method === undefined) continue;
        const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, name) ?? {}) as object;
        const targets = [handler, controller];
        for (const prefix of prefixes) {
          for (const sub of asArray(Reflect.getMetadata(PATH_METADATA, handler) as unknown)) {
            routes.push({
              method: RequestMethod[method].toLowerCase(),
              path: openApiPath(prefix, sub),
              handlerName: `${controller.name}.${name}`,
              status:
                (Reflect.getMetadata(HTTP_CODE_METADATA, handler) as number | undefined) ??
                (method === RequestMethod.POST ? HttpStatus.CREATED : HttpStatus.OK),
              public: reflector.getAllAndOverride<boolean | undefined>(PUBLIC, targets) === true,
              roles: reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, targets),
              readsBody: Object.keys(args).some((k) => k.startsWith(`${RouteParamtypes.BODY}:`)),
              doc: Reflect.getMetadata(API_ROUTE_DOC, handler) as ApiRouteMetadata | undefined,
            });
          }
        }
      }
    }
  }
  return routes;
}

/**
 * The OpenAPI 3 document of the REST API, generated from the controllers: @nestjs/swagger
 * reads paths, parameters and the contract schemas (@ApiRoute, @Body({ schema })); the
 * security of each operation comes from the same metadata the AuthGuard enforces.
 */
export function buildApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Telerelay API')
    .setDescription(
      'REST API of the Telerelay relay. Sign in with POST /api/auth/login and send the ' +
        'access token as `Authorization: Bearer <token>`. Live events (worklist, diagnoses) ' +
        'travel over Socket.IO at /socket.io; boxes speak MQTT (docs/protocol.md).',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, BEARER_SCHEME)
    .build();
  const document = SwaggerModule.createDocument(app, config);
  for (const route of discoverRoutes(app)) {
    const operation = operationOf(document, route);
    if (!operation) continue;
    operation.security = route.public ? [] : [{ [BEARER_SCHEME]: [] }];
    if (!route.public) {
      const roles = `Roles: ${(route.roles ?? DEFAULT_ROLES).join(', ')}.`;
      operation.description = operation.description
        ? `${operation.description}\n\n${roles}`
        : roles;
    }
  }
  return document;
}

/**
 * What is missing from the document for each route: a route without @ApiRoute, a body
 * without its schema, a documented status the route does not answer with. Empty when
 * every route is documented; the unit test keeps it that way.
 */
export function undocumentedRoutes(
  routes: readonly DiscoveredRoute[],
  document: OpenAPIObject,
): string[] {
  const problems: string[] = [];
  for (const route of routes) {
    const name = `${route.method.toUpperCase()} ${route.path} (${route.handlerName})`;
    const operation = operationOf(document, route);
    if (!operation) {
      problems.push(`${name}: not in the document`);
      continue;
    }
    if (!route.doc) {
      problems.push(`${name}: no @ApiRoute`);
      continue;
    }
    if (route.doc.status !== route.status || !operation.responses[String(route.status)]) {
      problems.push(
        `${name}: answers ${route.status}, documented ${route.doc.status} (@ApiRoute above @HttpCode?)`,
      );
    }
    if (route.readsBody && !operation.requestBody) {
      problems.push(`${name}: request body without @Body({ schema })`);
    }
  }
  return problems;
}

/** Mounts the UI at /api/docs and the JSON at /api/docs/openapi.json, outside the AuthGuard. */
export function serveApiDocs(app: INestApplication): void {
  SwaggerModule.setup(API_DOCS_PATH, app, () => buildApiDocument(app), {
    jsonDocumentUrl: API_DOCS_JSON_PATH,
    raw: ['json'],
    customSiteTitle: 'Telerelay API',
  });
}

function operationOf(document: OpenAPIObject, route: DiscoveredRoute): OperationObject | undefined {
  const item = document.paths[route.path] as
    Record<string, OperationObject | undefined> | undefined;
  return item?.[route.method];
}

function asArray(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  return [typeof value === 'string' ? value : '/'];
}

function openApiPath(prefix: string, sub: string): string {
  const joined = `/${prefix}/${sub}`.replace(/\/+/g, '/').replace(/(.)\/$/, '$1');
  return joined.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}
