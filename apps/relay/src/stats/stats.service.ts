import { Injectable } from '@nestjs/common';
import type { FacilityStats, RegionStats, SessionUser } from '#contracts';
import { Clock } from '../common/clock.js';
import { FacilitiesRepository } from '../facilities/facilities.repository.js';
import { subtreeOf } from '../facilities/hierarchy.js';
import { NO_CASES, StatsRepository } from './stats.repository.js';

/**
 * The health authority's view: for its facility and everything below it (a tertiary
 * hospital's authority sees its counties and their clinics), today's work per hospital and
 * per clinic. Hospitals count the cases they hold; clinics the cases they sent.
 */
@Injectable()
export class StatsService {
  constructor(
    private readonly facilities: FacilitiesRepository,
    private readonly stats: StatsRepository,
    private readonly clock: Clock,
  ) {}

  async forRegionOf(user: SessionUser): Promise<RegionStats> {
    const now = this.clock.now();
    const since = new Date(now);
    since.setHours(0, 0, 0, 0);
    const region = subtreeOf(user.facilityId, await this.facilities.all());
    const hospitals = region.filter((f) => f.kind !== 'clinic');
    const clinics = region.filter((f) => f.kind === 'clinic');
    const [byHospital, byClinic] = await Promise.all([
      this.stats.countsBy(
        'hospital',
        hospitals.map((f) => f.id),
        since,
      ),
      this.stats.countsBy(
        'clinic',
        clinics.map((f) => f.id),
        since,
      ),
    ]);
    const rows: FacilityStats[] = region.map((facility) => {
      const counts =
        (facility.kind === 'clinic' ? byClinic : byHospital).get(facility.id) ?? NO_CASES;
      // An escalation (and a repeated-exam warning) is counted where it started: at the
      // clinic, and at every hospital above it.
      const fromClinics = (key: 'escalated' | 'repeatExamWarnings' | 'repeatExamsWentAhead') =>
        facility.kind === 'clinic'
          ? counts[key]
          : subtreeOf(facility.id, region)
              .filter((f) => f.kind === 'clinic')
              .reduce((sum, clinic) => sum + (byClinic.get(clinic.id)?.[key] ?? 0), 0);
      const escalated = fromClinics('escalated');
      return {
        id: facility.id,
        kind: facility.kind,
        name: facility.name,
        parentId: facility.parentId,
        waiting: counts.waiting,
        claimed: counts.claimed,
        signed: counts.signed,
        returned: counts.returned,
        escalated,
        repeatExamWarnings: fromClinics('repeatExamWarnings'),
        repeatExamsWentAhead: fromClinics('repeatExamsWentAhead'),
        turnaroundSeconds: { median: counts.median, p90: counts.p90 },
      };
    });
    return { regionId: user.facilityId, since: since.toISOString(), facilities: rows };
  }
}
