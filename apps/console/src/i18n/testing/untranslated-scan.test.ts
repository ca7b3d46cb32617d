import { describe, expect, it } from 'vitest';
import { findUntranslated, hasWords } from './untranslated-scan.js';

const texts = (code: string) => findUntranslated('view.ts', code).map((found) => found.text);

describe('findUntranslated', () => {
  it('finds text written into h() children and readable attributes', () => {
    const code = `
      h('button', { class: 'button primary', type: 'submit', title: 'Sign the report' }, 'Sign');
      h('p', {}, ok ? 'Claimed' : \`Claimed by \${name}\`);
      h('span', { 'aria-label': t('common:close') }, t('worklist:empty'));
    `;
    expect(texts(code)).toEqual(['Sign the report', 'Sign', 'Claimed', '`Claimed by ${name}`']);
  });

  it('finds assignments to what is shown, announcements, canvas text and dialogs', () => {
    const code = `
      state.textContent = 'Offline — retrying';
      document.title = \`\${page} · Telerelay\`;
      this.announce('Case claimed');
      context.fillText('Paper speed', 4, 4);
      if (!confirm('离开本页？')) return;
      element.setAttribute('aria-label', 'Close');
      element.setAttribute('data-state', 'live-state');
    `;
    expect(texts(code)).toEqual([
      'Offline — retrying',
      '`${page} · Telerelay`',
      'Case claimed',
      'Paper speed',
      '离开本页？',
      'Close',
    ]);
  });

  it('finds label maps and phrases returned from functions, not identifiers or units', () => {
    const code = `
      const STATUS_LABEL = { signed: 'Signed', in_review: t('status:inReview') };
      function unit() { return 'mm/s'; }
      function mime() { return 'application/json'; }
      function state() { return 'awaiting_review'; }
      const label = () => 'Awaiting review';
      h('span', {}, \`\${rate} bpm · \${qt} ms\`, 'QRS', 'V1');
    `;
    expect(texts(code)).toEqual(['Signed', 'Awaiting review']);
  });

  it('lets a line say why its text stays as it is', () => {
    const code = `
      // i18n-exempt: the brand name is not translated
      h('span', {}, 'Telerelay');
      h('span', {}, 'Telerelay');
    `;
    expect(findUntranslated('view.ts', code).map((found) => found.line)).toEqual([4]);
  });

  it('tells words from units, numbers and acronyms', () => {
    expect(hasWords('25 mm/s, 10 mm/mV')).toBe(false);
    expect(hasWords('DICOM · CT')).toBe(false);
    expect(hasWords('Heart rate')).toBe(true);
    expect(hasWords('心率')).toBe(true);
  });
});
