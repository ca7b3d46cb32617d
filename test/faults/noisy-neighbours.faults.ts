import { once } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { Transform } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { SimulatedBox } from '../../device-simulator/src/box.js';
import { buildRecording } from '../../device-simulator/src/recording-builder.js';
import { RawBox } from '../support/raw-box.js';
import { RelayProcess, type DemoDevice } from '../support/relay-process.js';
import { waitFor } from '../support/wait.js';
import {
  countFromEnv,
  LoadFleet,
  ONE_ADDRESS_FLEET_ENV,
  percentile,
  printFigure,
} from './fault-load.js';

const BOXES = countFromEnv('FAULT_BOXES', 50);
/** A rural GPRS link: about 32 kbit/s each way. */
const SLOW_BYTES_PER_SECOND = 4_000;

/** Passes bytes on no faster than `bytesPerSecond`. */
function throttle(bytesPerSecond: number): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      setTimeout(() => done(null, chunk), (chunk.byteLength / bytesPerSecond) * 1000);
    },
  });
}

/** A TCP proxy to the broker whose every connection is throttled both ways. */
async function slowLink(targetPort: number): Promise<{ server: Server; url: string }> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(throttle(SLOW_BYTES_PER_SECOND)).pipe(upstream);
    upstream.pipe(throttle(SLOW_BYTES_PER_SECOND)).pipe(client);
  });
  server.on('close', () => sockets.forEach((socket) => socket.destroy()));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { server, url: `mqtt://127.0.0.1:${address.port}` };
}

/**
 * Three bad neighbours on one relay, and the boxes around them: a frozen client (opens a
 * recording, sends a burst of chunks, and stops reading its socket, so the relay's acks
 * pile up for it), a box on a slow link (32 kbit/s each way through a throttling proxy,
 * recording like the others), and a box that floods (publishes the chunks of a long
 * recording again and again as fast as the broker takes them, 32 at a time in flight). The
 * other boxes' p99 close → complete acknowledgement is measured over the same number of
 * recordings without and then with the three, in the same test, and may grow only within a
 * generous bound (the machine is shared, so timing is noisy).
 */
describe(`a frozen client, a slow link and a flooding box among ${BOXES} boxes`, () => {
  let relay: RelayProcess | undefined;
  const stops: (() => Promise<unknown>)[] = [];

  afterAll(async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await relay?.dispose();
  });

  it('leaves the other boxes’ p99 stored-ack within bounds', async () => {
    const current = await RelayProcess.start(ONE_ADDRESS_FLEET_ENV);
    relay = current;
    const all = await current.demoDevices();
    const devices = all.slice(0, BOXES);
    const [frozenDevice, slowDevice, floodDevice] = all.slice(BOXES, BOXES + 3) as [
      DemoDevice,
      DemoDevice,
      DemoDevice,
    ];
    expect(floodDevice).toBeDefined();
    const load = new LoadFleet(() => current.mqttUrl, devices);
    stops.push(() => load.stop());
    await load.start();
    const sample = BOXES * 4;

    // Without the bad neighbours.
    await waitFor(() => load.completions.length >= BOXES, { what: 'warm-up' });
    const quietFrom = load.completions.length;
    await waitFor(() => load.completions.length >= quietFrom + sample, {
      timeoutMs: 300_000,
      what: 'recordings without the bad neighbours',
    });
    const quiet = load.completions.slice(quietFrom, quietFrom + sample).map((c) => c.latencyMs);

    // The frozen client: a burst, then it stops reading.
    const frozen = await RawBox.connect(current.mqttUrl, frozenDevice);
    stops.push(() => frozen.kill());
    const frozenRecording = buildRecording({ durationSeconds: 30 }).entry;
    await frozen.publish('rec/open', JSON.stringify(frozenRecording.open));
    (frozen.client.stream as Socket).pause();
    for (const frame of frozenRecording.frames) frozen.send('rec/chunk', frame!);

    // The slow link: a box recording like the others through a throttling proxy.
    const link = await slowLink(current.mqttPort);
    stops.push(() => new Promise((resolve) => link.server.close(resolve)));
    const slow = new SimulatedBox({
      brokerUrl: link.url,
      deviceId: slowDevice.deviceId,
      secret: slowDevice.secret,
      reconnect: { minMs: 500, maxMs: 5_000 },
    });
    slow.on('error', () => undefined);
    stops.push(() => slow.stop());
    await slow.start();
    let slowStored = 0;
    let badRunning = true;
    const slowLoop = (async () => {
      while (badRunning) {
        await slow.record({ durationSeconds: 2 }).then(
          () => (slowStored += 1),
          () => undefined,
        );
      }
    })();

    // The flooding box.
    const flooder = await RawBox.connect(current.mqttUrl, floodDevice);
    stops.push(() => flooder.kill());
    const floodRecording = buildRecording({ durationSeconds: 60 }).entry;
    await flooder.publish('rec/open', JSON.stringify(floodRecording.open));
    let flooded = 0;
    const floodLoop = Promise.all(
      Array.from({ length: 32 }, async (_, lane) => {
        for (let i = lane; badRunning; i += 32) {
          const frame = floodRecording.frames[i % floodRecording.frames.length]!;
          try {
            await flooder.publish('rec/chunk', frame);
            flooded += 1;
          } catch {
            return; // the relay may cut a flooding box off; that is its right
          }
        }
      }),
    );

    // With them.
    const noisyFrom = load.completions.length;
    await waitFor(() => load.completions.length >= noisyFrom + sample, {
      timeoutMs: 300_000,
      what: 'recordings with the bad neighbours',
    });
    const noisy = load.completions.slice(noisyFrom, noisyFrom + sample).map((c) => c.latencyMs);
    badRunning = false;
    await slow.stop();
    await slowLoop;
    await flooder.kill();
    await floodLoop;

    const p99Quiet = percentile(quiet, 99);
    const p99Noisy = percentile(noisy, 99);
    printFigure('noisy-neighbours', {
      boxes: BOXES,
      recordingsEach: sample,
      p50QuietMs: percentile(quiet, 50),
      p99QuietMs: p99Quiet,
      p50NoisyMs: percentile(noisy, 50),
      p99NoisyMs: p99Noisy,
      floodedChunks: flooded,
      slowLinkStored: slowStored,
      failedRecordings: load.failures.length,
    });
    expect(load.failures).toEqual([]);
    // Generous: three times the quiet p99, or it plus half a second, whichever is larger.
    expect(p99Noisy).toBeLessThanOrEqual(Math.max(3 * p99Quiet, p99Quiet + 500));
  });
});
