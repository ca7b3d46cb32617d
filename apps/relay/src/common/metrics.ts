/**
 * What the relay measures, by name: the one list from which the exposition at /metrics is
 * built (infra/metrics) and against which every call is typed, so a misspelt metric or label
 * does not compile. Names follow Prometheus's conventions (`_total` counters, base units:
 * seconds). Labels are bounded sets (codes, channels, queue names), never ids.
 * docs/operations.md, "Metrics", lists them for operators.
 */
export const METRIC_CATALOGUE = {
  telerelay_ingest_messages_received_total: {
    kind: 'counter',
    help: 'Messages boxes published to the relay, by channel (rec/open, rec/chunk, rec/close, status)',
    labels: ['channel'],
  },
  telerelay_ingest_chunks_stored_total: {
    kind: 'counter',
    help: 'ECG chunks stored (in Redis, durable) and so acknowledged',
    labels: [],
  },
  telerelay_ingest_recordings_opened_total: {
    kind: 'counter',
    help: 'Recordings opened (rec/open accepted)',
    labels: [],
  },
  telerelay_ingest_recordings_stored_total: {
    kind: 'counter',
    help: 'Recordings stored complete (blob fsynced, recording and case committed)',
    labels: [],
  },
  telerelay_stored_acks_sent_total: {
    kind: 'counter',
    help: 'Stored acknowledgements published to boxes (each covers every chunk stored so far)',
    labels: [],
  },
  telerelay_ingest_reply_seconds: {
    kind: 'histogram',
    help: 'From a box message reaching the relay to the reply handed to the broker (stored ack or error)',
    labels: ['channel'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  },
  telerelay_refusals_total: {
    kind: 'counter',
    help: 'Refusals by the edge that refused (mqtt, rest, dicom, socket) and their code',
    labels: ['edge', 'code'],
  },
  telerelay_queue_wait_seconds: {
    kind: 'histogram',
    help: 'From when a job was due to when a worker started it, by queue',
    labels: ['queue'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  },
  telerelay_queue_jobs: {
    kind: 'gauge',
    help: 'Jobs in each queue by state (waiting, active, delayed, failed), read at scrape time',
    labels: ['queue', 'state'],
  },
  telerelay_deadline_breaches_total: {
    kind: 'counter',
    help: "Cases whose reading deadline passed before a reader signed, by what happened ('moved', 'claimed', 'stranded')",
    labels: ['outcome'],
  },
  telerelay_delivery_lag_seconds: {
    kind: 'histogram',
    help: "From a diagnosis or return being owed (signed) to its receipt by the clinic's console or the box",
    labels: ['to', 'kind'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 86400],
  },
  telerelay_boxes_connected: {
    kind: 'gauge',
    help: 'Boxes connected to this instance over MQTT, read at scrape time',
    labels: [],
  },
  telerelay_sockets_connected: {
    kind: 'gauge',
    help: 'Console Socket.IO connections to this instance, read at scrape time',
    labels: [],
  },
} as const satisfies Record<string, MetricDefinition>;

export interface MetricDefinition {
  kind: 'counter' | 'gauge' | 'histogram';
  help: string;
  labels: readonly string[];
  buckets?: readonly number[];
}

type Catalogue = typeof METRIC_CATALOGUE;
type NamesOf<K extends MetricDefinition['kind']> = {
  [N in keyof Catalogue]: Catalogue[N]['kind'] extends K ? N : never;
}[keyof Catalogue];
export type CounterName = NamesOf<'counter'>;
export type HistogramName = NamesOf<'histogram'>;
export type GaugeName = NamesOf<'gauge'>;
/** The labels a metric takes, each required. */
export type LabelsOf<N extends keyof Catalogue> = Record<Catalogue[N]['labels'][number], string>;

/** One reading of a gauge at scrape time: a value, or one value per label set. */
export type GaugeReading<N extends GaugeName> = number | { labels: LabelsOf<N>; value: number }[];

/**
 * The relay's measurements as domain code records them, without knowing how they are
 * exposed (infra/metrics builds the Prometheus one). The abstract class is its own token.
 */
export abstract class Metrics {
  abstract count<N extends CounterName>(name: N, labels: LabelsOf<N>, by?: number): void;
  abstract observe<N extends HistogramName>(name: N, labels: LabelsOf<N>, seconds: number): void;
  /**
   * A gauge read when scraped (connected boxes, queue depths), so the figure is never stale
   * and costs nothing between scrapes. A second reader of the same gauge replaces the first.
   */
  abstract gauge<N extends GaugeName>(
    name: N,
    read: () => GaugeReading<N> | Promise<GaugeReading<N>>,
  ): void;
}
