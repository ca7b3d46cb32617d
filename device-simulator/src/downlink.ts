import { z } from 'zod';
import {
  DEVICE_ERROR_CODES,
  type DeviceDiagnosis,
  type DeviceError,
  type StoredAck,
} from '#contracts';

// The contracts define the relay → box messages as interfaces only; the box checks them
// itself because a malformed ack must never be mistaken for "stored".
const StoredAckSchema = z.object({
  recordingId: z.string().min(1),
  storedThrough: z.int().min(-1),
  missing: z.array(z.int().min(0)),
  complete: z.boolean(),
  caseId: z.string().min(1).optional(),
});

const DeviceErrorSchema = z.object({
  code: z.enum(DEVICE_ERROR_CODES),
  message: z.string(),
  retryable: z.boolean(),
  recordingId: z.string().min(1).optional(),
  sequence: z.int().min(0).optional(),
});

const DeviceDiagnosisSchema = z.object({
  caseId: z.string().min(1),
  recordingId: z.string().min(1),
  conclusion: z.string(),
  signedBy: z.string(),
  signedAt: z.string(),
});

export type DownlinkMessage =
  | { readonly channel: 'ack'; readonly ack: StoredAck }
  | { readonly channel: 'error'; readonly error: DeviceError }
  | { readonly channel: 'diagnosis'; readonly diagnosis: DeviceDiagnosis };

export type DownlinkParseResult =
  | { readonly ok: true; readonly message: DownlinkMessage }
  | { readonly ok: false; readonly reason: string };

/** Parses one relay → box payload. Unknown extra fields are tolerated (newer relays). */
export function parseDownlink(channel: string, payload: Buffer): DownlinkParseResult {
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch {
    return { ok: false, reason: 'payload is not JSON' };
  }
  const fail = (error: z.ZodError) => ({ ok: false as const, reason: z.prettifyError(error) });
  switch (channel) {
    case 'ack': {
      const parsed = StoredAckSchema.safeParse(json);
      return parsed.success
        ? { ok: true, message: { channel, ack: parsed.data } }
        : fail(parsed.error);
    }
    case 'error': {
      const parsed = DeviceErrorSchema.safeParse(json);
      return parsed.success
        ? { ok: true, message: { channel, error: parsed.data } }
        : fail(parsed.error);
    }
    case 'diagnosis': {
      const parsed = DeviceDiagnosisSchema.safeParse(json);
      return parsed.success
        ? { ok: true, message: { channel, diagnosis: parsed.data } }
        : fail(parsed.error);
    }
    default:
      return { ok: false, reason: `not a downlink channel: ${channel}` };
  }
}
