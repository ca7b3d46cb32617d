import {
  Enums as CoreEnums,
  RenderingEngine,
  cache,
  imageLoader,
  init as initCore,
  type StackViewport,
} from '@cornerstonejs/core';
import { init as initImageLoader, wadors } from '@cornerstonejs/dicom-image-loader';
import {
  AngleTool,
  Enums as ToolEnums,
  LengthTool,
  PanTool,
  StackScrollTool,
  ToolGroupManager,
  WindowLevelTool,
  ZoomTool,
  addTool,
  init as initTools,
} from '@cornerstonejs/tools';
import { h, replaceContent } from '../dom.js';
import { t } from '../i18n/i18n.js';
import {
  TAG,
  frameCount,
  inReadingOrder,
  seriesEntries,
  stringOf,
  type DicomJsonDataset,
  type SeriesEntry,
} from './dicom-json.js';
import { WINDOW_PRESETS, presetName, voiRange, windowOf, type WindowPreset } from './presets.js';

/** The tools on the toolbar, in order. */
const TOOLS = ['window', 'pan', 'zoom', 'length', 'angle'] as const;
type ToolId = (typeof TOOLS)[number];

/** Window width and level as the overlay and the preset buttons show them. */
function windowText(width: number, center: number): string {
  return t('imaging:viewer.window', { width: Math.round(width), center: Math.round(center) });
}

function seriesLabelOf(entry: SeriesEntry): string {
  return (
    [entry.modality, entry.number !== null ? `#${entry.number}` : null, entry.description]
      .filter(Boolean)
      .join(' · ') || t('imaging:viewer.seriesFallback')
  );
}

function toolName(tool: ToolId): string {
  const names: Record<ToolId, string> = {
    window: t('imaging:viewer.tools.window'),
    pan: t('imaging:viewer.tools.pan'),
    zoom: t('imaging:viewer.tools.zoom'),
    length: t('imaging:viewer.tools.length'),
    angle: t('imaging:viewer.tools.angle'),
  };
  return names[tool];
}

const TOOL_NAMES: Record<ToolId, string> = {
  window: WindowLevelTool.toolName,
  pan: PanTool.toolName,
  zoom: ZoomTool.toolName,
  length: LengthTool.toolName,
  angle: AngleTool.toolName,
};

export interface StudyViewerOptions {
  /** The DICOMweb root, e.g. `${origin}/dicomweb`. */
  root: string;
  studyInstanceUid: string;
  /** Read for every request, so a token renewed meanwhile is used. */
  token: () => string;
}

export interface StudyViewer {
  readonly element: HTMLElement;
  dispose(): void;
}

let tokenSource: () => string = () => '';
let initialised = false;

/** cornerstone, its DICOM loader (decoding in web workers, WASM codecs) and the tools: once per page. */
function initCornerstone(): void {
  if (initialised) return;
  initialised = true;
  initCore();
  initImageLoader({
    maxWebWorkers: Math.max(1, Math.min(2, Math.floor((navigator.hardwareConcurrency || 2) / 2))),
    beforeSend: () => ({ Authorization: `Bearer ${tokenSource()}` }),
  });
  initTools();
  for (const tool of [WindowLevelTool, PanTool, ZoomTool, StackScrollTool, LengthTool, AngleTool]) {
    addTool(tool);
  }
}

let instanceCounter = 0;

/**
 * A study from the relay's WADO-RS: series thumbnails, one series at a time in a stack
 * viewport, window/level with CT presets, scroll (wheel, slider, keys), zoom, pan, length
 * and angle. Images are `wadors:` ids read with the signed-in user's bearer token.
 */
