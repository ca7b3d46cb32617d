import type { EcgTrace } from './decode.js';
import { t } from '../i18n/i18n.js';

/**
 * Standard ECG paper, in millimetres: 25 mm/s, 10 mm/mV, 1 mm minor and 5 mm major
 * squares. A 10 mm margin on the left holds the 1 mV calibration pulse; then three rows
 * of four 2.5 s columns (I II III / aVR aVL aVF / V1 V2 V3 / V4 V5 V6, the columns
 * continuing in time) and a 10 s lead II rhythm strip. 260 × 140 mm fits A4 landscape
 * at true scale.
 */
export const MM_PER_SECOND = 25;
export const MM_PER_MILLIVOLT = 10;
const LEFT_MM = 10;
const STRIP_SECONDS = 10;
const COLUMN_SECONDS = 2.5;
export const PAPER_WIDTH_MM = LEFT_MM + STRIP_SECONDS * MM_PER_SECOND;
export const PAPER_HEIGHT_MM = 140;
const FIRST_BASELINE_MM = 20;
const ROW_PITCH_MM = 35;
/** How far a trace may leave its baseline before it is clipped (it overlaps the next rows). */
const CLIP_MILLIVOLTS = 3;

export const GRID_LAYOUT: readonly (readonly string[])[] = [
  ['I', 'aVR', 'V1', 'V4'],
  ['II', 'aVL', 'V2', 'V5'],
  ['III', 'aVF', 'V3', 'V6'],
];
export const RHYTHM_LEAD = 'II';

export const PAPER_COLORS = {
  paper: '#fff8f8',
  minor: '#f5c4c4',
  major: '#e07a7a',
  trace: '#111418',
  label: '#111418',
};

/** Draws the paper and, once loaded, the recording, at `scale` device pixels per millimetre. */
export function drawEcg(
  ctx: CanvasRenderingContext2D,
  trace: EcgTrace | null,
  scale: number,
): void {
  const width = ctx.canvas.width;
  const height = ctx.canvas.height;
  ctx.save();
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.fillStyle = PAPER_COLORS.paper;
  ctx.fillRect(0, 0, width, height);
  drawGrid(ctx, scale, width, height, PAPER_WIDTH_MM, PAPER_HEIGHT_MM);
  if (!trace) {
    ctx.restore();
    return;
  }

  const traceWidth = Math.max(1.2, scale * 0.26);
  ctx.lineWidth = traceWidth;
  ctx.lineJoin = 'round';
  ctx.lineCap = 'round';
  ctx.strokeStyle = PAPER_COLORS.trace;

  const baselines = [0, 1, 2, 3].map((row) => FIRST_BASELINE_MM + row * ROW_PITCH_MM);
  for (const baseline of baselines) drawCalibration(ctx, scale, baseline);

  GRID_LAYOUT.forEach((row, rowIndex) => {
    const baseline = baselines[rowIndex]!;
    row.forEach((lead, column) => {
      const from = column * COLUMN_SECONDS;
      if (column > 0) drawSeparator(ctx, scale, LEFT_MM + from * MM_PER_SECOND, baseline);
      drawLead(ctx, scale, trace, lead, from, from + COLUMN_SECONDS, baseline);
    });
  });
  drawLead(ctx, scale, trace, RHYTHM_LEAD, 0, STRIP_SECONDS, baselines[3]!);

  GRID_LAYOUT.forEach((row, rowIndex) =>
    row.forEach((lead, column) =>
      drawLabel(
        ctx,
        scale,
        trace,
        lead,
        LEFT_MM + column * COLUMN_SECONDS * MM_PER_SECOND,
        baselines[rowIndex]!,
      ),
    ),
  );
  drawLabel(ctx, scale, trace, RHYTHM_LEAD, LEFT_MM, baselines[3]!);
  ctx.font = `${2.6 * scale}px system-ui, sans-serif`;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'alphabetic';
  ctx.fillStyle = PAPER_COLORS.label;
  ctx.fillText(
    `${MM_PER_SECOND} mm/s   ${MM_PER_MILLIVOLT} mm/mV   ${trace.sampleRateHz} Hz`,
    (PAPER_WIDTH_MM - 2) * scale,
    (PAPER_HEIGHT_MM - 2) * scale,
  );
  ctx.restore();
}

