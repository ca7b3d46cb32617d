import { REPORT_TIME_ZONE } from '#contracts';

export interface ReportPeriod {
  /** First and last day, both included, as the report time zone's calendar days. */
  from: string;
  to: string;
  /** Midnight starting `from`, and the midnight after `to` (exclusive). */
  start: Date;
  end: Date;
}

const DAY_MS = 86_400_000;

/** The calendar day (YYYY-MM-DD) `at` falls on in the report time zone. */
export function dayIn(at: Date, timeZone = REPORT_TIME_ZONE): string {
  // en-CA formats dates as ISO's YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone, dateStyle: 'short' }).format(at);
}

/** How far `timeZone` is ahead of UTC at `at`, in milliseconds (Intl's "GMT+08:00"). */
export function offsetMs(at: Date, timeZone: string): number {
  const name = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' })
    .formatToParts(at)
    .find((part) => part.type === 'timeZoneName')?.value;
  const match = /^GMT([+-])(\d{2}):(\d{2})$/.exec(name ?? '');
  if (!match) return 0; // "GMT": UTC itself
  const minutes = Number(match[2]) * 60 + Number(match[3]);
  return (match[1] === '-' ? -1 : 1) * minutes * 60_000;
}

/** The instant a calendar day starts in `timeZone`. */
export function midnightOf(day: string, timeZone = REPORT_TIME_ZONE): Date {
  const utcMidnight = Date.parse(`${day}T00:00:00Z`);
  // The offset at the guessed instant is the day's own except across a DST change at
  // midnight, which the report time zone (China Standard Time) does not have.
  return new Date(utcMidnight - offsetMs(new Date(utcMidnight), timeZone));
}

/** The period asked for; a missing end is today, a missing start the end's day. */
export function reportPeriod(now: Date, from?: string, to?: string): ReportPeriod {
  const last = to ?? (from && from > dayIn(now) ? from : dayIn(now));
  const first = from ?? last;
  const nextDay = new Date(Date.parse(`${last}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);
  return { from: first, to: last, start: midnightOf(first), end: midnightOf(nextDay) };
}
