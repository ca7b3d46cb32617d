import type { CaseReturnedNotice, DiagnosisDelivery } from '#contracts';
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