/** The 1 mm / 5 mm grid over `widthMm` × `heightMm` of paper (canvas pixels: width × height). */
export function drawGrid(
  ctx: CanvasRenderingContext2D,
  scale: number,
  width: number,
  height: number,
  widthMm: number,
  heightMm: number,
): void {
  const minor = Math.max(1, Math.round(scale * 0.07));
  const major = Math.max(minor + 1, Math.round(scale * 0.16));
  const lines = (every: number, thickness: number, color: string) => {
    ctx.fillStyle = color;
    const offset = Math.floor(thickness / 2);
    for (let mm = 0; mm <= widthMm; mm += every) {
      ctx.fillRect(Math.round(mm * scale) - offset, 0, thickness, height);
    }
    for (let mm = 0; mm <= heightMm; mm += every) {
      ctx.fillRect(0, Math.round(mm * scale) - offset, width, thickness);
    }
  };
  // Below ~2.5 device pixels a millimetre the minor lines would merge into a pink wash.
  if (scale >= 2.5) lines(1, minor, PAPER_COLORS.minor);
  lines(5, major, PAPER_COLORS.major);
}

/** The 1 mV, 0.2 s calibration pulse at the start of a row. */
function drawCalibration(ctx: CanvasRenderingContext2D, scale: number, baseline: number): void {
  const top = baseline - 1 * MM_PER_MILLIVOLT;
  const points: [number, number][] = [
    [2, baseline],
    [3, baseline],
    [3, top],
    [3 + 0.2 * MM_PER_SECOND, top],
    [3 + 0.2 * MM_PER_SECOND, baseline],
    [9, baseline],
  ];
  ctx.beginPath();
  points.forEach(([x, y], index) => {
    if (index === 0) ctx.moveTo(x * scale, y * scale);
    else ctx.lineTo(x * scale, y * scale);
  });
  ctx.stroke();
}

/** The short mark where one lead's column gives way to the next. */
function drawSeparator(
  ctx: CanvasRenderingContext2D,
  scale: number,
  x: number,
  baseline: number,
): void {
  ctx.beginPath();
  ctx.moveTo(x * scale, (baseline - 2.5) * scale);
  ctx.lineTo(x * scale, (baseline + 2.5) * scale);
  ctx.stroke();
}

function drawLead(
  ctx: CanvasRenderingContext2D,
  scale: number,
  trace: EcgTrace,
  lead: string,
  fromSeconds: number,
  toSeconds: number,
  baseline: number,
): void {
  const values = trace.millivolts.get(lead);
  if (!values) return;
  const rate = trace.sampleRateHz;
  const first = Math.round(fromSeconds * rate);
  const end = Math.min(values.length, Math.round(toSeconds * rate) + 1);
  if (end - first < 2) return;
  const xOf = (sample: number) => (LEFT_MM + (sample / rate) * MM_PER_SECOND) * scale;
  const yOf = (millivolts: number) => (baseline - millivolts * MM_PER_MILLIVOLT) * scale;
  ctx.save();
  // Each lead keeps to ±CLIP_MILLIVOLTS around its baseline, as a recorder's channel does:
  // a lead-off artefact must not scribble over the other leads.
  const band = CLIP_MILLIVOLTS * MM_PER_MILLIVOLT;
  ctx.beginPath();
  ctx.rect(
    xOf(first),
    (baseline - band) * scale,
    (toSeconds - fromSeconds) * MM_PER_SECOND * scale,
    2 * band * scale,
  );
  ctx.clip();
  ctx.beginPath();
  ctx.moveTo(xOf(first), yOf(values[first]!));
  for (let sample = first + 1; sample < end; sample++) {
    ctx.lineTo(xOf(sample), yOf(values[sample]!));
  }
  ctx.stroke();
  ctx.restore();
}

function drawLabel(
  ctx: CanvasRenderingContext2D,
  scale: number,
  trace: EcgTrace,
  lead: string,
  xMm: number,
  baseline: number,
): void {
  const recorded = trace.millivolts.has(lead);
  const text = recorded ? lead : t('ecg:notRecorded', { lead });
  ctx.font = `600 ${3.4 * scale}px system-ui, sans-serif`;
  ctx.textAlign = 'left';
  ctx.textBaseline = 'alphabetic';
  const x = (xMm + 1.2) * scale;
  const y = (baseline - 9) * scale;
  // A paper-coloured halo keeps the label readable where the trace runs through it.
  ctx.lineWidth = Math.max(2, scale * 0.6);
  ctx.strokeStyle = PAPER_COLORS.paper;
  ctx.strokeText(text, x, y);
  ctx.fillStyle = PAPER_COLORS.label;
  ctx.fillText(text, x, y);
  ctx.lineWidth = Math.max(1.2, scale * 0.26);
  ctx.strokeStyle = PAPER_COLORS.trace;
}
