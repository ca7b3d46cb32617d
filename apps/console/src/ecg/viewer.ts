import type { EcgTrace } from './decode.js';
import {
  drawEcg,
  MM_PER_MILLIVOLT,
  MM_PER_SECOND,
  PAPER_HEIGHT_MM,
  PAPER_WIDTH_MM,
} from './paper.js';
import { h } from '../dom.js';
import { formatNumber } from '../format.js';
import { t } from '../i18n/i18n.js';

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
      'aria-label': t('ecg:viewer.loadingLabel'),
      'data-rendered': 'false',
    });
    this.status = h('p', { class: 'ecg-status', role: 'status' }, t('ecg:viewer.loading'));
    this.caption = h(
      'figcaption',
      { class: 'ecg-caption' },
      t('ecg:viewer.paper', { speed: MM_PER_SECOND, gain: MM_PER_MILLIVOLT }),
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
    const words = {
      count: leads,
      seconds: formatNumber(trace.durationSeconds, {
        minimumFractionDigits: 1,
        maximumFractionDigits: 1,
      }),
      shown: formatNumber(shown),
      rate: trace.sampleRateHz,
      speed: MM_PER_SECOND,
      gain: MM_PER_MILLIVOLT,
    };
    this.canvas.setAttribute('aria-label', t('ecg:viewer.label', words));
    this.caption.textContent =
      trace.durationSeconds > 10
        ? t('ecg:viewer.captionFirst', words)
        : t('ecg:viewer.caption', words);
    this.draw();
  }

  showMessage(message: string): void {
    this.status.hidden = false;
    this.status.textContent = message;
    this.canvas.setAttribute('aria-label', t('ecg:viewer.messageLabel', { message }));
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
    'aria-label': t('ecg:viewer.printLabel', {
      count: trace.leads.length,
      speed: MM_PER_SECOND,
      gain: MM_PER_MILLIVOLT,
    }),
  });
  canvas.width = PAPER_WIDTH_MM * pixelsPerMm;
  canvas.height = PAPER_HEIGHT_MM * pixelsPerMm;
  const ctx = canvas.getContext('2d');
  if (ctx) drawEcg(ctx, trace, pixelsPerMm);
  return canvas;
}
