/** BullMQ queue names of the reading workflow (no ':' allowed in BullMQ names). */
export const reviewQueueOf = (hospitalId: string) => `review-${hospitalId}`;
/** One job per stored ECG: analysis sets the case's priority or returns it to the clinic. */
export const ECG_ANALYSIS_QUEUE = 'ecg-analysis';
/** Signed diagnoses and returned recordings on their way to the clinic and the box. */
export const CLINIC_DELIVERY_QUEUE = 'clinic-delivery';
/** One delayed job per claim, at its lease's end: a lapsed claim goes back to the queue. */
export const CLAIM_LEASE_QUEUE = 'claim-leases';
/**
 * Two delayed jobs per stay of a case at a county hospital: the 80 % warning and the
 * deadline itself. Ids carry the case, the hospital and the deadline, so a replayed outbox
 * row or a restart adds nothing twice.
 */
export const CASE_DEADLINE_QUEUE = 'case-deadlines';
