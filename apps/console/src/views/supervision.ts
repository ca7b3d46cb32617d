import {
  REPORT_TIME_ZONE,
  type LateCase,
  type ReaderLoad,
  type SupervisionFacility,
  type SupervisionFigures,
  type SupervisionReport,
} from '#contracts';
import { describeError, periodQuery } from '../api.js';
import { h, replaceContent } from '../dom.js';
import { examLabel, PRIORITY_LABEL, statusLabel } from '../format.js';
import { currentLocale, t } from '../i18n/i18n.js';
import type { ConsoleContext, View } from './context.js';
import { formatCount, formatMinutes } from './supervision-format.js';

/** The figures the tiles show, in this order; each tile carries its number in data-value. */
type Tile = Exclude<keyof SupervisionFigures, 'examsByKind' | 'turnaroundSeconds' | 'signed'>;
const TILES: readonly Tile[] = [
  'exams',
  'received',
  'breaches',
  'escalated',
  'overflowed',
  'returned',
  'repeatExamWarnings',
  'repeatExamsWentAhead',
  'waiting',
  'claimed',
];

/**
 * Late cases turn late while nobody acts: without any case moving, the page reads the report
 * again this often (a change in the region is pushed at once).
 */
const IDLE_REFRESH_MS = 60_000;

interface Period {
  from?: string;
  to?: string;
}

/** Labels that follow the language (built at render time, after a switch too). */
function tileLabels(): Record<Tile | 'turnaroundP50' | 'turnaroundP90', string> {
  return {
    exams: t('supervision:kpi.exams'),
    received: t('supervision:kpi.received'),
    turnaroundP50: t('supervision:kpi.turnaroundP50'),
    turnaroundP90: t('supervision:kpi.turnaroundP90'),
    breaches: t('supervision:kpi.breaches'),
    escalated: t('supervision:kpi.escalated'),
    overflowed: t('supervision:kpi.overflowed'),
    returned: t('supervision:kpi.returned'),
    repeatExamWarnings: t('supervision:kpi.repeatExamWarnings'),
    repeatExamsWentAhead: t('supervision:kpi.repeatExamsWentAhead'),
    waiting: t('supervision:kpi.waiting'),
    claimed: t('supervision:kpi.claimed'),
  };
}

function kindLabel(kind: string): string {
  const labels: Record<string, string> = {
    tertiary: t('supervision:facilities.tertiary'),
    county: t('supervision:facilities.county'),
    clinic: t('supervision:facilities.clinic'),
  };
  return labels[kind] ?? kind;
}

/** Date and time in the report's time zone, whatever the browser's is. */
function formatTime(iso: string): string {
  return new Intl.DateTimeFormat(currentLocale(), {
    timeZone: REPORT_TIME_ZONE,
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(new Date(iso));
}

/** Today in the report time zone, as the date inputs want it (YYYY-MM-DD). */
function today(): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: REPORT_TIME_ZONE }).format(new Date());
}

/**
 * The health authority's live supervision of its region: the period's figures, the late cases
 * and the readers' workload, read again whenever the relay says the region's figures moved
 * (`supervision.changed`), without a reload. Figures only: the relay sends no patient data.
 */
