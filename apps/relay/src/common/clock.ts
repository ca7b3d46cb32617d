import { Injectable } from '@nestjs/common';

/**
 * What time it is, as a dependency: the one place domain code reads the time, so a test can
 * run a 3-minute deadline or a 2-minute lease in milliseconds with a clock it moves itself.
 * The abstract class is its own injection token (no bare string).
 */
export abstract class Clock {
  abstract now(): Date;
}

/** The wall clock. */
@Injectable()
export class SystemClock extends Clock {
  now(): Date {
    return new Date();
  }
}
