import type { LiveSamples, LiveStreamInfo } from '#contracts';
import { h } from '../dom.js';
import { t } from '../i18n/i18n.js';
import { MM_PER_MILLIVOLT, MM_PER_SECOND, PAPER_COLORS, drawGrid } from './paper.js';
import { SweepBuffer } from './sweep.js';

const SWEEP_SECONDS = 10;
const WIDTH_MM = SWEEP_SECONDS * MM_PER_SECOND;
/** Each lead gets a 30 mm row: ±1.5 mV around its baseline before the trace is clipped. */
const ROW_MM = 30;
/** The blank ahead of the beam, where the oldest trace has been wiped. */
const ERASE_SECONDS = 0.25;

/**
 * A live stream on ECG paper as a sweep display: at 25 mm/s and 10 mm/mV the beam writes
 * left to right and wraps, wiping the oldest trace just ahead of it. Redrawn at most once
 * an animation frame, and only when samples arrived.
 */
export class LiveTrace {
  readonly element: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly paper: HTMLElement;
  private readonly caption: HTMLElement;
  private readonly observer: ResizeObserver;
  private grid: HTMLCanvasElement | null = null;
  private info: LiveStreamInfo | null = null;
  private buffer: SweepBuffer | null = null;
  private frame = 0;

  constructor() {
    this.canvas = h('canvas', {
      class: 'ecg-canvas live-canvas',
      role: 'img',
      'aria-label': t('ecg:live.waiting'),
    });
    this.paper = h('div', { class: 'ecg-paper' }, this.canvas);
    this.caption = h('figcaption', { class: 'ecg-caption' });
    this.element = h('figure', { class: 'ecg live-ecg' }, this.paper, this.caption);
    this.setLeads(1);
    this.observer = new ResizeObserver((entries) => {
      const entry = entries[entries.length - 1];
      if (entry) this.resize(entry);
    });
    this.observer.observe(this.canvas);
  }

  /** A (new) stream: clears the paper and lays out a row per lead. */
  start(info: LiveStreamInfo): void {
    this.info = info;
    this.buffer = new SweepBuffer(
      info.leads.length,
      info.sampleRateHz,
      info.microvoltsPerLsb,
      SWEEP_SECONDS,
    );
    this.setLeads(info.leads.length);
    this.grid = null;
    const leads = info.leads.join(', ');
    const paper = { speed: MM_PER_SECOND, gain: MM_PER_MILLIVOLT };
    this.canvas.setAttribute('aria-label', t('ecg:live.label', { leads, ...paper }));
    this.caption.textContent = t('ecg:live.caption', {
      leads,
      rate: info.sampleRateHz,
      ...paper,
    });
    this.schedule();
  }

  get streamId(): string | null {
    return this.info?.streamId ?? null;
  }

  push(samples: LiveSamples): void {
    if (!this.buffer || samples.streamId !== this.info?.streamId) return;
    this.buffer.write(samples.firstSample, samples.samples);
    this.canvas.dataset['samples'] = String(
      Number(this.canvas.dataset['samples'] ?? 0) + samples.samples.length,
    );
    this.schedule();
  }

  dispose(): void {
    cancelAnimationFrame(this.frame);
    this.observer.disconnect();
  }

  private setLeads(count: number): void {
    this.paper.style.aspectRatio = `${WIDTH_MM} / ${count * ROW_MM}`;
  }

  private resize(entry: ResizeObserverEntry): void {
    const width = Math.round(entry.contentRect.width * window.devicePixelRatio);
    const height = Math.round(entry.contentRect.height * window.devicePixelRatio);
    if (width <= 0 || height <= 0) return;
    this.canvas.width = width;
    this.canvas.height = height;
    this.grid = null;
    this.schedule();
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  private draw(): void {
    const ctx = this.canvas.getContext('2d');
    const { width } = this.canvas;
    if (!ctx || width === 0) return;
    const rows = this.info?.leads.length ?? 1;
    const scale = width / WIDTH_MM;
    ctx.drawImage(this.paperImage(scale, rows), 0, 0);
    const buffer = this.buffer;
    const info = this.info;
    if (!buffer || !info || buffer.cursor < 0) return;

    const erase = Math.round(ERASE_SECONDS * info.sampleRateHz);
    const cursor = buffer.cursor;
    const xOf = (position: number) => (position / info.sampleRateHz) * MM_PER_SECOND * scale;
    ctx.save();
    ctx.lineWidth = Math.max(1.2, scale * 0.26);
    ctx.lineJoin = 'round';
    ctx.strokeStyle = PAPER_COLORS.trace;
    buffer.values.forEach((values, row) => {
      const baseline = (row + 0.5) * ROW_MM;
      ctx.save();
      ctx.beginPath();
      ctx.rect(0, row * ROW_MM * scale, width, ROW_MM * scale);
      ctx.clip();
      ctx.beginPath();
      let drawing = false;
      for (let position = 0; position < buffer.width; position++) {
        const ahead = (position - cursor + buffer.width) % buffer.width;
        const value = values[position]!;
        if (ahead < erase || Number.isNaN(value)) {
          drawing = false;
          continue;
        }
        const x = xOf(position);
        const y = (baseline - value * MM_PER_MILLIVOLT) * scale;
        if (drawing) ctx.lineTo(x, y);
        else ctx.moveTo(x, y);
        drawing = true;
      }
      ctx.stroke();
      ctx.restore();
    });
    ctx.restore();
    this.canvas.dataset['rendered'] = 'true';
  }

  /** Grid and lead names, drawn once per size and stream. */
  private paperImage(scale: number, rows: number): HTMLCanvasElement {
    if (this.grid?.width === this.canvas.width && this.grid.height === this.canvas.height) {
      return this.grid;
    }
    const grid = document.createElement('canvas');
    grid.width = this.canvas.width;
    grid.height = this.canvas.height;
    const ctx = grid.getContext('2d')!;
    ctx.fillStyle = PAPER_COLORS.paper;
    ctx.fillRect(0, 0, grid.width, grid.height);
    drawGrid(ctx, scale, grid.width, grid.height, WIDTH_MM, rows * ROW_MM);
    ctx.font = `600 ${3.4 * scale}px system-ui, sans-serif`;
    ctx.fillStyle = PAPER_COLORS.label;
    this.info?.leads.forEach((lead, row) =>
      ctx.fillText(lead, 1.5 * scale, (row * ROW_MM + 5) * scale),
    );
    this.grid = grid;
    return grid;
  }
}
