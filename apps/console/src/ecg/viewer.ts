import type { EcgTrace } from './decode.js';
import {
  drawEcg,
  MM_PER_MILLIVOLT,
  MM_PER_SECOND,
  PAPER_HEIGHT_MM,
  PAPER_WIDTH_MM,
} from './paper.js';
import { h } from '../dom.js';

/**
 * The ECG on screen: a canvas as wide as its container, its backing store sized in device
 * pixels (devicePixelRatio) so grid and trace stay sharp, redrawn when either changes.
 */
export class EcgViewer {
  readonly element: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly status: HTMLElement;
  private readonly caption: HTMLElement;
  private readonly observer: ResizeObserver;
  private trace: EcgTrace | null = null;

  constructor() {
    this.canvas = h('canvas', {
      class: 'ecg-canvas',
      role: 'img',
      'aria-label': 'ECG, loading',
      'data-rendered': 'false',
    });
    this.status = h('p', { class: 'ecg-status', role: 'status' }, 'Loading the ECG…');
    this.caption = h(
      'figcaption',
      { class: 'ecg-caption' },
      `${MM_PER_SECOND} mm/s · ${MM_PER_MILLIVOLT} mm/mV`,
    );
    this.element = h(
      'figure',
      { class: 'ecg' },
      h(
        'div',
        { class: 'ecg-paper', style: `aspect-ratio: ${PAPER_WIDTH_MM} / ${PAPER_HEIGHT_MM}` },
        this.canvas,
        this.status,
      ),
      this.caption,
    );
    this.observer = new ResizeObserver((entries) => {
      const entry = entries[entries.length - 1];
      if (entry) this.resize(entry);
    });
    try {
      this.observer.observe(this.canvas, { box: 'device-pixel-content-box' });
    } catch {
      this.observer.observe(this.canvas);
    }
  }

  show(trace: EcgTrace): void {
    this.trace = trace;
    this.status.hidden = true;
    const shown = Math.min(trace.durationSeconds, 10);
    const leads = trace.leads.length;
    this.canvas.setAttribute(
      'aria-label',
      `${leads}-lead ECG, ${trace.durationSeconds.toFixed(1)} s at ${trace.sampleRateHz} Hz, drawn at ` +
        `${MM_PER_SECOND} mm/s and ${MM_PER_MILLIVOLT} mm/mV with a lead II rhythm strip`,
    );
    this.caption.textContent =
      `${MM_PER_SECOND} mm/s · ${MM_PER_MILLIVOLT} mm/mV · ${trace.sampleRateHz} Hz · ${leads} leads · ` +
      (trace.durationSeconds > 10
        ? `first ${shown} s of ${trace.durationSeconds.toFixed(1)} s`
        : `${trace.durationSeconds.toFixed(1)} s`);
    this.draw();
  }

  showMessage(message: string): void {
    this.status.hidden = false;
    this.status.textContent = message;
    this.canvas.setAttribute('aria-label', `ECG: ${message}`);
  }

  dispose(): void {
    this.observer.disconnect();
  }

  private resize(entry: ResizeObserverEntry): void {
    const estimate = entry.contentRect.width * window.devicePixelRatio;
    // devicePixelContentBoxSize is exact where the browser reports it, but an emulated
    // devicePixelRatio (DevTools, headless tests) is not reflected in it.
    const exact = entry.devicePixelContentBoxSize?.[0]?.inlineSize;
    const width =
      exact !== undefined && Math.abs(exact - estimate) <= 2 ? exact : Math.round(estimate);
    if (width <= 0) return;
    this.canvas.width = width;
    this.canvas.height = Math.round((width * PAPER_HEIGHT_MM) / PAPER_WIDTH_MM);
    this.draw();
  }

  private draw(): void {
    const ctx = this.canvas.getContext('2d');
    if (!ctx || this.canvas.width === 0) return;
    drawEcg(ctx, this.trace, this.canvas.width / PAPER_WIDTH_MM);
    this.canvas.dataset['rendered'] = String(this.trace !== null);
  }
}

/** The ECG for paper: about 200 dpi, laid out at true size (260 × 140 mm) by the print CSS. */
export function printableEcg(trace: EcgTrace, pixelsPerMm = 8): HTMLCanvasElement {
  const canvas = h('canvas', {
    class: 'report-ecg',
    role: 'img',
    'aria-label': `${trace.leads.length}-lead ECG at ${MM_PER_SECOND} mm/s and ${MM_PER_MILLIVOLT} mm/mV`,
  });
  canvas.width = PAPER_WIDTH_MM * pixelsPerMm;
  canvas.height = PAPER_HEIGHT_MM * pixelsPerMm;
  const ctx = canvas.getContext('2d');
  if (ctx) drawEcg(ctx, trace, pixelsPerMm);
  return canvas;
}
