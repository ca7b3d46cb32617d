import { type PatientIdentity, SealedIdentifierError } from './patient-identity.js';
import type { PatientsRepository, SealedValues } from './patients.repository.js';

/** What one run of the re-keying did (docs/patients.md, "Keys and rotation"). */
export interface RekeyReport {
  /** Patient rows looked at. */
  examined: number;
  /** Rows whose identifier or mobile number was sealed again under the newest key. */
  resealed: number;
  /** Rows already entirely under the newest key: nothing to do. */
  alreadyCurrent: number;
  /** Rows changed by someone else between read and write: left for the next run. */
  skippedChanged: number;
  /** Rows that could not be opened with any configured key, by patient id (never the number). */
  failed: { patientId: string; reason: string }[];
}

export interface RekeyOptions {
  batchSize: number;
  /** Checked between batches: an interrupted run leaves every row either old or new. */
  signal?: AbortSignal;
  /** After each batch, with the running totals (progress for the operator). */
  onBatch?: (report: RekeyReport) => void;
}

/**
 * Seals every stored patient identifier and mobile number again under the newest key of
 * PATIENT_ID_KEYS, so the older keys can then be removed. Idempotent (a value already under
 * the newest key is left alone) and resumable (rows are walked in id order, one batch at a
 * time, each row replaced in one statement only if it is still the value read): run it
 * again after an interruption or a failure and it finishes the rest. Lookup keys (the HMAC)
 * do not change, so nothing that names a patient by key is touched.
 */
export async function rekeyPatients(
  patients: PatientsRepository,
  identity: PatientIdentity,
  options: RekeyOptions,
): Promise<RekeyReport> {
  const report: RekeyReport = {
    examined: 0,
    resealed: 0,
    alreadyCurrent: 0,
    skippedChanged: 0,
    failed: [],
  };
  let after: string | null = null;
  for (;;) {
    if (options.signal?.aborted) break;
    const batch = await patients.sealedBatch(after, options.batchSize);
    if (batch.length === 0) break;
    for (const row of batch) {
      report.examined += 1;
      await rekeyRow(patients, identity, row, report);
    }
    after = batch.at(-1)!.id;
    options.onBatch?.(report);
  }
  return report;
}

async function rekeyRow(
  patients: PatientsRepository,
  identity: PatientIdentity,
  row: SealedValues,
  report: RekeyReport,
): Promise<void> {
  const stale = (sealed: string | null) => sealed !== null && identity.needsReseal(sealed);
  if (!stale(row.identifierSealed) && !stale(row.mobileSealed)) {
    report.alreadyCurrent += 1;
    return;
  }
  let resealed: Omit<SealedValues, 'id'>;
  try {
    resealed = {
      identifierSealed: stale(row.identifierSealed)
        ? identity.seal(identity.open(row.identifierSealed))
        : row.identifierSealed,
      mobileSealed:
        row.mobileSealed !== null && stale(row.mobileSealed)
          ? identity.seal(identity.open(row.mobileSealed))
          : row.mobileSealed,
    };
  } catch (error) {
    if (!(error instanceof SealedIdentifierError)) throw error;
    report.failed.push({ patientId: row.id, reason: error.message });
    return;
  }
  if (await patients.replaceSealed(row, resealed)) report.resealed += 1;
  else report.skippedChanged += 1;
}
