import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { toStorableText } from '#contracts';

/**
 * The audit trail's hash chain (docs/audit.md, "What is hashed"): pure functions shared by
 * the writer (AuditRepository) and the verifier (`npm run audit:verify`), so both hash a row
 * the same way.
 */

/** `prev_hash` of the first row, and the head of an empty chain. */
export const GENESIS_HASH = '0'.repeat(64);

/** A row's content as it is hashed: everything the relay writes, except the database's id. */
export interface ChainContent {
  at: Date;
  actor: string;
  action: string;
  outcome: 'allowed' | 'denied' | 'failed';
  subject?: string | null;
  remoteAddress?: string | null;
  patientKey?: string | null;
  detail?: Record<string, unknown> | null;
}

export interface ChainLink {
  seq: number;
  prevHash: string;
  rowHash: string;
}

/**
 * Makes a row read back exactly as written, so its hash can be checked later: PostgreSQL
 * stores no NUL and no lone surrogate (node-postgres turns one into U+FFFD in a text column,
 * and jsonb refuses it) and jsonb keeps only what JSON can say (no undefined, no NaN, a Date
 * as its ISO text). A hostile subject or detail is then stored, not lost with its batch.
 */
export function storable<T extends ChainContent>(row: T): T {
  const out = { ...row };
  for (const key of ['actor', 'action', 'subject', 'remoteAddress', 'patientKey'] as const) {
    const value = out[key];
    if (typeof value === 'string') (out as Record<string, unknown>)[key] = toStorableText(value);
  }
  if (out.detail !== undefined && out.detail !== null) {
    out.detail = JSON.parse(JSON.stringify(out.detail), (_key, value: unknown) =>
      typeof value === 'string' ? toStorableText(value) : value,
    ) as Record<string, unknown>;
  }
  return out;
}

/**
 * SHA-256 (hex) over the RFC 8785 canonical JSON of the row's content with its seq and the
 * previous row's hash. Absent and null fields are both written as null, as they read back.
 */
export function rowHash(content: ChainContent, seq: number, prevHash: string): string {
  const canonical = canonicalize({
    seq,
    prevHash,
    at: content.at.toISOString(),
    actor: content.actor,
    action: content.action,
    outcome: content.outcome,
    subject: content.subject ?? null,
    remoteAddress: content.remoteAddress ?? null,
    patientKey: content.patientKey ?? null,
    detail: content.detail ?? null,
  });
  return createHash('sha256').update(canonical!, 'utf8').digest('hex');
}

/** Links rows onto a chain whose last row had `head`; returns them with the new head. */
export function chain<T extends ChainContent>(
  rows: readonly T[],
  head: { seq: number; hash: string },
): { rows: (T & ChainLink)[]; head: { seq: number; hash: string } } {
  let { seq, hash } = head;
  const linked = rows.map((row) => {
    seq += 1;
    const link = { seq, prevHash: hash, rowHash: rowHash(row, seq, hash) };
    hash = link.rowHash;
    return { ...row, ...link };
  });
  return { rows: linked, head: { seq, hash } };
}

/** A stored row as the verifier reads it. */
export interface StoredRow extends ChainContent {
  id: number;
  seq: number | null;
  prevHash: string | null;
  rowHash: string | null;
}

/** The head row as stored. */
export interface StoredHead {
  seq: number;
  hash: string;
  prunedThroughSeq: number;
  prunedThroughHash: string;
  legacyThroughId: number | null;
}

/** A chain head written outside the database (docs/audit.md, "Anchors"). */
export interface Anchor {
  seq: number;
  hash: string;
  at: string;
}

export type ChainProblem =
  | 'edited'
  | 'missing'
  | 'reordered'
  | 'relinked'
  | 'unchained'
  | 'truncated'
  | 'head'
  | 'pruning'
  | 'anchor'
  | 'not-yet-chained';

