import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RelayProcess } from './relay-process.js';

/**
 * A crash of the relay: SIGKILL, no shutdown hooks. With `redisToo`, its private
 * redis-server is killed the same way at the same moment (the machine lost power), so
 * only what Redis had fsynced to its append-only file survives.
 */
export async function crashRelay(relay: RelayProcess, redisToo = false): Promise<void> {
  let redisPid: number | undefined;
  if (redisToo) {
    redisPid = Number((await readFile(join(relay.dataDir, 'redis', 'redis.pid'), 'utf8')).trim());
    if (!Number.isInteger(redisPid) || redisPid <= 1) throw new Error('no redis-server pid');
  }
  const killed = relay.kill();
  if (redisPid !== undefined) process.kill(redisPid, 'SIGKILL');
  await killed;
}

/** Starts the relay again on its data directory and on the ports it had, as systemd would. */
export async function relaunchOnSamePorts(relay: RelayProcess): Promise<void> {
  const { httpPort, mqttPort } = relay;
  await relay.launch({ PORT: String(httpPort), MQTT_PORT: String(mqttPort) });
  if (relay.httpPort !== httpPort || relay.mqttPort !== mqttPort) {
    throw new Error(
      `relay came back on ${relay.httpPort}/${relay.mqttPort}, expected ${httpPort}/${mqttPort}`,
    );
  }
}

/** The sample file the relay wrote for a recording: DATA_DIR/blobs/aa/bb/<sha256>. */
export async function readBlob(dataDir: string, sha256: string): Promise<Buffer> {
  return readFile(join(dataDir, 'blobs', sha256.slice(0, 2), sha256.slice(2, 4), sha256));
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Relay log lines (pino JSON) whose message is `msg`, parsed. */
export function logEntries(relay: RelayProcess, msg: string): Record<string, unknown>[] {
  const entries: Record<string, unknown>[] = [];
  for (const chunk of relay.logs) {
    for (const line of chunk.split('\n')) {
      if (!line.includes(msg)) continue;
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        if (entry['msg'] === msg) entries.push(entry);
      } catch {
        // stderr noise or a partial line
      }
    }
  }
  return entries;
}
