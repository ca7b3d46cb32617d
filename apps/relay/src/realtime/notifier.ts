import { Injectable } from '@nestjs/common';
import type { Server } from 'socket.io';
import type { ClientToServerEvents, LiveSamples, ServerToClientEvents } from '#contracts';

export type RelayServer = Server<ClientToServerEvents, ServerToClientEvents>;
type EventName = keyof ServerToClientEvents;

export const hospitalRoom = (hospitalId: string) => `hospital:${hospitalId}`;
export const clinicRoom = (clinicId: string) => `clinic:${clinicId}`;
export const streamRoom = (deviceId: string) => `stream:${deviceId}`;
/** The health authority of a facility and everything below it (de-identified events only). */
export const regionRoom = (facilityId: string) => `region:${facilityId}`;

/** Where a case event went: the facilities whose figures it may have moved. */
export type CaseActivityListener = (facilityId: string) => void;

/** Pushes about a case's course; a consent code or live samples move no figure. */
const CASE_EVENTS = new Set<EventName>([
  'worklist.case-added',
  'worklist.case-updated',
  'worklist.case-moved',
  'worklist.deadline-near',
  'diagnosis.signed',
  'case.returned',
]);

/** Pushes typed events to the people who watch a hospital's worklist or a clinic's cases. */
@Injectable()
export class Notifier {
  private server: RelayServer | undefined;
  private readonly caseActivity: CaseActivityListener[] = [];

  attach(server: RelayServer): void {
    this.server = server;
  }

  /**
   * Hears every case push by the facility it went to, so the supervision follows the
   * workflow without each step having to tell it.
   */
  onCaseActivity(listener: CaseActivityListener): void {
    this.caseActivity.push(listener);
  }

  toRegion<E extends EventName>(
    facilityId: string,
    event: E,
    ...args: Parameters<ServerToClientEvents[E]>
  ): void {
    this.server?.to(regionRoom(facilityId)).emit(event, ...args);
  }

  private heard(facilityId: string, event: EventName): void {
    if (!CASE_EVENTS.has(event)) return;
    for (const listener of this.caseActivity) listener(facilityId);
  }

  toHospital<E extends EventName>(
    hospitalId: string,
    event: E,
    ...args: Parameters<ServerToClientEvents[E]>
  ): void {
    this.server?.to(hospitalRoom(hospitalId)).emit(event, ...args);
    this.heard(hospitalId, event);
  }

  /**
   * Live samples are sent volatile: a watcher whose connection cannot take them now misses
   * them, so one slow watcher never holds the stream back for the others.
   */
  toStreamWatchers(deviceId: string, samples: LiveSamples): void {
    this.server?.to(streamRoom(deviceId)).volatile.emit('stream.samples', samples);
  }

  toClinic<E extends EventName>(
    clinicId: string,
    event: E,
    ...args: Parameters<ServerToClientEvents[E]>
  ): void {
    this.server?.to(clinicRoom(clinicId)).emit(event, ...args);
    this.heard(clinicId, event);
  }
}
