import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Resolves once `condition` holds, checking it every `intervalMs`; rejects, naming `what`,
 * when it still does not after `timeoutMs`. For a state that is polled (a REST answer, a
 * list filled by event listeners), never as a pause: an end-to-end test waits for what it
 * expects, not for a time it guessed (docs/development.md, "Barriers, not sleeps").
 */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  { timeoutMs = 30_000, intervalMs = 100, what = 'condition' } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await sleep(intervalMs);
  }
}
