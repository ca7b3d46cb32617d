import { Body, Controller, Get, HttpCode, Ip, Post } from '@nestjs/common';
import { LoginRequestSchema, type LoginResponse, type SessionUser } from '#contracts';
import { parseInput } from '../common/validation.js';
import { AuthService } from './auth.service.js';
import { CurrentUser, Public } from './auth.guard.js';

@Controller('api')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Public()
  @Post('auth/login')
  @HttpCode(200)
  login(@Body() body: unknown, @Ip() ip: string): Promise<LoginResponse> {
    return this.auth.login(parseInput(LoginRequestSchema, body), ip);
  }

  @Get('me')
  me(@CurrentUser() user: SessionUser): SessionUser {
    return user;
  }
}
