import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { z } from 'zod';
import {
  CreatedExamOrderSchema,
  CreateExamOrderSchema,
  ExamOrderSchema,
  orderNumberSchema,
  type CreatedExamOrder,
  type ExamOrder,
  type SessionUser,
} from '#contracts';
import { ApiRoute } from '../common/api-route.js';
import { ContractPipe } from '../common/validation.js';
import { CurrentUser, Roles } from '../identity/auth.guard.js';
import { ExamOrdersService } from './exam-orders.service.js';

/**
 * Exam registration by clinic staff, for their own clinic only. The patient's identifier
 * comes in the body and is answered masked; URLs carry order numbers, never identifiers.
 */
@Roles('clinic_staff')
@Controller('api/records/orders')
export class RecordsController {
  constructor(private readonly orders: ExamOrdersService) {}

  @ApiRoute({
    summary: 'Register an exam: find or register the patient, answer the order number',
    description:
      'The identifier is checked (GB 11643 for a resident ID) and answered masked. When the ' +
      'same exam of the patient was done within REPEAT_EXAM_WINDOW_DAYS at any facility, ' +
      '`warning` says where and when; go ahead or cancel the order.',
    response: CreatedExamOrderSchema,
  })
  @Post()
  create(
    @CurrentUser() user: SessionUser,
    @Body({ schema: CreateExamOrderSchema }) body: unknown,
  ): Promise<CreatedExamOrder> {
    return this.orders.create(user, body);
  }

  @ApiRoute({ summary: "The clinic's open exam orders", response: z.array(ExamOrderSchema) })
  @Get()
  open(@CurrentUser() user: SessionUser): Promise<ExamOrder[]> {
    return this.orders.openOrders(user);
  }

  @ApiRoute({
    summary: 'Go ahead with an exam despite the repeated-exam warning',
    response: ExamOrderSchema,
  })
  @Post(':orderNumber/go-ahead')
  @HttpCode(200)
  goAhead(
    @CurrentUser() user: SessionUser,
    @Param('orderNumber', new ContractPipe(orderNumberSchema)) orderNumber: string,
  ): Promise<ExamOrder> {
    return this.orders.goAhead(user, orderNumber);
  }

  @ApiRoute({ summary: 'Cancel an open exam order', response: ExamOrderSchema })
  @Post(':orderNumber/cancel')
  @HttpCode(200)
  cancel(
    @CurrentUser() user: SessionUser,
    @Param('orderNumber', new ContractPipe(orderNumberSchema)) orderNumber: string,
  ): Promise<ExamOrder> {
    return this.orders.cancel(user, orderNumber);
  }
}
