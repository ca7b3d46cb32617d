import { inspectFile, type FileInspection, type InspectionTask } from './dicom-inspection.js';

/** The parser thread's side of PooledDicomInspector (piscina calls the default export). */
export default function inspect(task: InspectionTask): Promise<FileInspection> {
  return inspectFile(task);
}
