/** Injection tokens for values that are not classes (symbols, never bare strings). */
export const CONFIG = Symbol('RelayConfig');
export const LOGGER = Symbol('Logger');
