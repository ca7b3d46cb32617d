import { Controller, Get, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Public } from '../identity/auth.guard.js';
import { ApiRoute } from '../common/api-route.js';
import { HealthReportSchema, HealthService, type HealthReport } from './health.service.js';

@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  /** 200 when every component answers, 503 otherwise; the body says which. */
  @ApiRoute({
    summary: 'Health of the database, Redis, broker and queues',
    description: '503 with the same body when a component is down.',
    response: HealthReportSchema,
  })
  @Public()
  @Get()
  async check(@Res({ passthrough: true }) response: Response): Promise<HealthReport> {
    const report = await this.health.check();
    response.status(report.status === 'up' ? 200 : 503);
    return report;
  }
}
