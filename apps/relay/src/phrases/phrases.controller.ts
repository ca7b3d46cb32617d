import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Post,
} from '@nestjs/common';
import type { Phrase, SessionUser } from '#contracts';
import { CurrentUser, Roles } from '../identity/auth.guard.js';
import { PhrasesService } from './phrases.service.js';

@Roles('reader', 'admin')
@Controller('api/phrases')
export class PhrasesController {
  constructor(private readonly phrases: PhrasesService) {}

  @Get()
  list(@CurrentUser() user: SessionUser): Promise<Phrase[]> {
    return this.phrases.list(user);
  }

  @Post()
  add(@CurrentUser() user: SessionUser, @Body() body: unknown): Promise<Phrase> {
    return this.phrases.add(user, body);
  }

  @Delete(':id')
  @HttpCode(204)
  remove(
    @CurrentUser() user: SessionUser,
    @Param('id', new ParseUUIDPipe({ version: undefined })) id: string,
  ): Promise<void> {
    return this.phrases.remove(user, id);
  }
}
