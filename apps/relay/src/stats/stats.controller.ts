import { Controller, Get, Header, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { z } from 'zod';
import {
  RegionStatsSchema,
  SupervisionQuerySchema,
  SupervisionReportSchema,
  type RegionStats,
  type SessionUser,
  type SupervisionReport,
} from '#contracts';
import { ApiRoute } from '../common/api-route.js';
import { parseInput } from '../common/validation.js';
import { CurrentUser, Roles } from '../identity/auth.guard.js';
import { StatsService } from './stats.service.js';
import { supervisionCsv } from './supervision-csv.js';
import { SupervisionService } from './supervision.service.js';

const PERIOD_QUERY = 'Query: from, to (YYYY-MM-DD in Asia/Shanghai, both included; default today).';

@Controller('api/stats')
export class StatsController {
  constructor(
    private readonly stats: StatsService,
    private readonly supervision: SupervisionService,
  ) {}

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

  @ApiRoute({
    summary: "The health authority's supervision of its region for a period, no patient data",
    description: PERIOD_QUERY,
    response: SupervisionReportSchema,
  })
  @Roles('health_authority')
  @Get('supervision')
  report(@CurrentUser() user: SessionUser, @Query() query: unknown): Promise<SupervisionReport> {
    return this.supervision.report(user, parseInput(SupervisionQuerySchema, query));
  }

  @ApiRoute({
    summary: 'The supervision of a period as CSV (text/csv), one row per facility',
    description: PERIOD_QUERY,
    response: z.string().meta({ id: 'SupervisionCsv' }),
  })
  @Roles('health_authority')
  @Get('supervision.csv')
  @Header('Content-Type', 'text/csv; charset=utf-8')
  async csv(
    @CurrentUser() user: SessionUser,
    @Query() query: unknown,
    @Res({ passthrough: true }) response: Response,
  ): Promise<string> {
    const report = await this.supervision.report(user, parseInput(SupervisionQuerySchema, query));
    response.setHeader(
      'Content-Disposition',
      `attachment; filename="supervision-${report.from}-${report.to}.csv"`,
    );
    return supervisionCsv(report);
  }
}
