import { readFile } from 'node:fs/promises';
import { z } from 'zod';

const CredentialsFileSchema = z.object({
  devices: z
    .array(
      z.object({
        deviceId: z.string().regex(/^[^/#+\s]+$/, 'a device id must be one MQTT topic level'),
        secret: z.string().min(1),
        clinicId: z.string().min(1),
      }),
    )
    .min(1, 'lists no devices'),
});

export type DeviceCredential = z.infer<typeof CredentialsFileSchema>['devices'][number];

export class CredentialsError extends Error {
  override readonly name = 'CredentialsError';
}

/** Reads the `{ "devices": [ { deviceId, secret, clinicId } ] }` file the relay's seed writes. */
export async function loadCredentials(path: string): Promise<DeviceCredential[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : String(error);
    throw new CredentialsError(`credentials file ${path}: ${reason}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CredentialsError(`credentials file ${path}: not valid JSON`);
  }
  const parsed = CredentialsFileSchema.safeParse(json);
  if (!parsed.success) {
    throw new CredentialsError(`credentials file ${path}: ${z.prettifyError(parsed.error)}`);
  }
  const ids = new Set<string>();
  for (const device of parsed.data.devices) {
    // Two boxes with one client id would keep kicking each other off the broker.
    if (ids.has(device.deviceId)) {
      throw new CredentialsError(
        `credentials file ${path}: device ${device.deviceId} appears twice`,
      );
    }
    ids.add(device.deviceId);
  }
  return parsed.data.devices;
}
