import { BarChart, TreemapChart } from 'echarts/charts';
import { GridComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import {
  REPORT_TIME_ZONE,
  TURNAROUND_BUCKETS_MINUTES,
  type SupervisionFacility,
  type SupervisionReport,
} from '#contracts';
import { h, replaceContent } from '../dom.js';
import { currentLocale, t } from '../i18n/i18n.js';
import { formatCount } from './supervision-format.js';

// Only what these four charts draw: bars, a treemap, axes, tooltips, on a canvas.
echarts.use([BarChart, TreemapChart, GridComponent, TooltipComponent, CanvasRenderer]);

const BAR_COLOUR = '#1f6f9f';
/** Share of breaches: none, up to one in ten, more; grey for a facility without exams. */
const LOAD_COLOURS = { none: '#3d9970', some: '#e0a526', many: '#c43d3d', idle: '#a9b4be' };

interface ChartSlot {
  chart: echarts.ECharts;
  table: HTMLElement;
}

/**
 * The supervision's charts, each with its figures as a table beside it (in a disclosure) for
 * screen readers and for anyone who would rather read numbers. Loaded as its own chunk.
 */
export function supervisionCharts(container: HTMLElement): {
  update(report: SupervisionReport): void;
  dispose(): void;
} {
  const slot = (key: string, title: string): ChartSlot & { figure: HTMLElement } => {
    const canvasHost = h('div', {
      class: 'chart',
      role: 'img',
      'aria-label': title,
      'data-chart': key,
    });
    const table = h('div', { class: 'chart-table' });
    const figure = h(
      'figure',
      { class: 'chart-card' },
      h('figcaption', {}, title),
      canvasHost,
      h('details', {}, h('summary', {}, t('supervision:charts.dataTable')), table),
    );
    return { chart: echarts.init(canvasHost, undefined, { renderer: 'canvas' }), table, figure };
  };
  // The hosts need their size before init: put the cards on the page first.
  const cards = h('div', { class: 'chart-grid' });
  replaceContent(
    container,
    h('h2', { id: 'supervision-charts-heading' }, t('supervision:charts.heading')),
    cards,
  );
  const made: Record<string, ChartSlot & { figure: HTMLElement }> = {};
  const keys = [
    ['turnaround', t('supervision:charts.turnaround')],
    ['perHour', t('supervision:charts.perHour')],
    ['breaches', t('supervision:charts.breachesPerFacility')],
    ['hierarchy', t('supervision:charts.hierarchy')],
  ] as const;
  for (const [key, title] of keys) {
    const placeholder = h('div');
    cards.append(placeholder);
    const made1 = slot(key, title);
    placeholder.replaceWith(made1.figure);
    made1.chart.resize();
    made[key] = made1;
  }
  const resize = new ResizeObserver(() => {
    for (const { chart } of Object.values(made)) chart.resize();
  });
  resize.observe(container);

  return {
    update(report) {
      turnaround(made['turnaround']!, report);
      perHour(made['perHour']!, report);
      breaches(made['breaches']!, report);
      hierarchy(made['hierarchy']!, report);
      container.dataset['chartsOf'] = report.generatedAt;
    },
    dispose() {
      resize.disconnect();
      for (const { chart } of Object.values(made)) chart.dispose();
    },
  };
}

function dataTable(headers: [string, string], rows: [string, number][]): HTMLElement {
  return h(
    'table',
    { class: 'cases' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        headers.map((label) => h('th', { scope: 'col' }, label)),
      ),
    ),
    h(
      'tbody',
      {},
      rows.map(([label, value]) =>
        h('tr', {}, h('th', { scope: 'row' }, label), h('td', {}, formatCount(value))),
      ),
    ),
  );
}

function bars(slot: ChartSlot, labels: string[], values: number[], rotate = 0): void {
  slot.chart.setOption(
    {
      animation: false,
      grid: { left: 48, right: 16, top: 16, bottom: rotate ? 72 : 40 },
      tooltip: { trigger: 'axis' },
      xAxis: { type: 'category', data: labels, axisLabel: { rotate, interval: 0 } },
      yAxis: { type: 'value', minInterval: 1 },
      series: [{ type: 'bar', data: values, itemStyle: { color: BAR_COLOUR } }],
    },
    { notMerge: true },
  );
}

