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
import { z } from 'zod';
import { NewPhraseSchema, PhraseSchema, type Phrase, type SessionUser } from '#contracts';
import { ApiRoute } from '../common/api-route.js';
import { CurrentUser, Roles } from '../identity/auth.guard.js';
import { PhrasesService } from './phrases.service.js';

@Roles('reader', 'admin')
@Controller('api/phrases')
export class PhrasesController {
  constructor(private readonly phrases: PhrasesService) {}

  @ApiRoute({
    summary: "The sign form's reusable phrases of the caller's hospital",
    response: z.array(PhraseSchema),
  })
  @Get()
  list(@CurrentUser() user: SessionUser): Promise<Phrase[]> {
    return this.phrases.list(user);
  }

  @ApiRoute({ summary: "Add a reusable phrase for the caller's hospital", response: PhraseSchema })
  @Post()
  add(
    @CurrentUser() user: SessionUser,
    @Body({ schema: NewPhraseSchema }) body: unknown,
  ): Promise<Phrase> {
    return this.phrases.add(user, body);
  }

  @ApiRoute({ summary: 'Remove a reusable phrase', response: null })
  @Delete(':id')
  @HttpCode(204)
  remove(
    @CurrentUser() user: SessionUser,
    @Param('id', new ParseUUIDPipe({ version: undefined })) id: string,
  ): Promise<void> {
    return this.phrases.remove(user, id);
  }
}
