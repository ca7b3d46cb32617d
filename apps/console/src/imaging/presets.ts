import { t } from '../i18n/i18n.js';

/** Window/level presets for CT, in Hounsfield units (width, centre). */
export interface WindowPreset {
  id: 'lung' | 'mediastinum' | 'bone';
  width: number;
  center: number;
}

export const WINDOW_PRESETS: readonly WindowPreset[] = [
  { id: 'lung', width: 1500, center: -600 },
  { id: 'mediastinum', width: 350, center: 50 },
  { id: 'bone', width: 2000, center: 500 },
];

/**
 * A preset's name as radiologists say it (肺窗 / 纵隔窗 / 骨窗), or the image's own window.
 * Built when asked, so the words follow a language switch.
 */
export function presetName(id: WindowPreset['id'] | 'own'): string {
  const names: Record<WindowPreset['id'] | 'own', string> = {
    own: t('imaging:preset.own'),
    lung: t('imaging:preset.lung'),
    mediastinum: t('imaging:preset.mediastinum'),
    bone: t('imaging:preset.bone'),
  };
  return names[id];
}

/**
 * The value range a window shows, as cornerstone's voiRange wants it. Linear VOI LUT
 * (PS3.3 C.11.2.1.2.1): values at or below c − 0.5 − (w − 1)/2 are black, at or above
 * c − 0.5 + (w − 1)/2 white.
 */
export function voiRange(width: number, center: number): { lower: number; upper: number } {
  const half = (Math.max(width, 1) - 1) / 2;
  return { lower: center - 0.5 - half, upper: center - 0.5 + half };
}

/** The inverse, to show the window the reader has dragged to. */
export function windowOf(range: { lower: number; upper: number }): {
  width: number;
  center: number;
} {
  const width = range.upper - range.lower + 1;
  return { width, center: range.lower + 0.5 + (width - 1) / 2 };
}
