import { Module } from '@nestjs/common';
import { FacilitiesRepository } from './facilities.repository.js';

@Module({ providers: [FacilitiesRepository], exports: [FacilitiesRepository] })
export class FacilitiesModule {}
