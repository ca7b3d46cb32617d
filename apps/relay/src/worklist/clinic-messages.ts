import type {
  CaseReturnedNotice,
  DeviceDiagnosis,
  DeviceError,
  DiagnosisDelivery,
  DownlinkChannel,
} from '#contracts';
import type { CasesRepository } from './cases.repository.js';
import type { OwedEvent } from './clinic-inbox.js';

export type ClinicMessage =
  | { event: 'diagnosis.signed'; payload: DiagnosisDelivery; deviceId: string | null }
  | { event: 'case.returned'; payload: CaseReturnedNotice; deviceId: string | null };

/** The socket message for an event the relay owes a clinic, built from the database. */
export async function clinicMessageOf(
  cases: CasesRepository,
  owed: OwedEvent,
): Promise<ClinicMessage | null> {
  switch (owed.kind) {
    case 'diagnosis.signed': {
      const found = await cases.diagnosisOf(owed.caseId);
      if (!found) return null;
      const { deviceId, ...diagnosis } = found;
      return { event: 'diagnosis.signed', payload: { eventId: owed.eventId, diagnosis }, deviceId };
    }
    case 'case.returned': {
      const notice = await cases.returnedNotice(owed.caseId);
      if (!notice) return null;
      return {
        event: 'case.returned',
        payload: {
          eventId: owed.eventId,
          caseId: owed.caseId,
          recordingId: notice.recordingId,
          reason: notice.reason ?? 'unreadable recording',
        },
        deviceId: notice.deviceId,
      };
    }
  }
}

/** What the box that sent the recording gets for the same event, on its own topic. */
export interface BoxMessage {
  deviceId: string;
  channel: DownlinkChannel;
  body: DeviceDiagnosis | DeviceError;
}

export function boxMessageOf(message: ClinicMessage): BoxMessage | null {
  if (!message.deviceId) return null;
  switch (message.event) {
    case 'diagnosis.signed': {
      const { diagnosis } = message.payload;
      if (!diagnosis.recordingId) return null;
      const body: DeviceDiagnosis = {
        caseId: diagnosis.caseId,
        recordingId: diagnosis.recordingId,
        conclusion: diagnosis.conclusion,
        signedBy: diagnosis.signedByName,
        signedAt: diagnosis.signedAt,
      };
      return { deviceId: message.deviceId, channel: 'diagnosis', body };
    }
    case 'case.returned': {
      const { recordingId, reason } = message.payload;
      if (!recordingId) return null;
      const body: DeviceError = {
        code: 'UNREADABLE_RECORDING',
        message: `Record again: ${reason}`,
        retryable: false,
        recordingId,
      };
      return { deviceId: message.deviceId, channel: 'error', body };
    }
  }
}
