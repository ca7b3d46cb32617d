import { applyDecorators, HttpStatus, RequestMethod } from '@nestjs/common';
import { HTTP_CODE_METADATA, METHOD_METADATA } from '@nestjs/common/constants.js';
import { ApiOperation, ApiResponse } from '@nestjs/swagger';
import type { z } from 'zod';
import { ApiErrorSchema } from '#contracts';

/** Marks a handler documented with @ApiRoute; the docs check reads it (api-docs.ts). */
export const API_ROUTE_DOC = Symbol('api-route-doc');

export interface ApiRouteDoc<S extends z.ZodType | null> {
  summary: string;
  description?: string;
  /** The contract schema of the success body (libs/contracts); null when there is none. */
  response: S;
}

export interface ApiRouteMetadata {
  status: number;
}

type SuccessBody<S> = S extends z.ZodType ? z.input<S> : void;

/**
 * Documents a REST route in the OpenAPI document from the contract schema it answers with.
 * The handler must return that schema's type (checked by the compiler), so the document
 * cannot promise a shape the code does not send. Request bodies are documented by naming
 * their schema on the parameter, `@Body({ schema: X })`; bearer security and roles come from
 * `@Public`/`@Roles` when the document is built.
 *
 * Write it above the route decorators (`@Get`, `@Post`, `@HttpCode`): decorators apply
 * bottom-up, and the success status is read from them.
 */
export function ApiRoute<S extends z.ZodType | null>(doc: ApiRouteDoc<S>) {
  return <M extends (...args: never[]) => SuccessBody<S> | Promise<SuccessBody<S>>>(
    target: object,
    key: string | symbol,
    descriptor: TypedPropertyDescriptor<M>,
  ): void => {
    const handler = descriptor.value;
    const method = handler && (Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod);
    if (!handler || method === undefined) {
      throw new Error(
        `@ApiRoute on ${target.constructor.name}.${String(key)} must be written above @Get/@Post/…`,
      );
    }
    const status =
      (Reflect.getMetadata(HTTP_CODE_METADATA, handler) as number | undefined) ??
      (method === RequestMethod.POST ? HttpStatus.CREATED : HttpStatus.OK);
    Reflect.defineMetadata(API_ROUTE_DOC, { status } satisfies ApiRouteMetadata, handler);
    applyDecorators(
      ApiOperation({ summary: doc.summary, description: doc.description }),
      doc.response
        ? ApiResponse({ status, description: 'Success', standardSchema: doc.response })
        : ApiResponse({ status, description: 'Success, no body' }),
      ApiResponse({
        status: 'default',
        description:
          'Any error, one shape: 400 INVALID_INPUT, 401 UNAUTHENTICATED, 403 FORBIDDEN, ' +
          '404 NOT_FOUND (also for another facility’s record), 409 CONFLICT, 429, 503',
        standardSchema: ApiErrorSchema,
      }),
    )(target, key, descriptor);
  };
}
