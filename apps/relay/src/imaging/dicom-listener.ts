import { rm } from 'node:fs/promises';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { ACCEPTED_SOP_CLASSES, ACCEPTED_TRANSFER_SYNTAXES } from '#dicom';
import { AuditService } from '../audit/audit.service.js';
import { Metrics } from '../common/metrics.js';
import { CONFIG, LOGGER } from '../common/tokens.js';
import type { RelayConfig } from '../config/config.js';
import { ClinicAeTitlesRepository } from '../facilities/clinic-ae-titles.repository.js';
import {
  DimseServer,
  type AssociationAttempt,
  type AssociationVerdict,
  type ReceivedInstance,
  type StorageGate,
  type StoreReply,
} from '../infra/dimse/dimse-server.js';
import type { Logger } from '../infra/logging/logger.js';
import { ImagingIntake, type StoreOutcome, type StoreSource } from './imaging-intake.js';

/** An accepted association: the clinic its calling AE title belongs to. */
export interface AeSession {
  clinicId: string;
  callingAe: string;
  remoteAddress: string | undefined;
}

/** C-STORE status values (PS3.4 B.2.3, PS3.7 C.4.2). */
export const CStoreStatus = {
  Success: 0x0000,
  /**
   * Other content under a stored SOP Instance UID. PS3.4 B.2.3 has no status for it (0x0111,
   * "Duplicate SOP Instance" of PS3.7 C.4.2, is not a C-STORE status: DCMTK calls it unknown),
   * so it is an error of the "cannot understand" family, with the reason in the comment.
   */
  ConflictingInstance: 0xc001,
  /** Refused: Out of Resources (A7xx). */
  OutOfResources: 0xa700,
  /** Error: Cannot understand (Cxxx). */
  CannotUnderstand: 0xc000,
} as const;

/**
 * A refusal's status as libs/dicom gives it, when it is one a C-STORE may answer: Refused
 * Out of Resources A7xx, Error Data Set does not match SOP Class A9xx, Error Cannot
 * understand Cxxx (PS3.4 B.2.3), SOP Class not supported 0122 (PS3.7 C.4.2); anything else
 * becomes "cannot understand".
 */
export function cStoreStatusOf(failureReason: number): number {
  const family = failureReason & 0xff00;
  if (family === 0xa700 || family === 0xa900 || (failureReason & 0xf000) === 0xc000) {
    return failureReason;
  }
  if (failureReason === 0x0122) return failureReason;
  return CStoreStatus.CannotUnderstand;
}

/** The Error Comment (0000,0902) is LO: 64 characters at most (PS3.7 E.1). */
function comment(text: string): string {
  return text.length <= 64 ? text : `${text.slice(0, 63)}…`;
}

/**
 * The relay's DICOM listener (DICOM_PORT, DICOM_AE_TITLE): a clinic's modality associates
 * with its calling AE title, and every instance it stores goes through the one store path
 * (ImagingIntake.storeFile), as STOW-RS does. An AE title no clinic owns is refused at
 * association and audited. Its network side is infra/dimse.
 */
@Injectable()
export class DicomListener implements StorageGate<AeSession>, OnApplicationShutdown {
  private readonly server: DimseServer<AeSession>;

