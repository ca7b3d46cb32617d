import { Body, Controller, Get, HttpCode, Ip, Post } from '@nestjs/common';
import {
  LoginRequestSchema,
  LoginResponseSchema,
  RefreshRequestSchema,
  ROLES,
  SessionUserSchema,
  type LoginResponse,
  type SessionUser,
} from '#contracts';
import { ApiRoute } from '../common/api-route.js';
import { parseInput } from '../common/validation.js';
import { AuthService } from './auth.service.js';
import { CurrentUser, Public, Roles } from './auth.guard.js';

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

  /** The refresh token is the credential here, so no access token is needed (it may have expired). */
  @ApiRoute({
    summary: 'Exchange a refresh token for a new access token and refresh token',
    response: LoginResponseSchema,
  })
  @Public()
  @Post('auth/refresh')
  @HttpCode(200)
  refresh(
    @Body({ schema: RefreshRequestSchema }) body: unknown,
    @Ip() ip: string,
  ): Promise<LoginResponse> {
    return this.auth.refresh(parseInput(RefreshRequestSchema, body).refreshToken, ip);
  }

  @ApiRoute({ summary: 'End the session the refresh token belongs to', response: null })
  @Public()
  @Post('auth/logout')
  @HttpCode(204)
  logout(@Body({ schema: RefreshRequestSchema }) body: unknown, @Ip() ip: string): Promise<void> {
    return this.auth.logout(parseInput(RefreshRequestSchema, body).refreshToken, ip);
  }

  @ApiRoute({ summary: 'Who the token belongs to', response: SessionUserSchema })
  @Roles(...ROLES)
  @Get('me')
  me(@CurrentUser() user: SessionUser): SessionUser {
    return user;
  }
}