function turnaround(slot: ChartSlot, report: SupervisionReport): void {
  const labels = [
    ...TURNAROUND_BUCKETS_MINUTES.map((minutes) => t('supervision:charts.under', { minutes })),
    t('supervision:charts.over', { minutes: TURNAROUND_BUCKETS_MINUTES.at(-1) }),
  ];
  bars(slot, labels, report.turnaroundHistogram, 30);
  replaceContent(
    slot.table,
    dataTable(
      [t('supervision:charts.turnaroundBucket'), t('supervision:charts.cases')],
      labels.map((label, i) => [label, report.turnaroundHistogram[i] ?? 0]),
    ),
  );
}

function perHour(slot: ChartSlot, report: SupervisionReport): void {
  const hour = new Intl.DateTimeFormat(currentLocale(), {
    timeZone: REPORT_TIME_ZONE,
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  });
  const labels = report.casesPerHour.map((entry) => hour.format(new Date(entry.hour)));
  const values = report.casesPerHour.map((entry) => entry.exams);
  bars(slot, labels, values, 30);
  replaceContent(
    slot.table,
    dataTable(
      [t('supervision:charts.hour'), t('supervision:kpi.exams')],
      labels.map((label, i) => [label, values[i]!]),
    ),
  );
}

function breaches(slot: ChartSlot, report: SupervisionReport): void {
  const clinics = report.facilities
    .filter((f) => f.kind === 'clinic')
    .sort((a, b) => a.id.localeCompare(b.id, undefined, { numeric: true }));
  const labels = clinics.map((f) => f.name);
  const values = clinics.map((f) => f.figures.breaches);
  bars(slot, labels, values, 30);
  replaceContent(
    slot.table,
    dataTable(
      [t('supervision:facilities.name'), t('supervision:kpi.breaches')],
      labels.map((label, i) => [label, values[i]!]),
    ),
  );
}

function colourOf(facility: SupervisionFacility): string {
  const { exams, breaches: late } = facility.figures;
  if (exams === 0) return LOAD_COLOURS.idle;
  if (late === 0) return LOAD_COLOURS.none;
  return late / exams <= 0.1 ? LOAD_COLOURS.some : LOAD_COLOURS.many;
}

interface TreeNode {
  name: string;
  value: number;
  itemStyle: { color: string };
  children?: TreeNode[];
}

function hierarchy(slot: ChartSlot, report: SupervisionReport): void {
  const label = (f: SupervisionFacility) =>
    t('supervision:charts.hierarchyLabel', {
      name: f.name,
      exams: formatCount(f.figures.exams),
      breaches: formatCount(f.figures.breaches),
    });
  const ids = new Set(report.facilities.map((f) => f.id));
  const node = (facility: SupervisionFacility): TreeNode => {
    const children = report.facilities
      .filter((f) => f.parentId === facility.id)
      .sort((a, b) => a.id.localeCompare(b.id, undefined, { numeric: true }))
      .map(node);
    return {
      name: facility.name,
      // Area: exams, at least one unit so an idle clinic still has its place.
      value: children.length
        ? children.reduce((sum, child) => sum + child.value, 0)
        : Math.max(facility.figures.exams, 1),
      itemStyle: { color: colourOf(facility) },
      ...(children.length ? { children } : {}),
    };
  };
  const roots = report.facilities.filter((f) => f.parentId === null || !ids.has(f.parentId));
  slot.chart.setOption(
    {
      animation: false,
      tooltip: {},
      series: [
        {
          type: 'treemap',
          top: 4,
          bottom: 4,
          left: 4,
          right: 4,
          roam: false,
          nodeClick: false,
          breadcrumb: { show: false },
          // The treemap's own root, then tertiary hospital, county hospitals, clinics: the two
          // hospital levels as named bands in their own colour, the clinics as tiles.
          levels: [
            { itemStyle: { borderWidth: 0, gapWidth: 2 } },
            {
              itemStyle: { borderWidth: 3, gapWidth: 3, borderColor: '#12324a' },
              upperLabel: { show: true, height: 20, color: '#fff' },
            },
            {
              itemStyle: { borderWidth: 3, gapWidth: 2, borderColor: '#5a6573' },
              upperLabel: { show: true, height: 18, color: '#fff' },
            },
            { itemStyle: { gapWidth: 1 } },
          ],
          data: roots.map(node),
        },
      ],
    },
    { notMerge: true },
  );
  replaceContent(
    slot.table,
    h(
      'ul',
      { class: 'hierarchy-list' },
      report.facilities.map((f) =>
        h('li', { 'data-kind': f.kind, 'data-colour': colourOf(f) }, label(f)),
      ),
    ),
  );
}
