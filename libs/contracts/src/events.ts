import type { CaseSummary, Diagnosis } from './cases.js';

/**
 * Server → client Socket.IO events. Gateways and clients type their sockets with this
 * map, so a wrong event name or payload does not compile.
 */
export interface ServerToClientEvents {
  /** A case entered the hospital's worklist (room `hospital:<id>`). */
  'worklist.case-added': (summary: CaseSummary) => void;
  /** A case on the worklist changed state (claimed, signed, …). */
  'worklist.case-updated': (summary: CaseSummary) => void;
  /** A diagnosis for one of the clinic's cases (room `clinic:<id>`). */
  'diagnosis.signed': (delivery: DiagnosisDelivery) => void;
  /** A recording could not be read and went back to the clinic (room `clinic:<id>`). */
  'case.returned': (notice: CaseReturnedNotice) => void;
  /** Sent once after the handshake: who the relay thinks you are. */
  'session.ready': (session: { userId: string; rooms: string[] }) => void;
}

export interface ClientToServerEvents {
  /** The clinic confirms it has shown a diagnosis. */
  'diagnosis.received': (ack: { eventId: string }) => void;
}

export interface DiagnosisDelivery {
  /** Monotonic per relay; lets a client say what it has already seen. */
  eventId: string;
  diagnosis: Diagnosis;
}

export interface CaseReturnedNotice {
  eventId: string;
  caseId: string;
  recordingId: string | null;
  /** Plain words for the clinic, e.g. "lead V3 off". */
  reason: string;
}

export const SOCKET_PATH = '/socket.io';