  constructor(
    private readonly intake: ImagingIntake,
    private readonly aeTitles: ClinicAeTitlesRepository,
    private readonly audit: AuditService,
    @Inject(CONFIG) private readonly config: RelayConfig,
    @Inject(LOGGER) private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {
    this.server = new DimseServer<AeSession>(log);
  }

  /** The port listened on, or undefined when DICOM_PORT=off. */
  get port(): number | undefined {
    return this.server.port;
  }

  async listen(host?: string): Promise<number | undefined> {
    const dicom = this.config.dicom;
    if (!dicom) return undefined;
    await this.server.listen({
      port: dicom.port,
      host,
      gate: this,
      sopClassUids: Object.keys(ACCEPTED_SOP_CLASSES),
      // Explicit VR first: its file keeps the VRs the modality meant.
      transferSyntaxUids: Object.keys(ACCEPTED_TRANSFER_SYNTAXES).sort((a, b) =>
        a === '1.2.840.10008.1.2' ? 1 : b === '1.2.840.10008.1.2' ? -1 : 0,
      ),
      scratchPath: () => this.intake.scratchPath(),
      maxInstanceBytes: this.config.imaging.maxInstanceBytes,
      maxInMemoryBytes: this.config.imaging.inMemoryInstanceBytes,
      maxAssociations: dicom.maxAssociations,
    });
    return this.server.port;
  }

  /** A graceful stop: no new association; resolves when those under way have ended. */
  stopAccepting(): Promise<void> {
    return this.server.stopAccepting();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.server.close();
  }

  async associate(attempt: AssociationAttempt): Promise<AssociationVerdict<AeSession>> {
    const aeTitle = this.config.dicom?.aeTitle;
    const owner =
      attempt.calledAe === aeTitle ? await this.aeTitles.clinicOf(attempt.callingAe) : undefined;
    // A disabled clinic's machines are answered as unknown callers (the standard has no
    // closer reason); the audit trail says why.
    const clinicId = owner && !owner.disabled ? owner.clinicId : undefined;
    const refusal =
      attempt.calledAe !== aeTitle
        ? ('called-ae-not-recognised' as const)
        : clinicId === undefined
          ? ('calling-ae-not-recognised' as const)
          : undefined;
    this.audit.recordLater({
      actor: `ae:${attempt.callingAe}`,
      action: 'dicom.associate',
      outcome: refusal ? 'denied' : 'allowed',
      subject: owner && `facility:${owner.clinicId}`,
      remoteAddress: attempt.remoteAddress,
      detail: {
        calledAe: attempt.calledAe,
        ...(refusal && { reason: owner?.disabled ? 'clinic-disabled' : refusal }),
      },
    });
    if (refusal || clinicId === undefined) {
      this.refusal(refusal ?? 'calling-ae-not-recognised');
      this.log.warn(
        {
          callingAe: attempt.callingAe,
          calledAe: attempt.calledAe,
          remoteAddress: attempt.remoteAddress,
          reason: refusal,
        },
        'DICOM association refused',
      );
      return { accepted: false, refusal: refusal ?? 'calling-ae-not-recognised' };
    }
    this.log.info(
      { callingAe: attempt.callingAe, clinicId, remoteAddress: attempt.remoteAddress },
      'DICOM association accepted',
    );
    return {
      accepted: true,
      session: { clinicId, callingAe: attempt.callingAe, remoteAddress: attempt.remoteAddress },
    };
  }

  async store(session: AeSession, instance: ReceivedInstance): Promise<StoreReply> {
    if (instance.kind === 'too-large') {
      this.refusal('TOO_LARGE');
      this.audit.recordLater({
        actor: `ae:${session.callingAe}`,
        action: 'dicom.c-store',
        outcome: 'denied',
        subject: `facility:${session.clinicId}`,
        remoteAddress: session.remoteAddress,
        detail: { code: 'TOO_LARGE', limitBytes: instance.limitBytes },
      });
      return {
        status: CStoreStatus.OutOfResources,
        errorComment: comment(`instance over the relay's limit of ${instance.limitBytes} bytes`),
      };
    }
    if (!(await this.intake.hasRoomFor(instance.bytes))) {
      if (instance.kind === 'file') await rm(instance.path, { force: true });
      this.refusal('INSUFFICIENT_STORAGE');
      this.log.warn(
        { clinicId: session.clinicId },
        'C-STORE refused: the data disk is nearly full',
      );
      return {
        status: CStoreStatus.OutOfResources,
        errorComment: 'the relay is short of disk space',
      };
    }
    const source: StoreSource = {
      via: 'c-store',
      clinicId: session.clinicId,
      actor: `ae:${session.callingAe}`,
      callingAe: session.callingAe,
    };
    const outcome =
      instance.kind === 'memory'
        ? await this.intake.storeBytes(instance.data, source)
        : await this.intake.storeFile(instance.path, source);
    return this.reply(session, outcome);
  }

  ended(
    session: AeSession | undefined,
    event: { remoteAddress: string | undefined; reason: string },
  ): void {
    this.log.info(
      { callingAe: session?.callingAe, clinicId: session?.clinicId, ...event },
      'DICOM association ended without release',
    );
  }

  private reply(session: AeSession, outcome: StoreOutcome): StoreReply {
    switch (outcome.outcome) {
      case 'stored':
      case 'already-stored':
        // PS3.4 B.2.3: a repeated instance is a success for the sender; it is kept once.
        return { status: CStoreStatus.Success };
      case 'refused':
        this.refusal(outcome.refusal.code);
        this.log.warn(
          { callingAe: session.callingAe, clinicId: session.clinicId, code: outcome.refusal.code },
          'C-STORE refused',
        );
        return {
          status: cStoreStatusOf(outcome.refusal.failureReason),
          errorComment: comment(outcome.refusal.reason),
        };
      case 'conflict':
        this.refusal('CONFLICT');
        this.log.warn(
          { callingAe: session.callingAe, clinicId: session.clinicId },
          'C-STORE conflict: SOP Instance UID stored with other content',
        );
        return {
          status: CStoreStatus.ConflictingInstance,
          errorComment: comment(outcome.reason),
        };
    }
  }

  private refusal(code: string): void {
    this.metrics.count('telerelay_refusals_total', { edge: 'dicom', code });
  }
}
