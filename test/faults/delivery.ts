import type { CaseSummary } from '#contracts';
import { ConsoleClient } from '../support/clients.js';
import type { RelayProcess } from '../support/relay-process.js';
import { waitFor } from '../support/wait.js';

/** The demo region's county readers; every clinic's ECGs go to one of them. */
const READERS = ['county1.reader', 'county2.reader'];

/** `clinic-3` → `clinic3.staff`, the demo seed's staff user of that clinic. */
export function staffOf(clinicId: string): string {
  return `${clinicId.replace('-', '')}.staff`;
}

/** Waits until every case is on exactly one county reader's worklist; returns who reads each. */
export async function listedFor(
  relay: RelayProcess,
  caseIds: readonly string[],
): Promise<{ readerOf: Map<string, ConsoleClient>; listedTwice: number }> {
  const readers = await Promise.all(
    READERS.map((name) => ConsoleClient.login(relay.httpUrl, name)),
  );
  const readerOf = new Map<string, ConsoleClient>();
  let listedTwice = 0;
  await waitFor(
    async () => {
      readerOf.clear();
      listedTwice = 0;
      for (const reader of readers) {
        const worklist = await reader.get<CaseSummary[]>('/api/worklist');
        if (worklist.status !== 200) return false;
        const ids = worklist.body.map((item) => item.id);
        for (const id of caseIds) {
          const times = ids.filter((listed) => listed === id).length;
          if (times === 0) continue;
          if (times > 1 || readerOf.has(id)) listedTwice += 1;
          readerOf.set(id, reader);
        }
      }
      return caseIds.every((id) => readerOf.has(id));
    },
    { timeoutMs: 60_000, what: 'every case on a county worklist' },
  );
  return { readerOf, listedTwice };
}

/** Claims and signs the case as its reader; the conclusion names the case, so it can be told apart. */
export async function sign(reader: ConsoleClient, caseId: string): Promise<void> {
  const claimed = await reader.post(`/api/cases/${caseId}/claim`);
  if (claimed.status !== 200) throw new Error(`claim of ${caseId}: ${claimed.status}`);
  const signed = await reader.post(`/api/cases/${caseId}/sign`, {
    conclusion: `Sinus rhythm (${caseId.slice(0, 8)}).`,
  });
  if (signed.status !== 200) throw new Error(`sign of ${caseId}: ${signed.status}`);
}

/** The relay's delivery job has written and pushed the case's clinic event. */
export function deliveredToClinic(relay: RelayProcess, caseId: string): Promise<string> {
  return relay.waitForLog(
    (line) => line.includes('"delivered to the clinic"') && line.includes(caseId),
    0,
    60_000,
  );
}
