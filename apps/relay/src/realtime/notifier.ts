import { Injectable } from '@nestjs/common';
import type { Server } from 'socket.io';
import type { ClientToServerEvents, LiveSamples, ServerToClientEvents } from '#contracts';

export type RelayServer = Server<ClientToServerEvents, ServerToClientEvents>;
type EventName = keyof ServerToClientEvents;

export const hospitalRoom = (hospitalId: string) => `hospital:${hospitalId}`;
export const clinicRoom = (clinicId: string) => `clinic:${clinicId}`;
export const streamRoom = (deviceId: string) => `stream:${deviceId}`;

/** Pushes typed events to the people who watch a hospital's worklist or a clinic's cases. */
@Injectable()
export class Notifier {
  private server: RelayServer | undefined;

  attach(server: RelayServer): void {
    this.server = server;
  }

  toHospital<E extends EventName>(
    hospitalId: string,
    event: E,
    ...args: Parameters<ServerToClientEvents[E]>
  ): void {
    this.server?.to(hospitalRoom(hospitalId)).emit(event, ...args);
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
  }
}
