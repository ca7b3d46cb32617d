import { parentPort } from 'node:worker_threads';
import { analyzeEcg, type EcgRecordingInput, type PatientContext } from '#ecg';

/** The worker-thread side of EcgAnalyzer: one analysis per message, in arrival order. */
const port = parentPort;
if (!port) throw new Error('ecg-analysis.worker must run as a worker thread');

type Request = { id: number; recording: EcgRecordingInput; patient?: PatientContext };

port.on('message', ({ id, recording, patient }: Request) => {
  try {
    port.postMessage({ id, analysis: analyzeEcg(recording, { patient }) });
  } catch (error) {
    port.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
});