export interface ChainVerdict {
  ok: boolean;
  /** Chained rows read and checked. */
  rowsChecked: number;
  /** The seq range walked. */
  firstSeq: number | null;
  lastSeq: number | null;
  anchorsChecked: number;
  /** The first problem found, in chain order; the walk stops there. */
  problem?: {
    kind: ChainProblem;
    /** The row it is about, when there is one. */
    id?: number;
    seq?: number;
    message: string;
  };
}

/** How the verifier reads what it checks; the rows come in seq order, chained ones only. */
export interface ChainSource {
  head(): Promise<StoredHead | null>;
  chainedRows(): AsyncIterable<StoredRow>;
  /** The lowest id among rows without a seq, and how many there are. */
  unchained(): Promise<{ id: number; count: number } | null>;
  /** The row whose row_hash this is, to tell a reordering from an edit. */
  rowWithHash(hash: string): Promise<{ id: number; seq: number | null } | null>;
}

export const AUDIT_PRUNED_ACTION = 'audit.pruned';

/**
 * Walks the chain from where retention last cut it (or seq 1) to its head and stops at the
 * first row that is not what was written: a row whose content no longer matches its hash
 * (edited), a seq that is missing (deleted), a row linked after another than its
 * predecessor (reordered, or edited and re-hashed), a row outside the chain, a head that
 * does not match the last row (tail deleted), an anchor that the chain no longer contains.
 */
