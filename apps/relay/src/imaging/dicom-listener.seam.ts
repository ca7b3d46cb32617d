import type { DicomRefusal } from '#dicom';

/*
 * TEMPORARY, until wt-imaging's ImagingIntake (apps/relay/src/imaging/imaging-intake.ts)
 * is merged: the part of it the DICOM listener uses, with the names of the agreed seam
 * (the imaging contract of issue 12). Replaced by an import of the real one at the merge.
 */
export interface StoreSource {
  via: 'stow' | 'c-store';
  clinicId: string;
  actor: string;
  callingAe?: string;
}

export type StoreOutcome =
  | {
      outcome: 'stored' | 'already-stored';
      sopClassUid: string;
      sopInstanceUid: string;
      studyInstanceUid: string;
      retrieveUrl: string;
    }
  | { outcome: 'refused'; refusal: Omit<DicomRefusal, 'code'> & { code: string } }
  | { outcome: 'conflict'; reason: string; sopClassUid: string; sopInstanceUid: string };

export abstract class ImagingIntake {
  abstract scratchPath(): Promise<string>;
  abstract storeFile(tempFilePath: string, source: StoreSource): Promise<StoreOutcome>;
}
