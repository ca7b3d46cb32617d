import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import type { SessionUser } from '#contracts';
import { z } from 'zod';
import { parseInput } from '../common/validation.js';
import { CurrentUser, Roles } from '../identity/auth.guard.js';
import { LiveStreamsService } from './live-streams.service.js';

const SnapshotSchema = z.strictObject({ seconds: z.number().min(2).max(60).default(10) });

@Controller('api/devices')
export class StreamsController {
  constructor(private readonly streams: LiveStreamsService) {}

  /** Stores the last seconds of a box's live stream as a rhythm strip for its county. */
  @Roles('reader', 'clinic_staff')
  @Post(':id/stream/snapshot')
  @HttpCode(201)
  snapshot(@CurrentUser() user: SessionUser, @Param('id') deviceId: string, @Body() body: unknown) {
    return this.streams.snapshot(user, deviceId, parseInput(SnapshotSchema, body ?? {}).seconds);
  }
}
