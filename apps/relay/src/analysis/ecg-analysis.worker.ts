import { parentPort } from 'node:worker_threads';
import { analyzeEcg, type EcgRecordingInput } from '#ecg';

/** The worker-thread side of EcgAnalyzer: one analysis per message, in arrival order. */
const port = parentPort;
if (!port) throw new Error('ecg-analysis.worker must run as a worker thread');

port.on('message', ({ id, recording }: { id: number; recording: EcgRecordingInput }) => {
  try {
    port.postMessage({ id, analysis: analyzeEcg(recording) });
  } catch (error) {
    port.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
});
