// The recording shape comes from libs/ecg and libs/contracts; re-exported here so libs/dicom
// names it once.
export type { EcgRecordingInput } from '#ecg';
export type { ExamKind as ExamKindLike } from '#contracts';
