/** Injection tokens for values that are not classes (symbols, never bare strings). */
export const CONFIG = Symbol('RelayConfig');
export const LOGGER = Symbol('Logger');
/** The relay's signing secret (`AUTH_SECRET`, or the one kept in the data directory). */
export const AUTH_SECRET = Symbol('AuthSecret');
