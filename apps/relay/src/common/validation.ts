import type { ArgumentMetadata, PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import { DomainError } from './domain-error.js';

/** Parses untrusted input against a contract schema; the error names fields, not values. */
export function parseInput<S extends z.ZodType>(
  schema: S,
  input: unknown,
  what = 'body',
): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map(
    (issue) => `${issue.path.join('.') || what}: ${issue.message}`,
  );
  throw new DomainError('INVALID_INPUT', problems.join('; '));
}

/**
 * A route parameter or query checked against a contract schema like a body is, so a string
 * the database cannot take (`%00`) is a 400 before any query: `@Param('id', new
 * ContractPipe(ResourceIdSchema))`.
 */
export class ContractPipe<S extends z.ZodType> implements PipeTransform<unknown, z.output<S>> {
  constructor(private readonly schema: S) {}

  transform(value: unknown, metadata: ArgumentMetadata): z.output<S> {
    return parseInput(this.schema, value, metadata.data ?? metadata.type);
  }
}
