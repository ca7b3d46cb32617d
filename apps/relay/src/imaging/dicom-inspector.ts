import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Piscina } from 'piscina';
import type { DicomRefusal } from '#dicom';
import { CONFIG, LOGGER } from '../common/tokens.js';
import type { RelayConfig } from '../config/config.js';
import type { Logger } from '../infra/logging/logger.js';
import { inspectFile, type FileInspection, type InspectionTask } from './dicom-inspection.js';

/** What the relay says of a file the parser could not finish (PS3.7 C.4.2 0xC000). */
const unreadable = (reason: string): DicomRefusal => ({
  code: 'UNREADABLE',
  reason,
  failureReason: 0xc000,
});

/** Inspects a received file; never throws for what the file contains. */
export abstract class DicomInspector {
  abstract inspect(path: string): Promise<FileInspection | { ok: false; refusal: DicomRefusal }>;
  /** The same for bytes received into memory; they are copied to the parser, not moved. */
  abstract inspectBytes(
    bytes: Uint8Array,
  ): Promise<FileInspection | { ok: false; refusal: DicomRefusal }>;
}

/**
 * Parses on a pool of worker threads (piscina), each parse bounded: a file that keeps the
 * parser busy past DICOM_PARSE_TIMEOUT_MS has its thread ended (the abort terminates it),
 * and a thread that overflows its stack or heap dies alone. Either way the file is refused
 * as unreadable and the relay goes on; piscina starts a fresh thread for the next file.
 */
@Injectable()
export class PooledDicomInspector extends DicomInspector implements OnModuleDestroy {
  private readonly pool: Piscina;

  constructor(
    @Inject(CONFIG) private readonly config: RelayConfig,
    @Inject(LOGGER) private readonly log: Logger,
  ) {
    super();
    this.pool = new Piscina({
      filename: new URL('./dicom-inspection.worker.js', import.meta.url).href,
      minThreads: 0,
      maxThreads: config.imaging.parseThreads,
      idleTimeout: 30_000,
      // A deep nesting the parser recurses into ends in RangeError on this small stack,
      // long before it could take the thread's memory with it.
      resourceLimits: { stackSizeMb: 4, maxOldGenerationSizeMb: 256 },
    });
  }

  inspect(path: string) {
    return this.run({ path, maxBytes: this.config.imaging.maxInstanceBytes });
  }

  inspectBytes(bytes: Uint8Array) {
    return this.run({ bytes, maxBytes: this.config.imaging.maxInstanceBytes });
  }

  private async run(task: InspectionTask) {
    try {
      return (await this.pool.run(task, {
        signal: AbortSignal.timeout(this.config.imaging.parseTimeoutMs),
      })) as FileInspection;
    } catch (error) {
      const timedOut = (error as Error).name === 'AbortError';
      this.log.warn(
        { err: (error as Error).message, timedOut },
        'dicom parse ended without an answer',
      );
      return {
        ok: false as const,
        refusal: unreadable(
          timedOut
            ? `the file took longer than ${this.config.imaging.parseTimeoutMs} ms to parse`
            : 'the parser could not finish this file (its structure exceeds what it can read)',
        ),
      };
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.pool.destroy();
  }
}

/**
 * The same inspection on the calling thread, unbounded: for medium tests, which run the
 * sources (the pool's worker file exists only in the build).
 */
export class InlineDicomInspector extends DicomInspector {
  inspect(path: string) {
    return this.run({ path, maxBytes: 512 * 1024 ** 2 });
  }

  inspectBytes(bytes: Uint8Array) {
    return this.run({ bytes, maxBytes: 512 * 1024 ** 2 });
  }

  private async run(task: InspectionTask) {
    try {
      return await inspectFile(task);
    } catch (error) {
      return { ok: false as const, refusal: unreadable((error as Error).message) };
    }
  }
}
