import { Catch, Inject, Injectable } from '@nestjs/common';
import type { Response } from 'express';
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { ApiError } from '#contracts';
import { AuditService } from '../audit/audit.service.js';
import { DomainErrorFilter } from '../common/domain-error.filter.js';
import { Metrics } from '../common/metrics.js';
import { LOGGER } from '../common/tokens.js';
import type { Logger } from '../infra/logging/logger.js';

export const FHIR_JSON = 'application/fhir+json; charset=utf-8';

/** FHIR R4 issue-type codes (valueset issue-type) for the relay's error codes. */
const ISSUE_CODE: Record<string, OperationOutcomeIssue['code']> = {
  INVALID_INPUT: 'invalid',
  UNAUTHENTICATED: 'login',
  FORBIDDEN: 'forbidden',
  NOT_FOUND: 'not-found',
  TOO_MANY_ATTEMPTS: 'throttled',
  UNAVAILABLE: 'transient',
};

/** An error of the relay as FHIR's OperationOutcome (R4 §3.1.0.4: errors of a RESTful read). */
export function operationOutcome(error: ApiError): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: [
      {
        severity: error.statusCode >= 500 ? 'fatal' : 'error',
        code: ISSUE_CODE[error.code] ?? (error.statusCode >= 500 ? 'exception' : 'processing'),
        details: { text: error.message },
      },
    ],
  };
}

/**
 * The REST error filter for /fhir: the same statuses and the same audit of every refusal as
 * every other route (DomainErrorFilter), written as an OperationOutcome.
 */
@Catch()
@Injectable()
export class FhirErrorFilter extends DomainErrorFilter {
  constructor(@Inject(LOGGER) log: Logger, audit: AuditService, metrics: Metrics) {
    super(log, audit, metrics);
  }

  protected override respond(response: Response, body: ApiError): void {
    response
      .status(body.statusCode)
      .type(FHIR_JSON)
      .send(JSON.stringify(operationOutcome(body)));
  }
}
