import argon2 from 'argon2';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AuditService } from '../audit/audit.service.js';
import type { RelayConfig } from '../config/config.js';
import { SecretHasher } from '../identity/secret-hasher.js';
import { AttemptLimits } from '../infra/limits/attempt-limits.js';
import { PrometheusMetrics } from '../infra/metrics/prometheus-metrics.js';
import { DeviceGateService } from './device-gate.service.js';
import type { DevicesRepository } from './devices.repository.js';

const SECRET = 'box-secret-0123456789abcdef';

async function gate(connectsPerMinute = { device: 30, address: 600 }) {
  const hasher = new SecretHasher();
  const box = {
    id: 'box-1',
    clinicId: 'clinic-1',
    secretHash: await hasher.hashMachineSecret(SECRET),
    disabled: false,
  };
  const devices = {
    find: (id: string) => Promise.resolve(id === box.id ? box : undefined),
  } as unknown as DevicesRepository;
  const audit = { recordLater: () => undefined } as unknown as AuditService;
  const config = { mqtt: { connectsPerMinute } } as RelayConfig;
  const metrics = new PrometheusMetrics(pino({ level: 'silent' }));
  const service = new DeviceGateService(
    devices,
    hasher,
    audit,
    pino({ level: 'silent' }),
    config,
    AttemptLimits.inMemory(),
    metrics,
  );
  const connect = (deviceId: string, secret: string, remoteAddress: string) =>
    service.authenticate({
      deviceId,
      clientId: deviceId,
      secret: Buffer.from(secret),
      remoteAddress,
    });
  /** The broker's refusals counted in the metrics, by code. */
  const refusals = async () =>
    Object.fromEntries(
      [
        ...(await metrics.exposition()).body.matchAll(
          /^telerelay_refusals_total\{edge="mqtt",code="(\w+)"\} (\d+)$/gm,
        ),
      ].map((match) => [match[1], Number(match[2])]),
    );
  return { connect, refusals };
}

describe('DeviceGateService at CONNECT', () => {
  afterEach(() => vi.restoreAllMocks());

  it('refuses 30 wrong secrets naming a real box from elsewhere, and still admits the box from its own address', async () => {
    const { connect, refusals } = await gate();
    const attacker = '203.0.113.9';
    for (let attempt = 0; attempt < 30; attempt += 1) {
      expect(await connect('box-1', `guess-${attempt}`, attacker)).toBe('refused');
    }
    expect(await connect('box-1', 'guess-30', attacker)).toBe('throttled');
    expect(await connect('box-1', SECRET, '10.20.30.40')).toBe('accepted');
    expect(await refusals()).toEqual({ CONNECT_REFUSED: 30, CONNECT_THROTTLED: 1 });
  });

  it('throttles a flood from a shared address, but not a box that connected from there before', async () => {
    const { connect } = await gate({ device: 30, address: 20 });
    const carrierNat = '100.64.0.1';
    expect(await connect('box-1', SECRET, carrierNat)).toBe('accepted');
    for (let attempt = 0; attempt < 20; attempt += 1) {
      expect(await connect(`made-up-${attempt}`, 'guess', carrierNat)).toBe('refused');
    }
    expect(await connect('made-up-20', 'guess', carrierNat)).toBe('throttled');
    expect(await connect('box-1', SECRET, carrierNat)).toBe('accepted');
  });

  it('checks box secrets as salted HMACs: no argon2 for a current hash or an unknown id', async () => {
    const { connect } = await gate();
    const verify = vi.spyOn(argon2, 'verify');
    expect(await connect('box-1', SECRET, '192.0.2.1')).toBe('accepted');
    expect(await connect('box-1', `${SECRET}x`, '192.0.2.1')).toBe('refused');
    expect(await connect('box-404', SECRET, '192.0.2.1')).toBe('refused');
    expect(verify).not.toHaveBeenCalled();
  });
});

describe('SecretHasher for box secrets', () => {
  const hasher = new SecretHasher();

  it('stores a salted HMAC-SHA-256: the same secret twice gives two hashes, each verifying only it', async () => {
    const first = await hasher.hashMachineSecret(SECRET);
    const second = await hasher.hashMachineSecret(SECRET);
    expect(first).toMatch(/^\$hmac-sha256\$[\w-]{22}\$[\w-]{43}$/);
    expect(second).not.toBe(first);
    expect(first).not.toContain(SECRET);
    for (const hash of [first, second]) {
      expect(await hasher.verifyMachineSecret(hash, SECRET)).toBe(true);
      expect(await hasher.verifyMachineSecret(hash, SECRET.slice(0, -1))).toBe(false);
    }
    expect(hasher.machineHashIsOutdated(first)).toBe(false);
  });

  it('still verifies a secret stored as argon2id before, and marks that hash outdated', async () => {
    const legacy = await argon2.hash(SECRET, {
      type: argon2.argon2id,
      memoryCost: 4096,
      timeCost: 2,
      parallelism: 1,
    });
    expect(await hasher.verifyMachineSecret(legacy, SECRET)).toBe(true);
    expect(await hasher.verifyMachineSecret(legacy, 'box-secret-other-0123456789')).toBe(false);
    expect(hasher.machineHashIsOutdated(legacy)).toBe(true);
  });

  it('refuses, without throwing, a stored value in no known format or a damaged one', async () => {
    const good = await hasher.hashMachineSecret(SECRET);
    for (const stored of [
      '',
      'plain-text',
      '$hmac-sha256$',
      '$hmac-sha256$abc',
      good.slice(0, -4),
    ]) {
      expect(await hasher.verifyMachineSecret(stored, SECRET)).toBe(false);
    }
  });
});
