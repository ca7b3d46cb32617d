import { Inject, Injectable } from '@nestjs/common';
import type { ConsentCodeNotice } from '#contracts';
import { LOGGER } from '../common/tokens.js';
import type { Logger } from '../infra/logging/logger.js';
import { Notifier } from '../realtime/notifier.js';

/** The patient a code goes to, as a notifier needs them: masked, never the number. */
export interface CodeRecipient {
  patientId: string;
  maskedIdentifier: string;
  name: string;
  /** The clinic that registered the patient. */
  registeredBy: string;
}

/** Who asked, and why: what the patient is told before reading the code out. */
export interface CodeRequest {
  code: string;
  requestedByName: string;
  facilityName: string;
  purpose: string;
  expiresAt: Date;
}

/**
 * Sends a verification code to the patient. The relay holds no patient phone numbers yet,
 * so production needs an adapter for the region's SMS gateway (docs/consent.md, "SMS
 * adapter"): it would implement this, looking the number up by `patientId` in its own
 * store, and must never log the code or the number. The abstract class is the injection
 * token.
 */
export abstract class ConsentNotifier {
  abstract sendCode(patient: CodeRecipient, request: CodeRequest): Promise<void>;
}

/**
 * DEMO only: the code appears on the page of the clinic that registered the patient (the
 * patient is there to read it out) and in the demo log, with the patient masked.
 */
@Injectable()
export class DemoConsentNotifier extends ConsentNotifier {
  constructor(
    private readonly notifier: Notifier,
    @Inject(LOGGER) private readonly log: Logger,
  ) {
    super();
  }

  sendCode(patient: CodeRecipient, request: CodeRequest): Promise<void> {
    const notice: ConsentCodeNotice = {
      patientId: patient.patientId,
      maskedIdentifier: patient.maskedIdentifier,
      patientName: patient.name,
      code: request.code,
      requestedByName: request.requestedByName,
      facilityName: request.facilityName,
      purpose: request.purpose,
      expiresAt: request.expiresAt.toISOString(),
    };
    this.notifier.toClinic(patient.registeredBy, 'consent.code', notice);
    this.log.info(
      { clinicId: patient.registeredBy },
      `demo: code for patient ${patient.maskedIdentifier} is ${request.code}`,
    );
    return Promise.resolve();
  }
}

/**
 * Outside the demo and without an SMS adapter no code can reach a patient: the request is
 * still answered like any other (the caller learns nothing), and the operator is told.
 */
@Injectable()
export class UnconfiguredConsentNotifier extends ConsentNotifier {
  constructor(@Inject(LOGGER) private readonly log: Logger) {
    super();
  }

  sendCode(patient: CodeRecipient): Promise<void> {
    this.log.warn(
      { clinicId: patient.registeredBy },
      'consent code not sent: no notifier is configured outside the demo (docs/consent.md)',
    );
    return Promise.resolve();
  }
}
