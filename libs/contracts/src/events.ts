import { z } from 'zod';
import { ResourceIdSchema } from './admin.js';
import type { CaseSummary, Diagnosis } from './cases.js';
import type { ConsentCodeNotice } from './consent.js';
import type { DeadlineNearAlert } from './routing.js';
import type { SupervisionChanged } from './supervision.js';

/**
 * Server → client Socket.IO events. Gateways and clients type their sockets with this
 * map, so a wrong event name or payload does not compile.
 */
export interface ServerToClientEvents {
  /** A case entered the hospital's worklist (room `hospital:<id>`). */
  'worklist.case-added': (summary: CaseSummary) => void;
  /** A case on the worklist changed state (claimed, signed, …). */
  'worklist.case-updated': (summary: CaseSummary) => void;
  /**
   * A case left this hospital (room `hospital:<from>`): escalated or overflowed, by a reader
   * or by the deadline. `summary` already names the new hospital.
   */
  'worklist.case-moved': (move: CaseMoved) => void;
  /** 80 % of an unclaimed case's deadline has passed (room `hospital:<id>`). */
  'worklist.deadline-near': (alert: DeadlineNearAlert) => void;
  /** A diagnosis for one of the clinic's cases (room `clinic:<id>`). */
  'diagnosis.signed': (delivery: DiagnosisDelivery) => void;
  /** A recording could not be read and went back to the clinic (room `clinic:<id>`). */
  'case.returned': (notice: CaseReturnedNotice) => void;
  /** Live samples of a watched stream (room `stream:<deviceId>`); may skip frames. */
  'stream.samples': (samples: LiveSamples) => void;
  /**
   * Demo only (DemoConsentNotifier): a verification code for one of the clinic's patients,
   * shown for the patient to read out (room `clinic:<registering clinic>`).
   */
  'consent.code': (notice: ConsentCodeNotice) => void;
  /**
   * The health authority's figures moved for these facilities of its region (room
   * `region:<authority's facility>`); the console reads the report again. No case or patient.
   */
  'supervision.changed': (change: SupervisionChanged) => void;
  /** Sent once after the handshake: who the relay thinks you are. */
  'session.ready': (session: { userId: string; rooms: string[] }) => void;
}

export interface ClientToServerEvents {
  /**
   * The clinic confirms it has shown a clinic event (a `diagnosis.signed` or a
   * `case.returned`, by its eventId). Until then the relay sends it again on every connect.
   */
  'diagnosis.received': (ack: ClinicEventReceived) => void;
  /** Start receiving a box's live stream (readers of its county, its clinic's staff). */
  'stream.watch': (request: StreamWatchRequest, reply: (result: WatchResult) => void) => void;
  'stream.unwatch': (request: StreamWatchRequest) => void;
}

/**
 * What a client may send, checked by the gateways like a REST body: a message that does not
 * parse is refused before anything reaches the database.
 */
export const ClinicEventReceivedSchema = z.strictObject({
  eventId: z.string().regex(/^[1-9][0-9]{0,15}$/, 'must be a clinic event id'),
});
export type ClinicEventReceived = z.infer<typeof ClinicEventReceivedSchema>;

export const StreamWatchRequestSchema = z.strictObject({ deviceId: ResourceIdSchema });
export type StreamWatchRequest = z.infer<typeof StreamWatchRequestSchema>;

export interface LiveStreamInfo {
  deviceId: string;
  streamId: string;
  leads: string[];
  sampleRateHz: number;
  microvoltsPerLsb: number;
  startedAt: string;
}

export type WatchResult =
  { ok: true; stream: LiveStreamInfo | null } | { ok: false; error: string };

export interface LiveSamples {
  deviceId: string;
  streamId: string;
  /** Index of the first sample per lead since the stream started. */
  firstSample: number;
  /** int16 samples interleaved by sample, in the stream's leads. */
  samples: number[];
}

export interface CaseMoved {
  summary: CaseSummary;
  fromHospitalId: string;
  kind: 'escalated' | 'overflowed';
  /** True when the deadline moved it, false when a reader did. */
  byDeadline: boolean;
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
