import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ResourceIdSchema, type SessionUser } from '#contracts';
import { z } from 'zod';
import { ApiRoute } from '../common/api-route.js';
import { ContractPipe, parseInput } from '../common/validation.js';
import { CurrentUser, Roles } from '../identity/auth.guard.js';
import { LiveStreamsService } from './live-streams.service.js';

const SnapshotSchema = z.strictObject({ seconds: z.number().min(2).max(60).default(10) });
const SnapshotResultSchema = z.object({
  caseId: z.string(),
  recordingId: z.string(),
  seconds: z.number(),
});

@Controller('api/devices')
export class StreamsController {
  constructor(private readonly streams: LiveStreamsService) {}

  /** Stores the last seconds of a box's live stream as a rhythm strip for its county. */
  @ApiRoute({
    summary: "Store the last seconds of a box's live stream as a rhythm strip (a new case)",
    response: SnapshotResultSchema,
  })
  @Roles('reader', 'clinic_staff')
  @Post(':id/stream/snapshot')
  @HttpCode(201)
  snapshot(
    @CurrentUser() user: SessionUser,
    @Param('id', new ContractPipe(ResourceIdSchema)) deviceId: string,
    @Body({ schema: SnapshotSchema }) body: unknown,
  ) {
    return this.streams.snapshot(user, deviceId, parseInput(SnapshotSchema, body ?? {}).seconds);
  }
}
