import { Module } from '@nestjs/common';
import { PhrasesController } from './phrases.controller.js';
import { PhrasesRepository } from './phrases.repository.js';
import { PhrasesService } from './phrases.service.js';

@Module({
  controllers: [PhrasesController],
  providers: [PhrasesRepository, PhrasesService],
})
export class PhrasesModule {}