export function supervisionView(ctx: ConsoleContext): View {
  let period: Period = {};
  let report: SupervisionReport | null = null;
  let generation = 0;
  let disposed = false;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  let charts: { update(report: SupervisionReport): void; dispose(): void } | null = null;

  const error = h('p', { class: 'alert', role: 'alert', hidden: true });
  const status = h('p', { class: 'counts', 'data-testid': 'supervision-updated' });
  const content = h('div', { class: 'supervision-content', 'aria-busy': 'true' });
  const chartArea = h('div', { class: 'supervision-charts' });
  const fromInput = h('input', {
    type: 'date',
    id: 'supervision-from',
    name: 'from',
    value: today(),
  });
  const toInput = h('input', { type: 'date', id: 'supervision-to', name: 'to', value: today() });
  const periodForm = h(
    'form',
    {
      class: 'supervision-period',
      'data-testid': 'supervision-period',
      onsubmit: (event: Event) => {
        event.preventDefault();
        const from = fromInput.value;
        const to = toInput.value;
        if (!from || !to || from > to) {
          showError(t('supervision:period.invalid'));
          return;
        }
        period = { from, to };
        void load();
      },
    },
    h(
      'fieldset',
      {},
      h('legend', {}, t('supervision:period.legend')),
      h(
        'button',
        {
          type: 'button',
          class: 'button ghost',
          'data-testid': 'supervision-today',
          onclick: () => {
            period = {};
            fromInput.value = today();
            toInput.value = today();
            void load();
          },
        },
        t('supervision:period.today'),
      ),
      h('label', { for: 'supervision-from' }, t('supervision:period.from')),
      fromInput,
      h('label', { for: 'supervision-to' }, t('supervision:period.to')),
      toInput,
      h('button', { type: 'submit', class: 'button' }, t('supervision:period.apply')),
      h(
        'button',
        {
          type: 'button',
          class: 'button ghost',
          'data-testid': 'supervision-csv',
          onclick: () => void exportCsv(),
        },
        t('supervision:exportCsv'),
      ),
    ),
  );

  const element = h(
    'section',
    { class: 'view supervision', 'aria-labelledby': 'supervision-title' },
    h(
      'div',
      { class: 'view-head' },
      h('h1', { id: 'supervision-title', tabindex: -1 }, t('supervision:title')),
      status,
    ),
    h('p', { class: 'counts' }, t('supervision:deidentified')),
    periodForm,
    error,
    content,
    chartArea,
  );
  replaceContent(content, h('p', { class: 'counts' }, t('supervision:loading')));

  function showError(message: string | null): void {
    error.hidden = message === null;
    error.textContent = message ?? '';
  }

  async function load(): Promise<void> {
    const mine = ++generation;
    clearTimeout(idleTimer);
    content.setAttribute('aria-busy', 'true');
    try {
      const fresh = await ctx.api.supervision(period);
      if (disposed || mine !== generation) return;
      const before = report;
      report = fresh;
      showError(null);
      render(fresh);
      // Said only when a figure moved, not at every quiet re-read.
      if (before && JSON.stringify(before.region) !== JSON.stringify(fresh.region)) {
        ctx.announce(t('supervision:changed'));
      }
    } catch (failure) {
      if (disposed || mine !== generation) return;
      showError(t('supervision:loadFailed', { reason: describeError(failure) }));
    } finally {
      if (!disposed && mine === generation) {
        content.setAttribute('aria-busy', 'false');
        idleTimer = setTimeout(() => void load(), IDLE_REFRESH_MS);
      }
    }
  }

  function render(fresh: SupervisionReport): void {
    element.dataset['generatedAt'] = fresh.generatedAt;
    status.textContent = t('supervision:updatedAt', { time: formatTime(fresh.generatedAt) });
    const names = new Map(fresh.facilities.map((f) => [f.id, f.name]));
    const root = names.get(fresh.regionId) ?? fresh.regionId;
    replaceContent(
      content,
      h(
        'p',
        { class: 'counts', 'data-testid': 'supervision-period-shown' },
        t('supervision:region', { name: root }),
        ' · ',
        t('supervision:period.shown', { from: fresh.from, to: fresh.to }),
      ),
      tiles(fresh.region),
      facilityTable(fresh.facilities),
      lateTable(fresh.lateCases, names),
      readerTable(fresh.readers, names),
    );
    if (charts) charts.update(fresh);
    else void startCharts(fresh);
  }

  async function startCharts(first: SupervisionReport): Promise<void> {
    replaceContent(chartArea, h('p', { class: 'counts' }, t('supervision:charts.loading')));
    try {
      // ECharts is loaded only for this page, as its own chunk.
      const { supervisionCharts } = await import('./supervision-charts.js');
      if (disposed) return;
      charts = supervisionCharts(chartArea);
      charts.update(report ?? first);
    } catch {
      if (!disposed) {
        replaceContent(chartArea, h('p', { class: 'alert' }, t('supervision:charts.failed')));
      }
    }
  }

  async function exportCsv(): Promise<void> {
    try {
      // A download needs the bytes: fetched with the token, handed to the browser as a file.
      const response = await fetch(`/api/stats/supervision.csv${periodQuery(period)}`, {
        headers: { authorization: `Bearer ${ctx.api.accessToken()}` },
        signal: ctx.api.signal,
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const blob = await response.blob();
      const name =
        /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1] ??
        'supervision.csv';
      const url = URL.createObjectURL(blob);
      const link = h('a', { href: url, download: name, hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (failure) {
      showError(t('supervision:exportFailed', { reason: describeError(failure) }));
    }
  }

  const onChanged = () => void load();
  ctx.socket?.on('supervision.changed', onChanged);
  // After a reconnect whatever moved meanwhile was not pushed: read it all again.
  ctx.socket?.on('session.ready', onChanged);
  void load();

  return {
    element,
    dispose() {
      disposed = true;
      clearTimeout(idleTimer);
      ctx.socket?.off('supervision.changed', onChanged);
      ctx.socket?.off('session.ready', onChanged);
      charts?.dispose();
    },
  };
}

function tiles(figures: SupervisionFigures): HTMLElement {
  const labels = tileLabels();
  const tile = (key: string, label: string, value: number | null, shown: string) =>
    h(
      'div',
      { class: 'kpi', 'data-kpi': key, 'data-value': value === null ? '' : value },
      h('dt', {}, label),
      h('dd', {}, shown),
    );
  return h(
    'section',
    { class: 'supervision-kpis', 'aria-labelledby': 'supervision-kpi-heading' },
    h('h2', { id: 'supervision-kpi-heading' }, t('supervision:kpi.heading')),
    h(
      'dl',
      { class: 'kpi-grid' },
      tile('exams', labels.exams, figures.exams, formatCount(figures.exams)),
      tile(
        'turnaroundP50',
        labels.turnaroundP50,
        figures.turnaroundSeconds.p50,
        formatMinutes(figures.turnaroundSeconds.p50),
      ),
      tile(
        'turnaroundP90',
        labels.turnaroundP90,
        figures.turnaroundSeconds.p90,
        formatMinutes(figures.turnaroundSeconds.p90),
      ),
      TILES.filter((key) => key !== 'exams').map((key) =>
        tile(key, labels[key], figures[key], formatCount(figures[key])),
      ),
    ),
  );
}

function examsByKind(figures: SupervisionFigures): string {
  return Object.entries(figures.examsByKind)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([kind, n]) => `${examLabel(kind)} ${formatCount(n)}`)
    .join(' · ');
}

function facilityTable(facilities: SupervisionFacility[]): HTMLElement {
  const labels = tileLabels();
  const columns: { key: string; label: string; cell: (f: SupervisionFigures) => string }[] = [
    { key: 'exams', label: labels.exams, cell: (f) => formatCount(f.exams) },
    { key: 'examsByKind', label: t('supervision:facilities.examsByKind'), cell: examsByKind },
    {
      key: 'turnaroundP50',
      label: labels.turnaroundP50,
      cell: (f) => formatMinutes(f.turnaroundSeconds.p50),
    },
    {
      key: 'turnaroundP90',
      label: labels.turnaroundP90,
      cell: (f) => formatMinutes(f.turnaroundSeconds.p90),
    },
    ...TILES.filter((key) => key !== 'exams').map((key) => ({
      key,
      label: labels[key],
      cell: (f: SupervisionFigures) => formatCount(f[key]),
    })),
  ];
  // Parents before their children, as the hierarchy reads.
  const ordered: SupervisionFacility[] = [];
  const byId = (a: SupervisionFacility, b: SupervisionFacility) =>
    a.id.localeCompare(b.id, undefined, { numeric: true });
  const place = (parentId: string) => {
    for (const facility of facilities.filter((f) => f.parentId === parentId).sort(byId)) {
      ordered.push(facility);
      place(facility.id);
    }
  };
  const ids = new Set(facilities.map((f) => f.id));
  const tops = facilities.filter((f) => f.parentId === null || !ids.has(f.parentId));
  for (const top of tops.sort(byId)) {
    ordered.push(top);
    place(top.id);
  }
  return h(
    'section',
    { 'aria-labelledby': 'supervision-facilities-heading' },
    h('h2', { id: 'supervision-facilities-heading' }, t('supervision:facilities.heading')),
    h(
      'div',
      {
        class: 'table-wrap',
        // A wide table scrolls sideways on a tablet: keyboard users must be able to scroll it.
        tabindex: 0,
      },
      h(
        'table',
        { class: 'cases supervision-facilities', 'data-testid': 'supervision-facilities' },
        h('caption', {}, t('supervision:facilities.caption')),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { scope: 'col' }, t('supervision:facilities.name')),
            h('th', { scope: 'col' }, t('supervision:facilities.kind')),
            columns.map((column) => h('th', { scope: 'col' }, column.label)),
          ),
        ),
        h(
          'tbody',
          {},
          ordered.map((facility) =>
            h(
              'tr',
              { 'data-facility-id': facility.id, class: `facility-${facility.kind}` },
              h('th', { scope: 'row' }, facility.name),
              h('td', {}, kindLabel(facility.kind)),
              columns.map((column) =>
                h(
                  'td',
                  {
                    'data-field': column.key,
                    'data-value': numericValue(facility.figures, column.key),
                  },
                  column.cell(facility.figures),
                ),
              ),
            ),
          ),
        ),
      ),
    ),
  );
}

