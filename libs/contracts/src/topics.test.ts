import { describe, expect, it } from 'vitest';
import { deviceTopic, parseDeviceTopic } from '#contracts';

describe('device topics', () => {
  it('round-trips every channel through parse', () => {
    const topic = deviceTopic('box-0001', 'rec/chunk');
    expect(topic).toBe('telerelay/v1/box-0001/rec/chunk');
    expect(parseDeviceTopic(topic)).toEqual({ deviceId: 'box-0001', channel: 'rec/chunk' });
  });

  it('rejects topics outside the tree, unknown channels and missing device ids', () => {
    expect(parseDeviceTopic('$SYS/broker/heartbeat')).toBeNull();
    expect(parseDeviceTopic('telerelay/v1/box-0001/rec/other')).toBeNull();
    expect(parseDeviceTopic('telerelay/v1//rec/chunk')).toBeNull();
    expect(parseDeviceTopic('telerelay/v2/box-0001/ack')).toBeNull();
  });
});
