import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CaseSummary, Facility } from '#contracts';
import type { FacilitiesRepository } from '../facilities/facilities.repository.js';
import { Notifier, type RelayServer } from '../realtime/notifier.js';
import { SUPERVISION_DEBOUNCE_MS, SupervisionFeed } from './supervision-feed.js';

const REGION: Facility[] = [
  { id: 't-1', kind: 'tertiary', name: 'T1', parentId: null, disabled: false },
  { id: 'c-1', kind: 'county', name: 'C1', parentId: 't-1', disabled: false },
  { id: 'k-1', kind: 'clinic', name: 'K1', parentId: 'c-1', disabled: false },
  { id: 'c-2', kind: 'county', name: 'C2', parentId: 't-1', disabled: false },
];

describe('SupervisionFeed', () => {
  afterEach(() => vi.useRealTimers());

  /** A notifier on a stand-in server (the boundary) that records what each room is sent. */
  function wired() {
    const sent: [string, string, unknown][] = [];
    const server = {
      to: (room: string) => ({
        emit: (event: string, payload: unknown) => sent.push([room, event, payload]),
      }),
    } as unknown as RelayServer;
    const notifier = new Notifier();
    notifier.attach(server);
    const facilities = { all: () => Promise.resolve(REGION) } as unknown as FacilitiesRepository;
    const feed = new SupervisionFeed(notifier, facilities, pino({ level: 'silent' }));
    feed.onModuleInit();
    return { notifier, sent, feed };
  }

  it('tells each region above a moved case once per quiet spell, with facility ids only', async () => {
    vi.useFakeTimers();
    const { notifier, sent, feed } = wired();
    const summary = { id: 'case-1' } as CaseSummary;
    notifier.toHospital('c-1', 'worklist.case-updated', summary);
    notifier.toClinic('k-1', 'worklist.case-updated', summary);
    notifier.toClinic('k-1', 'consent.code', {} as never);
    const pushedToRooms = sent.filter(([room]) => room.startsWith('region:'));
    expect(pushedToRooms).toEqual([]);
    await vi.advanceTimersByTimeAsync(SUPERVISION_DEBOUNCE_MS);
    const told = sent.filter(([room]) => room.startsWith('region:'));
    expect(told.sort()).toEqual(
      [
        ['region:c-1', 'supervision.changed', { facilityIds: ['c-1', 'k-1'] }],
        ['region:k-1', 'supervision.changed', { facilityIds: ['k-1'] }],
        ['region:t-1', 'supervision.changed', { facilityIds: ['c-1', 'k-1'] }],
      ].sort(),
    );
    expect(JSON.stringify(told)).not.toContain('case-1');
    feed.onModuleDestroy();
  });

  it('stays quiet for pushes that move no figure', async () => {
    vi.useFakeTimers();
    const { notifier, sent } = wired();
    notifier.toClinic('k-1', 'consent.code', {} as never);
    await vi.advanceTimersByTimeAsync(SUPERVISION_DEBOUNCE_MS * 2);
    expect(sent.filter(([room]) => room.startsWith('region:'))).toEqual([]);
  });
});
