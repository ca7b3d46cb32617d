import { describe, expect, it } from 'vitest';
import { durabilityWarnings } from './redis-durability.js';

const info = (policy: string, aof: 0 | 1) =>
  `# Memory\r\nused_memory:1000\r\nmaxmemory_policy:${policy}\r\n\r\n# Persistence\r\naof_enabled:${aof}\r\n`;

describe("Redis settings the relay's stored acknowledgements depend on", () => {
  it('is silent for noeviction and an append-only file fsynced always', () => {
    expect(durabilityWarnings(info('noeviction', 1), 'always')).toEqual([]);
  });

  it('warns about an evicting policy, a missing append-only file and everysec, each by name', () => {
    const warnings = durabilityWarnings(info('allkeys-lru', 0), 'always');
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain('maxmemory-policy is allkeys-lru');
    expect(warnings[1]).toContain('appendonly no');
    expect(durabilityWarnings(info('noeviction', 1), 'everysec')).toEqual([
      expect.stringContaining('appendfsync is everysec'),
    ]);
  });

  it('judges on INFO alone when CONFIG is refused', () => {
    expect(durabilityWarnings(info('noeviction', 1), undefined)).toEqual([]);
    expect(durabilityWarnings(info('volatile-lru', 1), undefined)).toHaveLength(1);
  });
});
