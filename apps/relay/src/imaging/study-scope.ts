import type { SessionUser } from '#contracts';
import { caseScope, type CaseScope } from '../worklist/case-scope.js';

/**
 * Which studies a user may reach, as a domain value: the case rule (worklist/case-scope.ts)
 * applied to the study's case, except that the region-wide roles see no images at all. Admin
 * and health authority supervise cases, not pictures of patients (least privilege,
 * docs/imaging.md). `null` means no study.
 */
export type StudyScope = Exclude<CaseScope, { kind: 'region' }>;

export function studyScope(user: SessionUser): StudyScope | null {
  const scope = caseScope(user);
  return scope.kind === 'region' ? null : scope;
}
