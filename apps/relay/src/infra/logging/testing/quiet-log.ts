import type { Logger } from '../logger.js';

/** A logger that drops everything: for medium tests whose subject is not the log. */
export const quietLog = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  debug: () => undefined,
  child: () => quietLog,
} as unknown as Logger;
