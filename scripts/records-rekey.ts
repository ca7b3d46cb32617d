import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { AuditRepository } from '../apps/relay/src/audit/audit.repository.js';
import { AuditService } from '../apps/relay/src/audit/audit.service.js';
import { SystemClock } from '../apps/relay/src/common/clock.js';
import { Database } from '../apps/relay/src/infra/database/database.js';
import { createLogger } from '../apps/relay/src/infra/logging/logger.js';
import { PatientIdentity } from '../apps/relay/src/records/patient-identity.js';
import { rekeyPatients } from '../apps/relay/src/records/patient-rekey.js';
import { PatientsRepository } from '../apps/relay/src/records/patients.repository.js';
import { commandConfig, databaseFreeForCommand } from './running-relay.js';

/**
 * `npm run records:rekey [-- --batch-size 500]`: after a new key was put first in
 * PATIENT_ID_KEYS, seals every stored patient identifier and mobile number again under it
 * (docs/patients.md, "Keys and rotation"), in the database the relay uses. Safe to run
 * again at any time; an interrupted run is finished by the next. Exit 0: every value is
 * under the newest key (the older keys may be removed). Exit 1: some values could not be
 * opened (listed by patient id). Exit 2: it could not run.
 */
async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { 'batch-size': { type: 'string', default: '500' } },
  });
  const batchSize = Number(values['batch-size']);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
    console.error('--batch-size takes a whole number from 1 to 10000');
    return 2;
  }
  const config = commandConfig();
  if (!config) return 2;
  const [newest, ...older] = config.patientIdentity.sealKeys;
  if (config.patientIdentity.demo) {
    console.error(
      'PATIENT_ID_KEYS is not set: the demo keys are in use, there is nothing to rotate',
    );
    return 2;
  }
  if (!(await databaseFreeForCommand(config))) return 2;
  const database = await Database.open({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
  });
  const controller = new AbortController();
  // Ctrl-C ends the run between batches; every row is then old or new, never half.
  process.once('SIGINT', () => controller.abort());
  process.once('SIGTERM', () => controller.abort());
  try {
    const report = await rekeyPatients(
      new PatientsRepository(database),
      new PatientIdentity(config.patientIdentity),
      {
        batchSize,
        signal: controller.signal,
        onBatch: (sofar) =>
          console.log(`… ${sofar.examined} examined, ${sofar.resealed} re-sealed`),
      },
    );
    // The rotation is written in the audit trail (counts and key ids, nothing of a patient).
    const log = createLogger('warn');
    const audit = new AuditService(new AuditRepository(database), new SystemClock(), log);
    await audit.record({
      actor: 'operator:records:rekey',
      action: 'records.rekey',
      outcome: report.failed.length === 0 && !controller.signal.aborted ? 'allowed' : 'failed',
      detail: {
        newestKey: newest!.id,
        olderKeys: older.map((key) => key.id),
        examined: report.examined,
        resealed: report.resealed,
        alreadyCurrent: report.alreadyCurrent,
        skippedChanged: report.skippedChanged,
        failed: report.failed.length,
        interrupted: controller.signal.aborted,
      },
    });
    await audit.drained();
    const where = config.databaseUrl ? 'DATABASE_URL' : `PGlite in ${config.dataDir}`;
    console.log(
      `patients: ${report.examined} examined, ${report.resealed} re-sealed under key ` +
        `"${newest!.id}", ${report.alreadyCurrent} already under it, ` +
        `${report.skippedChanged} changed meanwhile, ${report.failed.length} could not be opened (${where})`,
    );
    for (const failure of report.failed) {
      console.log(`  patient ${failure.patientId}: ${failure.reason}`);
    }
    if (controller.signal.aborted) {
      console.log('interrupted: run it again to finish');
      return 1;
    }
    if (report.failed.length > 0 || report.skippedChanged > 0) {
      console.log('not every value is under the newest key yet: keep the older keys');
      return 1;
    }
    console.log(
      older.length === 0
        ? 'every value is under the only key'
        : `every value is under "${newest!.id}": ${older.map((k) => `"${k.id}"`).join(', ')} may now be removed from PATIENT_ID_KEYS`,
    );
    return 0;
  } finally {
    await database.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(
      `records:rekey failed: ${error instanceof Error ? error.message : String(error)}`,
    );
    process.exit(2);
  },
);
