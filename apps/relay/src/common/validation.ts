import type { z } from 'zod';
import { DomainError } from './domain-error.js';

/** Parses untrusted input against a contract schema; the error names fields, not values. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map(
    (issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`,
  );
  throw new DomainError('INVALID_INPUT', problems.join('; '));
}
