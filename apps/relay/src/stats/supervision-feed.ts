import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Facility } from '#contracts';
import { LOGGER } from '../common/tokens.js';
import { FacilitiesRepository } from '../facilities/facilities.repository.js';
import type { Logger } from '../infra/logging/logger.js';
import { Notifier } from '../realtime/notifier.js';

/**
 * Busy hours bring several case pushes a second; the authority's page reads the report once
 * per quiet half second rather than once per push.
 */
export const SUPERVISION_DEBOUNCE_MS = 500;

/**
 * The live part of the supervision: after any case push, each health authority whose region
 * holds the facility hears `supervision.changed` with the facilities concerned, and reads
 * its figures again. The event carries facility ids only.
 */
@Injectable()
export class SupervisionFeed implements OnModuleInit, OnModuleDestroy {
  private touched = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly notifier: Notifier,
    private readonly facilities: FacilitiesRepository,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  onModuleInit(): void {
    this.notifier.onCaseActivity((facilityId) => this.touch(facilityId));
  }

  onModuleDestroy(): void {
    clearTimeout(this.timer);
  }

  private touch(facilityId: string): void {
    this.touched.add(facilityId);
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      const touched = [...this.touched];
      this.touched = new Set();
      this.publish(touched).catch((error: unknown) =>
        this.log.warn({ err: error }, 'supervision change not announced'),
      );
    }, SUPERVISION_DEBOUNCE_MS);
  }

  private async publish(touched: string[]): Promise<void> {
    const byId = new Map((await this.facilities.all()).map((f) => [f.id, f]));
    const perRegion = new Map<string, string[]>();
    for (const id of touched) {
      for (const region of lineOf(id, byId)) {
        perRegion.set(region, [...(perRegion.get(region) ?? []), id]);
      }
    }
    for (const [region, facilityIds] of perRegion) {
      this.notifier.toRegion(region, 'supervision.changed', { facilityIds });
    }
  }
}

/** A facility and the facilities above it: the regions that include it. */
function lineOf(id: string, byId: ReadonlyMap<string, Facility>): string[] {
  const line: string[] = [];
  for (let at = byId.get(id); at; at = at.parentId === null ? undefined : byId.get(at.parentId)) {
    line.push(at.id);
    if (line.length > 3) break; // clinic → county → tertiary; a longer chain is a bad record
  }
  return line;
}
