/**
 * A minimal Chrome DevTools Protocol client for the Node brokers under test (started with
 * --inspect=127.0.0.1:0): before each idle-memory sample the benchmark forces a full
 * garbage collection, so RSS deltas count live memory rather than garbage V8 has not yet
 * collected. Used only while no load runs; the session is closed again at once.
 */

export interface NodeMemory {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

/** The ws:// URL Node prints ("Debugger listening on ws://…") in `text`, if any. */
export function inspectorUrlIn(text: string): string | null {
  return /Debugger listening on (ws:\/\/\S+)/.exec(text)?.[1] ?? null;
}

async function session<T>(
  url: string,
  use: (call: (method: string, params?: object) => Promise<unknown>) => Promise<T>,
): Promise<T> {
  const socket = new WebSocket(url);
  const pending = new Map<number, { done: (value: unknown) => void; fail: (e: Error) => void }>();
  let nextId = 1;
  socket.addEventListener('message', (event) => {
    const message = JSON.parse(String(event.data)) as {
      id?: number;
      result?: unknown;
      error?: { message: string };
    };
    const waiter = message.id === undefined ? undefined : pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id!);
    if (message.error) waiter.fail(new Error(message.error.message));
    else waiter.done(message.result);
  });
  await new Promise<void>((done, fail) => {
    socket.addEventListener('open', () => done(), { once: true });
    socket.addEventListener('error', () => fail(new Error(`cannot open ${url}`)), { once: true });
  });
  const call = (method: string, params: object = {}) =>
    new Promise<unknown>((done, fail) => {
      const id = nextId++;
      const timer = setTimeout(() => fail(new Error(`${method}: no answer`)), 60_000);
      pending.set(id, {
        done: (value) => {
          clearTimeout(timer);
          done(value);
        },
        fail: (error) => {
          clearTimeout(timer);
          fail(error);
        },
      });
      socket.send(JSON.stringify({ id, method, params }));
    });
  try {
    return await use(call);
  } finally {
    socket.close();
  }
}

/** Full GC in the inspected process, then its process.memoryUsage(). */
export async function collectGarbageAndMeasure(url: string): Promise<NodeMemory> {
  return session(url, async (call) => {
    await call('HeapProfiler.collectGarbage');
    // Twice: the first pass frees objects whose finalisers release more.
    await call('HeapProfiler.collectGarbage');
    const answer = (await call('Runtime.evaluate', {
      expression: 'JSON.stringify(process.memoryUsage())',
      returnByValue: true,
    })) as { result: { value: string } };
    return JSON.parse(answer.result.value) as NodeMemory;
  });
}
