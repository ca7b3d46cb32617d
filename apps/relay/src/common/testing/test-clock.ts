import { Clock } from '../clock.js';

/**
 * A clock the test sets and moves (medium tests, docs/development.md): a 3-minute deadline,
 * a lease or an outbox back-off passes in one call.
 */
export class TestClock extends Clock {
  constructor(private current = Date.parse('2026-03-02T08:00:00Z')) {
    super();
  }

  now(): Date {
    return new Date(this.current);
  }

  advance(ms: number): Date {
    this.current += ms;
    return this.now();
  }
}
