import { Injectable } from '@nestjs/common';
import type { CaseMoved, CaseSummary } from '#contracts';
import { Clock } from '../common/clock.js';
import { Notifier } from '../realtime/notifier.js';
import { CasesRepository } from './cases.repository.js';

/**
 * The socket pushes of the reading workflow, after a change has committed: the hospital's
 * readers and the clinic see the case as it now stands.
 */
@Injectable()
export class WorklistAnnouncer {
  constructor(
    private readonly cases: CasesRepository,
    private readonly notifier: Notifier,
    private readonly clock: Clock,
  ) {}

  /** The case changed where it is: its hospital and its clinic get the new summary. */
  async announce(caseId: string): Promise<CaseSummary> {
    const summary = await this.cases.summary(caseId);
    if (!summary) throw new Error(`case ${caseId} vanished`);
    this.notifier.toHospital(summary.hospitalId, 'worklist.case-updated', summary);
    this.notifier.toClinic(summary.clinicId, 'worklist.case-updated', summary);
    return summary;
  }

  /** Tells the clinic its new case exists (it is being analysed, not yet with a reader). */
  async caseOpened(caseId: string): Promise<void> {
    const summary = await this.cases.summary(caseId);
    if (summary) this.notifier.toClinic(summary.clinicId, 'worklist.case-added', summary);
  }

  /**
   * Called by the review desk when hospital `hospitalId`'s queue hands it a case; a job
   * left in the queue of a hospital the case has since left changes nothing.
   */
  async listCase(caseId: string, hospitalId: string): Promise<void> {
    const state = await this.cases.stateOf(caseId);
    if (state?.hospitalId !== hospitalId) return;
    await this.cases.markListed(caseId, this.clock.now());
    const summary = await this.cases.summary(caseId);
    if (!summary) return;
    this.notifier.toHospital(summary.hospitalId, 'worklist.case-added', summary);
    this.notifier.toClinic(summary.clinicId, 'worklist.case-updated', summary);
  }

  /** After a move commits: the old hospital's worklists drop it, the clinic sees where it is. */
  async moved(
    caseId: string,
    fromHospitalId: string,
    kind: CaseMoved['kind'],
    byDeadline: boolean,
  ): Promise<CaseSummary> {
    const summary = await this.cases.summary(caseId);
    if (!summary) throw new Error(`case ${caseId} vanished`);
    this.notifier.toHospital(fromHospitalId, 'worklist.case-moved', {
      summary,
      fromHospitalId,
      kind,
      byDeadline,
    });
    this.notifier.toClinic(summary.clinicId, 'worklist.case-updated', summary);
    return summary;
  }
}
