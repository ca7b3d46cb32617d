import { Body, Controller, Get, HttpCode, Ip, Post } from '@nestjs/common';
import {
  LoginRequestSchema,
  RefreshRequestSchema,
  ROLES,
  type LoginResponse,
  type SessionUser,
} from '#contracts';
import { parseInput } from '../common/validation.js';
import { AuthService } from './auth.service.js';
import { CurrentUser, Public, Roles } from './auth.guard.js';

@Controller('api')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Public()
  @Post('auth/login')
  @HttpCode(200)
  login(@Body() body: unknown, @Ip() ip: string): Promise<LoginResponse> {
    return this.auth.login(parseInput(LoginRequestSchema, body), ip);
  }

  /** The refresh token is the credential here, so no access token is needed (it may have expired). */
  @Public()
  @Post('auth/refresh')
  @HttpCode(200)
  refresh(@Body() body: unknown, @Ip() ip: string): Promise<LoginResponse> {
    return this.auth.refresh(parseInput(RefreshRequestSchema, body).refreshToken, ip);
  }

  @Public()
  @Post('auth/logout')
  @HttpCode(204)
  logout(@Body() body: unknown, @Ip() ip: string): Promise<void> {
    return this.auth.logout(parseInput(RefreshRequestSchema, body).refreshToken, ip);
  }

  @Roles(...ROLES)
  @Get('me')
  me(@CurrentUser() user: SessionUser): SessionUser {
    return user;
  }
}