export function openStudyViewer(options: StudyViewerOptions): StudyViewer {
  tokenSource = options.token;
  const id = `telerelay-study-${++instanceCounter}`;
  const viewportId = `${id}-viewport`;
  let engine: RenderingEngine | null = null;
  let viewport: StackViewport | null = null;
  let disposed = false;
  let activeTool: ToolId = 'window';
  let seriesLabel = '';
  let loadGeneration = 0;
  const thumbnailUrls: string[] = [];

  const status = h(
    'p',
    { class: 'imaging-status', role: 'status' },
    t('imaging:viewer.loadingStudy'),
  );
  const progress = h('p', { class: 'imaging-progress', 'aria-live': 'polite' });
  const windowReadout = h('span', { class: 'imaging-window', 'data-window': '' });
  const indexReadout = h('span', { class: 'imaging-index' });
  const stage = h('div', {
    class: 'imaging-viewport',
    tabindex: 0,
    role: 'img',
    'aria-label': t('imaging:viewer.loadingStudy'),
    'data-image-index': 0,
    'data-image-count': 0,
    'data-rendered': 'false',
  });
  stage.addEventListener('contextmenu', (event) => event.preventDefault());
  const slider = h('input', {
    type: 'range',
    class: 'imaging-slider',
    min: 1,
    max: 1,
    value: 1,
    step: 1,
    'aria-label': t('imaging:viewer.slider'),
    disabled: true,
  });
  const seriesList = h('ol', {
    class: 'imaging-series',
    'aria-label': t('imaging:viewer.seriesList'),
  });
  const toolButtons = new Map<ToolId, HTMLButtonElement>();
  const toolbar = h(
    'div',
    { class: 'imaging-toolbar', role: 'toolbar', 'aria-label': t('imaging:viewer.toolbar') },
    h(
      'div',
      { class: 'imaging-tools' },
      TOOLS.map((tool) => {
        const button = h(
          'button',
          {
            type: 'button',
            class: 'button small secondary',
            'aria-pressed': String(tool === activeTool),
            'data-tool': tool,
            onclick: () => selectTool(tool),
          },
          toolName(tool),
        );
        toolButtons.set(tool, button);
        return button;
      }),
    ),
    h(
      'div',
      { class: 'imaging-presets', role: 'group', 'aria-label': t('imaging:viewer.presets') },
      h(
        'button',
        {
          type: 'button',
          class: 'button small secondary',
          'data-preset': 'own',
          onclick: () => ownWindow(),
        },
        presetName('own'),
      ),
      WINDOW_PRESETS.map((preset) =>
        h(
          'button',
          {
            type: 'button',
            class: 'button small secondary',
            'data-preset': preset.id,
            title: windowText(preset.width, preset.center),
            onclick: () => applyPreset(preset),
          },
          presetName(preset.id),
        ),
      ),
    ),
    h(
      'button',
      { type: 'button', class: 'button small secondary', onclick: () => resetView() },
      t('imaging:viewer.reset'),
    ),
  );
  const element = h(
    'figure',
    { class: 'imaging' },
    toolbar,
    h(
      'div',
      { class: 'imaging-body' },
      seriesList,
      h(
        'div',
        { class: 'imaging-stage' },
        stage,
        h('div', { class: 'imaging-overlay', 'aria-hidden': 'true' }, indexReadout, windowReadout),
        status,
      ),
    ),
    h(
      'figcaption',
      { class: 'imaging-scrub' },
      slider,
      progress,
      h('span', { class: 'hint' }, t('imaging:viewer.hint')),
    ),
  );

  slider.addEventListener('input', () => void viewport?.setImageIdIndex(Number(slider.value) - 1));
  stage.addEventListener('keydown', (event) => {
    const step: Record<string, number> = {
      ArrowDown: 1,
      ArrowRight: 1,
      ArrowUp: -1,
      ArrowLeft: -1,
      PageDown: 10,
      PageUp: -10,
    };
    if (!viewport) return;
    const count = viewport.getImageIds().length;
    const current = viewport.getCurrentImageIdIndex();
    let next: number | null = null;
    if (event.key in step) next = current + step[event.key]!;
    else if (event.key === 'Home') next = 0;
    else if (event.key === 'End') next = count - 1;
    if (next === null) return;
    event.preventDefault();
    void viewport.setImageIdIndex(Math.min(Math.max(next, 0), count - 1));
  });

  function showMessage(message: string | null): void {
    status.hidden = message === null;
    status.textContent = message ?? '';
  }

  function showIndex(): void {
    if (!viewport) return;
    const total = viewport.getImageIds().length;
    const index = viewport.getCurrentImageIdIndex() + 1;
    stage.dataset['imageIndex'] = String(index);
    stage.dataset['imageCount'] = String(total);
    stage.setAttribute(
      'aria-label',
      t('imaging:viewer.viewportLabel', { series: seriesLabel, index, total }),
    );
    indexReadout.textContent = t('imaging:viewer.image', { index, total });
    slider.max = String(Math.max(total, 1));
    slider.value = String(index);
    slider.disabled = total < 2;
  }

  function showWindow(): void {
    const range = viewport?.getProperties().voiRange;
    if (!range) return;
    const { width, center } = windowOf(range);
    windowReadout.textContent = windowText(width, center);
    windowReadout.dataset['window'] = `${Math.round(width)}/${Math.round(center)}`;
  }

  function selectTool(tool: ToolId): void {
    const group = ToolGroupManager.getToolGroup(id);
    if (!group) return;
    group.setToolPassive(TOOL_NAMES[activeTool]);
    activeTool = tool;
    group.setToolActive(TOOL_NAMES[tool], {
      bindings: [{ mouseButton: ToolEnums.MouseBindings.Primary }],
    });
    // Pan and zoom stay on the middle and right buttons whatever the left one does.
    if (tool !== 'pan') {
      group.setToolActive(PanTool.toolName, {
        bindings: [{ mouseButton: ToolEnums.MouseBindings.Auxiliary }],
      });
    }
    if (tool !== 'zoom') {
      group.setToolActive(ZoomTool.toolName, {
        bindings: [{ mouseButton: ToolEnums.MouseBindings.Secondary }],
      });
    }
    for (const [key, button] of toolButtons)
      button.setAttribute('aria-pressed', String(key === tool));
  }

  function applyPreset(preset: WindowPreset): void {
    if (!viewport) return;
    viewport.setProperties({ voiRange: voiRange(preset.width, preset.center) });
    viewport.render();
    element.dataset['preset'] = preset.id;
    showWindow();
  }

  /** The window the image itself carries (WindowCenter/Width, else its pixel range). */
  function ownWindow(): void {
    if (!viewport) return;
    viewport.resetProperties();
    viewport.render();
    element.dataset['preset'] = 'own';
    showWindow();
  }

  function resetView(): void {
    if (!viewport) return;
    viewport.resetCamera();
    viewport.resetProperties();
    viewport.render();
    element.dataset['preset'] = 'own';
    showWindow();
  }

  async function dicomweb(path: string): Promise<DicomJsonDataset[]> {
    const response = await fetch(`${options.root}${path}`, {
      headers: { accept: 'application/dicom+json', authorization: `Bearer ${options.token()}` },
    });
    if (response.status === 204) return [];
    if (!response.ok)
      throw new Error(t('imaging:viewer.relayAnswered', { status: response.status }));
    return (await response.json()) as DicomJsonDataset[];
  }

  const studyPath = `/studies/${encodeURIComponent(options.studyInstanceUid)}`;
  const seriesPath = (series: string) => `${studyPath}/series/${encodeURIComponent(series)}`;

  async function thumbnail(entry: SeriesEntry, image: HTMLImageElement): Promise<void> {
    const instances = inReadingOrder(
      await dicomweb(`${seriesPath(entry.seriesInstanceUid)}/instances`),
    );
    const middle = instances[Math.floor(instances.length / 2)];
    const sop = stringOf(middle, TAG.SOPInstanceUID);
    if (!sop || disposed) return;
    const base = `${options.root}${seriesPath(entry.seriesInstanceUid)}/instances/${encodeURIComponent(sop)}`;
    for (const kind of ['thumbnail', 'rendered']) {
      const response = await fetch(`${base}/${kind}`, {
        headers: {
          accept: 'image/png, image/jpeg;q=0.9',
          authorization: `Bearer ${options.token()}`,
        },
      });
      // 406: the relay cannot render this syntax at any size; the label has to do.
      if (response.status === 404) continue;
      if (!response.ok) return;
      const url = URL.createObjectURL(await response.blob());
      thumbnailUrls.push(url);
      if (disposed) return;
      image.src = url;
      image.hidden = false;
      return;
    }
  }

  function renderSeriesList(entries: SeriesEntry[], selected: string): void {
    replaceContent(
      seriesList,
      entries.map((entry) => {
        const image = h('img', { alt: '', hidden: true, width: 96, height: 96 });
        void thumbnail(entry, image).catch(() => undefined);
        return h(
          'li',
          {},
          h(
            'button',
            {
              type: 'button',
              class: 'imaging-series-button',
              'aria-current': entry.seriesInstanceUid === selected ? 'true' : null,
              'data-series-uid': entry.seriesInstanceUid,
              onclick: () => {
                for (const other of seriesList.querySelectorAll('[aria-current]'))
                  other.removeAttribute('aria-current');
                seriesList
                  .querySelector(`[data-series-uid="${CSS.escape(entry.seriesInstanceUid)}"]`)
                  ?.setAttribute('aria-current', 'true');
                void showSeries(entry);
              },
            },
            h('span', { class: 'imaging-thumb' }, image),
            h('span', { class: 'imaging-series-label' }, seriesLabelOf(entry)),
            h(
              'span',
              { class: 'muted' },
              entry.instanceCount === null
                ? ''
                : t('imaging:viewer.seriesCount', { count: entry.instanceCount }),
            ),
          ),
        );
      }),
    );
  }

  async function showSeries(entry: SeriesEntry): Promise<void> {
    const generation = ++loadGeneration;
    seriesLabel = seriesLabelOf(entry);
    const metadata = inReadingOrder(
      await dicomweb(`${seriesPath(entry.seriesInstanceUid)}/metadata`),
    );
    if (disposed || generation !== loadGeneration || !viewport) return;
    const imageIds: string[] = [];
    for (const instance of metadata) {
      const sop = stringOf(instance, TAG.SOPInstanceUID);
      if (!sop) continue;
      const base = `wadors:${options.root}${seriesPath(entry.seriesInstanceUid)}/instances/${encodeURIComponent(sop)}/frames/`;
      for (let frame = 1; frame <= frameCount(instance); frame++) {
        const imageId = `${base}${frame}`;
        wadors.metaDataManager.add(
          imageId,
          instance as unknown as Parameters<typeof wadors.metaDataManager.add>[1],
        );
        imageIds.push(imageId);
      }
    }
    if (imageIds.length === 0) {
      showMessage(t('imaging:viewer.noSeries'));
      return;
    }
    showMessage(null);
    stage.dataset['rendered'] = 'false';
    await viewport.setStack(imageIds, Math.floor(imageIds.length / 2));
    if (disposed || generation !== loadGeneration) return;
    viewport.render();
    element.dataset['preset'] = 'own';
    showIndex();
    showWindow();
    void prefetch(imageIds, generation);
  }

  /** The whole series into the cache, counted, so scrolling is instant and the reader sees how far it got. */
  async function prefetch(imageIds: string[], generation: number): Promise<void> {
    let done = 0;
    let failed = 0;
    const total = imageIds.length;
    progress.textContent = t('imaging:viewer.loading', { done: 0, total });
    stage.dataset['loadedCount'] = '0';
    await Promise.all(
      imageIds.map((imageId) =>
        imageLoader
          .loadAndCacheImage(imageId)
          .catch(() => failed++)
          .finally(() => {
            done++;
            if (generation !== loadGeneration || disposed) return;
            stage.dataset['loadedCount'] = String(done);
            progress.textContent = t('imaging:viewer.loading', { done, total });
          }),
      ),
    );
    if (generation !== loadGeneration || disposed) return;
    progress.textContent =
      failed > 0
        ? t('imaging:viewer.loadedSomeFailed', { count: total - failed })
        : t('imaging:viewer.loaded', { count: total });
  }

  async function start(): Promise<void> {
    initCornerstone();
    const entries = seriesEntries(await dicomweb(`${studyPath}/series`));
    if (disposed) return;
    if (entries.length === 0) {
      showMessage(t('imaging:viewer.noSeries'));
      return;
    }
    engine = new RenderingEngine(`${id}-engine`);
    engine.enableElement({
      viewportId,
      element: stage as HTMLDivElement,
      type: CoreEnums.ViewportType.STACK,
    });
    viewport = engine.getViewport<StackViewport>(viewportId);
    const group = ToolGroupManager.createToolGroup(id);
    if (!group) throw new Error(t('imaging:viewer.toolsFailed'));
    for (const name of Object.values(TOOL_NAMES)) group.addTool(name);
    group.addTool(StackScrollTool.toolName);
    group.addViewport(viewportId, engine.id);
    group.setToolActive(StackScrollTool.toolName, {
      bindings: [{ mouseButton: ToolEnums.MouseBindings.Wheel }],
    });
    selectTool('window');
    stage.addEventListener(CoreEnums.Events.STACK_NEW_IMAGE, () => showIndex());
    stage.addEventListener(CoreEnums.Events.VOI_MODIFIED, () => showWindow());
    stage.addEventListener(CoreEnums.Events.IMAGE_RENDERED, () => {
      stage.dataset['rendered'] = 'true';
    });
    resizeObserver.observe(stage);
    const first =
      entries.find((entry) => entry.instanceCount !== null && entry.instanceCount > 1) ??
      entries[0]!;
    renderSeriesList(entries, first.seriesInstanceUid);
    await showSeries(first);
  }

  const resizeObserver = new ResizeObserver(() => engine?.resize(true, true));

  // Started once the element is in the page: the rendering engine measures it.
  requestAnimationFrame(() => {
    if (disposed) return;
    start().catch((failure: unknown) => {
      if (!disposed)
        showMessage(
          t('imaging:viewer.failed', {
            why: failure instanceof Error ? failure.message : String(failure),
          }),
        );
    });
  });

  return {
    element,
    dispose() {
      disposed = true;
      loadGeneration++;
      resizeObserver.disconnect();
      ToolGroupManager.destroyToolGroup(id);
      engine?.destroy();
      for (const url of thumbnailUrls) URL.revokeObjectURL(url);
      // The decoded images are large; the next case starts from an empty cache.
      cache.purgeCache();
      wadors.metaDataManager.purge();
    },
  };
}
