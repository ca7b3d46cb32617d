/**
 * The MQTT topic tree between a box and the relay (docs/protocol.md).
 * Every topic is scoped by the device id so that the broker ACL can be a prefix check.
 */
export const TOPIC_ROOT = 'telerelay/v1';

/** Box → relay channels. */
export const UPLINK_CHANNELS = [
  'rec/open',
  'rec/chunk',
  'rec/close',
  'stream/open',
  'stream/frame',
  'stream/close',
  'status',
] as const;
/** Relay → box channels. */
export const DOWNLINK_CHANNELS = ['ack', 'error', 'diagnosis'] as const;

export type UplinkChannel = (typeof UPLINK_CHANNELS)[number];
export type DownlinkChannel = (typeof DOWNLINK_CHANNELS)[number];
export type DeviceChannel = UplinkChannel | DownlinkChannel;

export function deviceTopic(deviceId: string, channel: DeviceChannel): string {
  return `${TOPIC_ROOT}/${deviceId}/${channel}`;
}

export interface ParsedDeviceTopic {
  deviceId: string;
  channel: DeviceChannel;
}

const CHANNELS: ReadonlySet<string> = new Set<string>([...UPLINK_CHANNELS, ...DOWNLINK_CHANNELS]);

/** Returns null for anything that is not exactly one of our device topics. */
export function parseDeviceTopic(topic: string): ParsedDeviceTopic | null {
  const prefix = `${TOPIC_ROOT}/`;
  if (!topic.startsWith(prefix)) return null;
  const rest = topic.slice(prefix.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return null;
  const deviceId = rest.slice(0, slash);
  const channel = rest.slice(slash + 1);
  if (!CHANNELS.has(channel)) return null;
  return { deviceId, channel: channel as DeviceChannel };
}

export function isUplinkChannel(channel: DeviceChannel): channel is UplinkChannel {
  return (UPLINK_CHANNELS as readonly string[]).includes(channel);
}
