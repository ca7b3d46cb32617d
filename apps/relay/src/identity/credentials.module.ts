import { Global, Module } from '@nestjs/common';
import { AUTH_SECRET, CONFIG } from '../common/tokens.js';
import type { RelayConfig } from '../config/config.js';
import { RefreshTokens } from './refresh-tokens.js';
import { SecretHasher } from './secret-hasher.js';
import { TokenService } from './token.service.js';

/**
 * Hashing and signing, for every module that checks a password, a box secret or a token
 * (identity, devices, ingest). Global, like the infrastructure it is built from.
 */
@Global()
@Module({
  providers: [
    { provide: SecretHasher, useValue: new SecretHasher() },
    {
      provide: RefreshTokens,
      useFactory: (secret: string) => new RefreshTokens(secret),
      inject: [AUTH_SECRET],
    },
    {
      provide: TokenService,
      useFactory: (secret: string, config: RelayConfig) =>
        new TokenService(secret, config.auth.accessTokenTtlSeconds),
      inject: [AUTH_SECRET, CONFIG],
    },
  ],
  exports: [SecretHasher, RefreshTokens, TokenService],
})
export class CredentialsModule {}
