import { Controller, Get, Param, Query, Req, Res, UseFilters } from '@nestjs/common';
import type { Request, Response } from 'express';
import { z } from 'zod';
import type { SessionUser } from '#contracts';
import { ApiRoute } from '../common/api-route.js';
import { DomainError } from '../common/domain-error.js';
import { parseInput } from '../common/validation.js';
import { CurrentUser, Roles } from '../identity/auth.guard.js';
import { FHIR_JSON, FhirErrorFilter } from './fhir-error.filter.js';
import { FhirService, type FhirReader } from './fhir.service.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** `?waveform=true` adds the ECG waveform Observation to the Bundle (docs/fhir.md). */
const BundleQuerySchema = z.object({ waveform: z.enum(['true', 'false']).optional() });

const readerOf = (user: SessionUser, request: Request): FhirReader => ({
  user,
  remoteAddress: request.ip,
  baseUrl: `${request.protocol}://${request.get('host') ?? 'localhost'}`,
});

/** An id that is no case id is a resource that does not exist, as FHIR answers it. */
function caseIdOf(id: string, prefix = ''): string {
  const caseId = id.startsWith(prefix) ? id.slice(prefix.length) : '';
  if (!UUID.test(caseId)) throw new DomainError('NOT_FOUND', 'No such resource');
  return caseId.toLowerCase();
}

/**
 * FHIR R4 reads of signed cases for the regional platform (docs/fhir.md): the same sign-in
 * and case scope as /api/cases; admin and the health authority, who reach no patient's
 * record, are refused as on DICOMweb.
 */
@Roles('clinic_staff', 'reader')
@UseFilters(FhirErrorFilter)
@Controller('fhir')
export class FhirController {
  constructor(private readonly fhir: FhirService) {}

  @ApiRoute({
    summary: 'FHIR R4 DiagnosticReport of a signed case (id = case id), application/fhir+json',
    description:
      '404 OperationOutcome for an unsigned, missing or other facility’s case; measurement ' +
      'Observations are in the case Bundle.',
    response: null,
  })
  @Get('DiagnosticReport/:id')
  async report(
    @CurrentUser() user: SessionUser,
    @Param('id') id: string,
    @Req() request: Request,
    @Res() response: Response,
  ) {
    const report = await this.fhir.report(readerOf(user, request), caseIdOf(id));
    response.status(200).type(FHIR_JSON).send(JSON.stringify(report));
  }

  @ApiRoute({
    summary: 'FHIR R4 Bundle (collection) of a signed case: Bundle/case-{caseId}',
    description:
      'DiagnosticReport, Patient (identifier masked), ServiceRequest, Tasks of the referral ' +
      'chain, Observations, ImagingStudy and Endpoint, Organizations, Practitioner. ' +
      '?waveform=true adds the ECG waveform Observation (SampledData per lead).',
    response: null,
  })
  @Get('Bundle/:id')
  async bundle(
    @CurrentUser() user: SessionUser,
    @Param('id') id: string,
    @Query() query: unknown,
    @Req() request: Request,
    @Res() response: Response,
  ) {
    const bundle = await this.fhir.bundle(readerOf(user, request), caseIdOf(id, 'case-'), {
      waveform: parseInput(BundleQuerySchema, query, 'query').waveform === 'true',
    });
    response.status(200).type(FHIR_JSON).send(JSON.stringify(bundle));
  }
}