export async function verifyChain(
  source: ChainSource,
  anchors: readonly Anchor[] = [],
): Promise<ChainVerdict> {
  const verdict: ChainVerdict = {
    ok: false,
    rowsChecked: 0,
    firstSeq: null,
    lastSeq: null,
    anchorsChecked: 0,
  };
  const fail = (problem: NonNullable<ChainVerdict['problem']>) => ({ ...verdict, problem });
  const head = await source.head();
  if (!head) {
    return fail({ kind: 'head', message: 'the chain head (audit_chain_head) is missing' });
  }
  if (head.legacyThroughId !== null) {
    return fail({
      kind: 'not-yet-chained',
      message: `rows up to id ${head.legacyThroughId} from before the chain are not chained yet: start the relay once, then verify`,
    });
  }
  const anchorsBySeq = new Map<number, Anchor[]>();
  for (const anchor of anchors) {
    if (anchor.seq <= head.prunedThroughSeq) continue;
    anchorsBySeq.set(anchor.seq, [...(anchorsBySeq.get(anchor.seq) ?? []), anchor]);
  }

  let expectedSeq = head.prunedThroughSeq + 1;
  let previous: { id: number; seq: number; hash: string } | undefined;
  let lastPruned: { throughSeq: unknown; throughHash: unknown } | undefined;
  const name = (row: { id: number; seq: number | null }) => `id ${row.id} (seq ${row.seq})`;

  for await (const row of source.chainedRows()) {
    const seq = row.seq!;
    const expectedPrev = previous?.hash ?? head.prunedThroughHash;
    if (seq !== expectedSeq) {
      if (seq < expectedSeq) {
        return fail({
          kind: previous ? 'reordered' : 'pruning',
          id: row.id,
          seq,
          message: previous
            ? `row ${name(row)} repeats a seq already used by ${name(previous)}`
            : `row ${name(row)} is before the point retention cut the chain at (seq ${head.prunedThroughSeq})`,
        });
      }
      const gap = seqs(expectedSeq, seq - 1);
      return fail({
        kind: 'missing',
        id: row.id,
        seq: expectedSeq,
        message: previous
          ? `${gap} missing (deleted): the chain jumps from ${name(previous)} to ${name(row)}`
          : `${gap} missing (deleted): the chain starts at ${name(row)}, but retention cut it at seq ${head.prunedThroughSeq}`,
      });
    }
    if (row.prevHash !== expectedPrev) {
      const linkedTo = row.prevHash === null ? null : await source.rowWithHash(row.prevHash);
      if (linkedTo && linkedTo.id !== row.id) {
        return fail({
          kind: 'reordered',
          id: row.id,
          seq,
          message: `row ${name(row)} was written after ${name(linkedTo)}, not after ${previous ? name(previous) : 'the chain start'} (reordered)`,
        });
      }
      return fail({
        kind: 'relinked',
        id: row.id,
        seq,
        message: previous
          ? `row ${name(row)} does not follow ${name(previous)}: its prev_hash is not that row's hash (one of the two was edited and re-hashed)`
          : `row ${name(row)} does not follow the point retention cut the chain at`,
      });
    }
    if (previous && row.id < previous.id) {
      return fail({
        kind: 'reordered',
        id: row.id,
        seq,
        message: `row ${name(row)} has a lower id than ${name(previous)} before it (reordered)`,
      });
    }
    if (row.rowHash !== rowHash(row, seq, expectedPrev)) {
      return fail({
        kind: 'edited',
        id: row.id,
        seq,
        message: `row ${name(row)} was edited: its content no longer matches its row_hash`,
      });
    }
    for (const anchor of anchorsBySeq.get(seq) ?? []) {
      if (anchor.hash !== row.rowHash) {
        return fail({
          kind: 'anchor',
          id: row.id,
          seq,
          message: `row ${name(row)} is not the row anchored at ${anchor.at} (the chain was rewritten up to it)`,
        });
      }
      verdict.anchorsChecked += 1;
    }
    if (row.action === AUDIT_PRUNED_ACTION && row.detail) {
      lastPruned = { throughSeq: row.detail['throughSeq'], throughHash: row.detail['throughHash'] };
    }
    verdict.rowsChecked += 1;
    verdict.firstSeq ??= seq;
    verdict.lastSeq = seq;
    previous = { id: row.id, seq, hash: row.rowHash };
    expectedSeq = seq + 1;
  }

  const lastSeq = previous?.seq ?? head.prunedThroughSeq;
  const lastHash = previous?.hash ?? head.prunedThroughHash;
  if (head.seq > lastSeq) {
    return fail({
      kind: 'truncated',
      seq: lastSeq + 1,
      message: `${seqs(lastSeq + 1, head.seq)} missing (deleted): the chain head is at seq ${head.seq} but the last row is ${previous ? name(previous) : 'none'}`,
    });
  }
  if (head.seq < lastSeq || head.hash !== lastHash) {
    return fail({
      kind: 'head',
      id: previous?.id,
      seq: lastSeq,
      message: `the chain head (seq ${head.seq}) does not match the last row ${previous ? name(previous) : ''}: rows were written around the chain lock, or the head was edited`,
    });
  }
  const newestAnchor = anchors.reduce<Anchor | undefined>(
    (newest, anchor) => (newest && newest.seq >= anchor.seq ? newest : anchor),
    undefined,
  );
  if (newestAnchor && newestAnchor.seq > lastSeq) {
    return fail({
      kind: 'truncated',
      seq: lastSeq + 1,
      message: `${seqs(lastSeq + 1, newestAnchor.seq)} missing (deleted): the anchor written at ${newestAnchor.at} names seq ${newestAnchor.seq}, but the chain ends at seq ${lastSeq}`,
    });
  }
  if (
    head.prunedThroughSeq > 0 &&
    (lastPruned?.throughSeq !== head.prunedThroughSeq ||
      lastPruned.throughHash !== head.prunedThroughHash)
  ) {
    return fail({
      kind: 'pruning',
      seq: head.prunedThroughSeq,
      message: `the chain starts after seq ${head.prunedThroughSeq}, but no ${AUDIT_PRUNED_ACTION} row in it says retention cut it there`,
    });
  }
  const unchained = await source.unchained();
  if (unchained) {
    return fail({
      kind: 'unchained',
      id: unchained.id,
      message: `row id ${unchained.id} (and ${unchained.count - 1} more) is not in the chain: written around it`,
    });
  }
  return { ...verdict, ok: true };
}

/** `seq 7`, or `seq 7–9`. */
function seqs(first: number, last: number): string {
  return first === last ? `seq ${first}` : `seq ${first}–${last}`;
}