function numericValue(figures: SupervisionFigures, key: string): string | number {
  if (key === 'turnaroundP50') return figures.turnaroundSeconds.p50 ?? '';
  if (key === 'turnaroundP90') return figures.turnaroundSeconds.p90 ?? '';
  const value = (figures as unknown as Record<string, unknown>)[key];
  return typeof value === 'number' ? value : '';
}

function lateTable(late: LateCase[], names: Map<string, string>): HTMLElement {
  const heading = h('h2', { id: 'supervision-late-heading' }, t('supervision:late.heading'));
  if (late.length === 0) {
    return h(
      'section',
      { 'aria-labelledby': 'supervision-late-heading' },
      heading,
      h(
        'p',
        { class: 'counts', 'data-testid': 'supervision-late-none' },
        t('supervision:late.none'),
      ),
    );
  }
  const overdueText = (seconds: number) =>
    seconds >= 0
      ? t('supervision:late.overdue', { time: formatMinutes(seconds) })
      : t('supervision:late.remaining', { time: formatMinutes(-seconds) });
  // By clinic, most overdue first within each.
  const sorted = [...late].sort(
    (a, b) =>
      (names.get(a.clinicId) ?? a.clinicId).localeCompare(names.get(b.clinicId) ?? b.clinicId) ||
      b.overdueSeconds - a.overdueSeconds,
  );
  return h(
    'section',
    { 'aria-labelledby': 'supervision-late-heading' },
    heading,
    h(
      'div',
      {
        class: 'table-wrap',
        // A wide table scrolls sideways on a tablet: keyboard users must be able to scroll it.
        tabindex: 0,
      },
      h(
        'table',
        { class: 'cases', 'data-testid': 'supervision-late' },
        h('caption', {}, t('supervision:late.caption')),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            [
              t('supervision:late.clinic'),
              t('supervision:late.hospital'),
              t('supervision:late.exam'),
              t('supervision:late.priority'),
              t('supervision:late.status'),
              t('supervision:late.recordedAt'),
              t('supervision:late.dueAt'),
              t('supervision:kpi.breaches'),
            ].map((label) => h('th', { scope: 'col' }, label)),
          ),
        ),
        h(
          'tbody',
          {},
          sorted.map((item) =>
            h(
              'tr',
              {
                'data-clinic-id': item.clinicId,
                'data-overdue': item.overdueSeconds >= 0 ? 'yes' : 'no',
              },
              h('td', {}, names.get(item.clinicId) ?? item.clinicId),
              h('td', {}, names.get(item.hospitalId) ?? item.hospitalId),
              h('td', {}, examLabel(item.examKind)),
              h('td', {}, PRIORITY_LABEL[item.priority]),
              h('td', {}, statusLabel(item.status)),
              h('td', {}, formatTime(item.recordedAt)),
              h('td', {}, formatTime(item.dueAt)),
              h(
                'td',
                { class: item.overdueSeconds >= 0 ? 'overdue' : undefined },
                overdueText(item.overdueSeconds),
              ),
            ),
          ),
        ),
      ),
    ),
  );
}

