import { Controller, Get } from '@nestjs/common';
import { RegionStatsSchema, type RegionStats, type SessionUser } from '#contracts';
import { ApiRoute } from '../common/api-route.js';
import { CurrentUser, Roles } from '../identity/auth.guard.js';
import { StatsService } from './stats.service.js';

@Controller('api/stats')
export class StatsController {
  constructor(private readonly stats: StatsService) {}

  /** Today's counts and turnaround for the caller's facility and everything below it. */
  @ApiRoute({
    summary: "Today's counts and turnaround for the caller's region, no patient data",
    response: RegionStatsSchema,
  })
  @Roles('health_authority', 'admin')
  @Get()
  region(@CurrentUser() user: SessionUser): Promise<RegionStats> {
    return this.stats.forRegionOf(user);
  }
}
