import { Controller, Get, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Public, Roles } from '../identity/auth.guard.js';
import { ApiRoute } from '../common/api-route.js';
import {
  HealthReportSchema,
  HealthService,
  HealthStatusSchema,
  type HealthReport,
  type HealthStatus,
} from './health.service.js';

@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  /**
   * For load balancers and service managers, which have no token: up or down and nothing
   * else, since queue sizes and connected boxes tell an outsider how busy the region is.
   */
  @ApiRoute({
    summary: 'Whether the relay is up: every component answers',
    description: '503 with status "down" when a component is down; the details need a token.',
    response: HealthStatusSchema,
  })
  @Public()
  @Get()
  async check(@Res({ passthrough: true }) response: Response): Promise<HealthStatus> {
    const report = await this.health.check();
    response.status(report.status === 'up' ? 200 : 503);
    return { status: report.status, checkedAt: report.checkedAt };
  }

  /** Operators (admins) see each component, the queues and the ingest counters. */
  @ApiRoute({
    summary: 'Health of the database, Redis, broker and queues, with ingest counters',
    description: '503 with the same body when a component is down.',
    response: HealthReportSchema,
  })
  @Roles('admin')
  @Get('details')
  async details(@Res({ passthrough: true }) response: Response): Promise<HealthReport> {
    const report = await this.health.check();
    response.status(report.status === 'up' ? 200 : 503);
    return report;
  }
}
