import { Body, Controller, Get, HttpCode, Ip, Post } from '@nestjs/common';
import {
  LoginRequestSchema,
  LoginResponseSchema,
  SessionUserSchema,
  type LoginResponse,
  type SessionUser,
} from '#contracts';
import { ApiRoute } from '../common/api-route.js';
import { parseInput } from '../common/validation.js';
import { AuthService } from './auth.service.js';
import { CurrentUser, Public } from './auth.guard.js';

@Controller('api')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @ApiRoute({
    summary: 'Sign in: an access token for the API and Socket.IO',
    response: LoginResponseSchema,
  })
  @Public()
  @Post('auth/login')
  @HttpCode(200)
  login(
    @Body({ schema: LoginRequestSchema }) body: unknown,
    @Ip() ip: string,
  ): Promise<LoginResponse> {
    return this.auth.login(parseInput(LoginRequestSchema, body), ip);
  }

  @ApiRoute({ summary: 'Who the token belongs to', response: SessionUserSchema })
  @Get('me')
  me(@CurrentUser() user: SessionUser): SessionUser {
    return user;
  }
}
