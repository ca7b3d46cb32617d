import type { AnalysisFlag, CaseAnalysis, CasePriority } from '#contracts';

interface StoredAnalysis {
  algorithmVersion?: string;
  heartRateBpm?: number | null;
  priority?: CasePriority;
  flags?: AnalysisFlag[];
  quality?: { readable?: boolean; reasons?: string[] };
  measurements?: {
    prMs?: number | null;
    qrsMs?: number | null;
    qtMs?: number | null;
    qtcBazettMs?: number | null;
    qrsAxisDeg?: number | null;
  };
}

/** The reader's view of the analysis kept with a recording (libs/ecg's EcgAnalysis). */
export function toCaseAnalysis(stored: Record<string, unknown> | null): CaseAnalysis | null {
  const analysis = stored as StoredAnalysis | null;
  if (!analysis?.algorithmVersion) return null;
  const m = analysis.measurements ?? {};
  return {
    algorithmVersion: analysis.algorithmVersion,
    heartRateBpm: analysis.heartRateBpm ?? null,
    measurements: {
      heartRateBpm: analysis.heartRateBpm ?? null,
      prMs: m.prMs ?? null,
      qrsMs: m.qrsMs ?? null,
      qtMs: m.qtMs ?? null,
      // Bazett, the figure most readers compare against; Fridericia stays in the full record.
      qtcMs: m.qtcBazettMs ?? null,
      axisDegrees: m.qrsAxisDeg ?? null,
    },
    flags: analysis.flags ?? [],
    priority: analysis.priority ?? 'routine',
    readable: analysis.quality?.readable ?? true,
    qualityNotes: analysis.quality?.reasons ?? [],
  };
}