function readerTable(readers: ReaderLoad[], names: Map<string, string>): HTMLElement {
  const heading = h('h2', { id: 'supervision-readers-heading' }, t('supervision:readers.heading'));
  return h(
    'section',
    { 'aria-labelledby': 'supervision-readers-heading' },
    heading,
    readers.length === 0
      ? h('p', { class: 'counts' }, t('supervision:readers.none'))
      : h(
          'div',
          {
            class: 'table-wrap',
            // A wide table scrolls sideways on a tablet: keyboard users must be able to scroll it.
            tabindex: 0,
          },
          h(
            'table',
            { class: 'cases', 'data-testid': 'supervision-readers' },
            h('caption', {}, t('supervision:readers.caption')),
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                [
                  t('supervision:readers.name'),
                  t('supervision:readers.hospital'),
                  t('supervision:readers.signed'),
                  t('supervision:readers.claimedNow'),
                ].map((label) => h('th', { scope: 'col' }, label)),
              ),
            ),
            h(
              'tbody',
              {},
              readers.map((reader) =>
                h(
                  'tr',
                  {},
                  h('th', { scope: 'row' }, reader.displayName),
                  h('td', {}, names.get(reader.hospitalId) ?? reader.hospitalId),
                  h(
                    'td',
                    { 'data-field': 'signed', 'data-value': reader.signed },
                    formatCount(reader.signed),
                  ),
                  h(
                    'td',
                    { 'data-field': 'claimedNow', 'data-value': reader.claimedNow },
                    formatCount(reader.claimedNow),
                  ),
                ),
              ),
            ),
          ),
        ),
  );
}
