import { describe, expect, it } from 'vitest';
import { publishRefusal, subscribeRefusal } from './mqtt-broker.js';

describe('device topic ACL', () => {
  it('lets a box publish only its own uplink channels', () => {
    expect(publishRefusal('box-1', 'telerelay/v1/box-1/rec/chunk')).toBeNull();
    expect(publishRefusal('box-1', 'telerelay/v1/box-2/rec/chunk')).toMatch(/another device/);
    expect(publishRefusal('box-1', 'telerelay/v1/box-1/diagnosis')).toMatch(/relay-only/);
    expect(publishRefusal('box-1', 'telerelay/v1/+/rec/chunk')).toMatch(/wildcard/);
    expect(publishRefusal('box-1', 'elsewhere/box-1')).toMatch(/outside/);
  });

  it('lets a box subscribe only to its own downlink channels', () => {
    expect(subscribeRefusal('box-1', 'telerelay/v1/box-1/ack')).toBeNull();
    expect(subscribeRefusal('box-1', 'telerelay/v1/box-2/ack')).toMatch(/another device/);
    expect(subscribeRefusal('box-1', 'telerelay/v1/box-1/#')).toMatch(/wildcard/);
    expect(subscribeRefusal('box-1', '$SYS/#')).toMatch(/system/);
    expect(subscribeRefusal('box-1', 'telerelay/v1/box-1/rec/chunk')).toMatch(/uplink/);
  });
});
