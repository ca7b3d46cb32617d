import { Injectable } from '@nestjs/common';
import {
  REPORT_TIME_ZONE,
  type Facility,
  type SessionUser,
  type SupervisionQuery,
  type SupervisionReport,
} from '#contracts';
import { Clock } from '../common/clock.js';
import { FacilitiesRepository } from '../facilities/facilities.repository.js';
import { subtreeOf } from '../facilities/hierarchy.js';
import { reportPeriod } from './report-period.js';
import {
  casesPerHour,
  EMPTY_TALLY,
  facilityFigures,
  figuresOf,
  turnaroundHistogram,
} from './supervision-figures.js';
import { SupervisionRepository } from './supervision.repository.js';

/**
 * The health authority's supervision of its region (its facility and everything below it):
 * figures for a period, the late cases now, and readers' workload. De-identified by
 * construction: the repository never reads a patient column or hands out a case id.
 */
@Injectable()
export class SupervisionService {
  constructor(
    private readonly facilities: FacilitiesRepository,
    private readonly supervision: SupervisionRepository,
    private readonly clock: Clock,
  ) {}

  async regionOf(facilityId: string): Promise<Facility[]> {
    return subtreeOf(facilityId, await this.facilities.all());
  }

  async report(user: SessionUser, query: SupervisionQuery): Promise<SupervisionReport> {
    const now = this.clock.now();
    const period = reportPeriod(now, query.from, query.to);
    const region = await this.regionOf(user.facilityId);
    const clinicIds = region.filter((f) => f.kind === 'clinic').map((f) => f.id);
    const hospitalIds = region.filter((f) => f.kind !== 'clinic').map((f) => f.id);
    // One after the other: PGlite has a single connection anyway.
    const cohort = await this.supervision.cohort(clinicIds, period.start, period.end);
    const tallies = await this.supervision.tallies(clinicIds, period.start, period.end);
    const readers = await this.supervision.readerLoad(hospitalIds, period.start, period.end);
    const late = await this.supervision.lateCases(clinicIds, now);
    return {
      regionId: user.facilityId,
      timeZone: REPORT_TIME_ZONE,
      from: period.from,
      to: period.to,
      periodStart: period.start.toISOString(),
      periodEnd: period.end.toISOString(),
      generatedAt: now.toISOString(),
      region: figuresOf(
        cohort,
        clinicIds.map((id) => tallies.get(id) ?? EMPTY_TALLY),
        now,
      ),
      facilities: facilityFigures(region, cohort, tallies, now),
      turnaroundHistogram: turnaroundHistogram(cohort),
      casesPerHour: casesPerHour(cohort),
      readers,
      lateCases: late.map((item) => ({
        clinicId: item.clinicId,
        hospitalId: item.hospitalId,
        examKind: item.examKind,
        priority: item.priority,
        status: item.status,
        recordedAt: item.createdAt.toISOString(),
        dueAt: item.dueAt.toISOString(),
        overdueSeconds: Math.round((now.getTime() - item.dueAt.getTime()) / 1000),
      })),
    };
  }
}
