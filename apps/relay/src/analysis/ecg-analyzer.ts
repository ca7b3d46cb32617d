import { Worker } from 'node:worker_threads';
import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { EcgAnalysis, EcgRecordingInput, PatientContext } from '#ecg';

interface Pending {
  resolve: (analysis: EcgAnalysis) => void;
  reject: (error: Error) => void;
}

type WorkerReply = { id: number; analysis: EcgAnalysis } | { id: number; error: string };

/**
 * Runs the ECG analysis on a worker thread. It costs about 25 ms of CPU per 12-lead
 * recording; on the main thread that would hold up every box's stored acks behind it.
 * The thread starts with the first recording and is started again if it dies.
 */
@Injectable()
export class EcgAnalyzer implements OnModuleDestroy {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();

  /** `patient`: sex and age only (sex-specific ST, age-appropriate rate limits). */
  analyze(recording: EcgRecordingInput, patient?: PatientContext): Promise<EcgAnalysis> {
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, recording, patient });
    });
  }

  async onModuleDestroy(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private start(): Worker {
    const worker = new Worker(new URL('./ecg-analysis.worker.js', import.meta.url), {
      // V8 let the thread's young generation grow to its default, which one analysis never
      // needs: capped, the running thread holds about 30 MB less (67 instead of 94 MB over
      // three runs of 60 analyses, no slower). Large arrays go to the old generation anyway.
      resourceLimits: { maxYoungGenerationSizeMb: 8 },
    });
    worker.on('message', (reply: WorkerReply) => {
      const waiting = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if ('error' in reply) waiting?.reject(new Error(reply.error));
      else waiting?.resolve(reply.analysis);
    });
    const failAll = (error: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
    };
    worker.on('error', failAll);
    worker.on('exit', (code) => failAll(new Error(`ecg analysis worker exited with ${code}`)));
    this.worker = worker;
    return worker;
  }
}
