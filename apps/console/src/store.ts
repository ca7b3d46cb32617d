import type { CasePriority, CaseSummary, Diagnosis } from '#contracts';

export type StoreChange =
  | { type: 'reset' }
  /** A case arrived or changed; `listed` says whether it is (still) on this list. */
  | { type: 'case'; summary: CaseSummary; added: boolean; listed: boolean }
  /** `live`: pushed by the relay just now, rather than loaded with the list. */
  | { type: 'diagnosis'; diagnosis: Diagnosis; live: boolean };

const PRIORITY_RANK: Record<CasePriority, number> = { stat: 0, urgent: 1, routine: 2 };

/** Reader: open cases, STAT → urgent → routine, then the earliest due (as the relay orders them). */
export function byUrgency(a: CaseSummary, b: CaseSummary): number {
  return PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority] || a.dueAt.localeCompare(b.dueAt);
}

/** Clinic: newest first. */
export function byNewest(a: CaseSummary, b: CaseSummary): number {
  return b.createdAt.localeCompare(a.createdAt);
}

/**
 * The cases the signed-in user sees, kept current from the initial load and the socket's
 * events. Views subscribe and re-render; the store outlives them while the user is signed in.
 */
export class CaseStore {
  private readonly cases = new Map<string, CaseSummary>();
  private readonly diagnoses = new Map<string, Diagnosis>();
  private readonly listeners = new Set<(change: StoreChange) => void>();
  private loading: StoreChange[] | null = null;
  loaded = false;

  constructor(
    private readonly order: (a: CaseSummary, b: CaseSummary) => number,
    /** Which cases belong on the list (a reader's list drops signed cases). */
    private readonly keeps: (summary: CaseSummary) => boolean,
  ) {}

  /** Events that arrive while a reload is in flight are applied again on top of its result. */
  beginLoad(): void {
    this.loading = [];
  }

  replaceAll(summaries: CaseSummary[]): void {
    const missed = this.loading ?? [];
    this.loading = null;
    this.cases.clear();
    for (const summary of summaries) if (this.keeps(summary)) this.cases.set(summary.id, summary);
    this.loaded = true;
    this.emit({ type: 'reset' });
    for (const change of missed) {
      if (change.type === 'case') this.upsert(change.summary);
      if (change.type === 'diagnosis') this.addDiagnosis(change.diagnosis, change.live);
    }
  }

  upsert(summary: CaseSummary): void {
    const added = !this.cases.has(summary.id);
    const listed = this.keeps(summary);
    if (listed) this.cases.set(summary.id, summary);
    else this.cases.delete(summary.id);
    this.emit({ type: 'case', summary, added: added && listed, listed });
  }

  addDiagnosis(diagnosis: Diagnosis, live = false): void {
    this.diagnoses.set(diagnosis.caseId, diagnosis);
    const summary = this.cases.get(diagnosis.caseId);
    if (summary && summary.status !== 'signed') {
      this.cases.set(summary.id, { ...summary, status: 'signed' });
    }
    this.emit({ type: 'diagnosis', diagnosis, live });
  }

  list(): CaseSummary[] {
    return [...this.cases.values()].sort(this.order);
  }

  get(id: string): CaseSummary | undefined {
    return this.cases.get(id);
  }

  diagnosis(caseId: string): Diagnosis | undefined {
    return this.diagnoses.get(caseId);
  }

  subscribe(listener: (change: StoreChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(change: StoreChange): void {
    this.loading?.push(change);
    for (const listener of this.listeners) listener(change);
  }
}
