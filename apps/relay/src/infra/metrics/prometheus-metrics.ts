import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import {
  METRIC_CATALOGUE,
  Metrics,
  type CounterName,
  type GaugeName,
  type GaugeReading,
  type HistogramName,
  type LabelsOf,
} from '../../common/metrics.js';
import type { Logger } from '../logging/logger.js';

type Reader = () => GaugeReading<GaugeName> | Promise<GaugeReading<GaugeName>>;

/**
 * The relay's `Metrics` on prom-client, in a registry of its own (never prom-client's global
 * one, so two relays in one test process do not share figures), with prom-client's default
 * process metrics (CPU, memory, event-loop lag, handles, GC) beside the catalogue.
 */
export class PrometheusMetrics extends Metrics {
  private readonly registry = new Registry();
  private readonly counters = new Map<string, Counter>();
  private readonly histograms = new Map<string, Histogram>();
  private readonly readers = new Map<string, Reader>();

  constructor(private readonly log: Logger) {
    super();
    collectDefaultMetrics({ register: this.registry });
    for (const [name, definition] of Object.entries(METRIC_CATALOGUE)) {
      const common = {
        name,
        help: definition.help,
        labelNames: [...definition.labels],
        registers: [this.registry],
      };
      switch (definition.kind) {
        case 'counter':
          this.counters.set(name, new Counter(common));
          break;
        case 'histogram':
          this.histograms.set(name, new Histogram({ ...common, buckets: [...definition.buckets] }));
          break;
        case 'gauge': {
          const readers = this.readers;
          const log = this.log;
          new Gauge({
            ...common,
            async collect() {
              const read = readers.get(name);
              if (!read) return;
              try {
                const reading = await read();
                this.reset();
                if (typeof reading === 'number') this.set(reading);
                else for (const { labels, value } of reading) this.set(labels, value);
              } catch (error) {
                // A part that cannot answer (Redis away) leaves its gauge empty, not the scrape.
                this.reset();
                log.warn({ metric: name, err: (error as Error).message }, 'gauge not read');
              }
            },
          });
          break;
        }
      }
    }
  }

  count<N extends CounterName>(name: N, labels: LabelsOf<N>, by = 1): void {
    this.counters.get(name)?.inc(labels, by);
  }

  observe<N extends HistogramName>(name: N, labels: LabelsOf<N>, seconds: number): void {
    this.histograms.get(name)?.observe(labels, Math.max(0, seconds));
  }

  gauge<N extends GaugeName>(
    name: N,
    read: () => GaugeReading<N> | Promise<GaugeReading<N>>,
  ): void {
    this.readers.set(name, read as Reader);
  }

  /** The text exposition format, and its content type. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
