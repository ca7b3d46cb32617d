import type { DeviceSummary, LiveSamples, WatchResult } from '#contracts';
import { describeError } from '../api.js';
import { h, replaceContent } from '../dom.js';
import { LiveTrace } from '../ecg/live.js';
import { currentLocale, t } from '../i18n/i18n.js';
import { ageClock, tickClocks } from './badges.js';
import { caseHref, type ConsoleContext } from './context.js';

/** Online state has no push event, so the list is re-read while it is on screen. */
const DEVICES_REFRESH_MS = 15_000;
const STRIP_SECONDS = 10;
/** No samples for this long: say so, the box may have stopped streaming. */
const QUIET_MS = 3_000;
const WATCH_TIMEOUT_MS = 5_000;
/** A stream the page does not know yet is asked about at most this often. */
const ASK_AGAIN_MS = 1_000;

/** Stands for the ticking age clock inside the translated "seen … ago". */
const AGE_MARK = '\u2063age\u2063';

/**
 * A translated sentence with a live element where `mark` stands: the element keeps ticking
 * while the words around it follow the language (Chinese puts the age first, English in the
 * middle).
 */
function withElement(text: string, mark: string, element: HTMLElement): (string | HTMLElement)[] {
  const [before = '', after = ''] = text.split(mark);
  return [before, element, after].filter((part) => part !== '');
}

function stateLabel(state: 'disabled' | 'online' | 'offline'): string {
  const labels = {
    disabled: t('boxes:state.disabled'),
    online: t('boxes:state.online'),
    offline: t('boxes:state.offline'),
  };
  return labels[state];
}

function oneDecimal(value: number): string {
  return new Intl.NumberFormat(currentLocale(), {
    minimumFractionDigits: 1,
    maximumFractionDigits: 1,
  }).format(value);
}

export interface BoxesPanel {
  /** The clinic's boxes, with "Watch live". */
  list: HTMLElement;
  /** The live trace of the watched box; hidden while nothing is watched. */
  live: HTMLElement;
  dispose(): void;
}

/** The clinic's ECG boxes, and a live view of one of them while it streams. */
export function boxesPanel(ctx: ConsoleContext): BoxesPanel {
  const socket = ctx.socket;
  let devices: DeviceSummary[] | null = null;
  let disposed = false;

  const listError = h('p', { class: 'alert', role: 'alert', hidden: true });
  // Scrolls when a clinic has many boxes: focusable, so the keyboard can scroll it too.
  const items = h('ul', { class: 'box-list', tabindex: 0, 'aria-labelledby': 'boxes-title' });
  const list = h(
    'section',
    { class: 'panel boxes', 'aria-labelledby': 'boxes-title' },
    h('h2', { id: 'boxes-title' }, t('boxes:title')),
    h('p', { class: 'hint' }, t('boxes:hint')),
    listError,
    items,
  );

  async function loadDevices(): Promise<void> {
    try {
      const loaded = await ctx.api.devices();
      if (disposed) return;
      devices = loaded.sort(
        (a, b) => Number(b.online) - Number(a.online) || a.id.localeCompare(b.id),
      );
      listError.hidden = true;
    } catch (failure) {
      if (disposed) return;
      listError.textContent = t('boxes:loadFailed', { why: describeError(failure) });
      listError.hidden = false;
    }
    renderList();
  }

  function renderList(): void {
    if (!devices) {
      replaceContent(items, h('li', { class: 'muted' }, t('boxes:loading')));
      return;
    }
    if (devices.length === 0) {
      replaceContent(items, h('li', { class: 'muted' }, t('boxes:none')));
      return;
    }
    replaceContent(
      items,
      devices.map((device) => {
        const state = device.disabled ? 'disabled' : device.online ? 'online' : 'offline';
        const seen = device.lastSeenAt
          ? [
              ' · ',
              ...withElement(
                t('boxes:seen', { age: AGE_MARK }),
                AGE_MARK,
                ageClock(device.lastSeenAt),
              ),
            ]
          : device.online
            ? []
            : [' · ', t('boxes:neverConnected')];
        return h(
          'li',
          { class: `box-item box-${state}`, 'data-device-id': device.id },
          h('span', { class: 'dot', 'aria-hidden': 'true' }),
          h(
            'span',
            { class: 'box-text' },
            h('span', { class: 'box-name', title: device.id }, device.id),
            h('span', { class: 'box-seen' }, stateLabel(state), seen),
          ),
          h(
            'button',
            {
              type: 'button',
              class: 'button small secondary',
              'data-focus-key': `watch-${device.id}`,
              // Begins with the visible words, so a speech user can say what they see (WCAG 2.5.3).
              'aria-label': t(watching === device.id ? 'boxes:watchingLabel' : 'boxes:watchLabel', {
                device: device.id,
              }),
              'aria-pressed': String(watching === device.id),
              disabled: state !== 'online' || !socket,
              onclick: () => watch(device.id),
            },
            watching === device.id ? t('boxes:watching') : t('boxes:watch'),
          ),
        );
      }),
    );
  }

  // ---- the live view -----------------------------------------------------------------
  let watching: string | null = null;
  let trace: LiveTrace | null = null;
  let lastSampleAt = 0;
  let lastAskAt = 0;
  let asking = false;

  const liveTitle = h('h2', { id: 'live-title', tabindex: -1 }, t('boxes:live'));
  const liveStatus = h('p', { class: 'live-status', role: 'status' });
  const stripResult = h('p', { class: 'strip-result', 'aria-live': 'polite' });
  const storeButton = h(
    'button',
    { type: 'button', class: 'button primary', onclick: () => void storeStrip() },
    t('boxes:store', { count: STRIP_SECONDS }),
  );
  const traceHost = h('div', { class: 'live-trace' });
  const live = h(
    'section',
    { class: 'panel live', 'aria-labelledby': 'live-title', hidden: true },
    h(
      'div',
      { class: 'live-head' },
      liveTitle,
      liveStatus,
      h(
        'div',
        { class: 'panel-actions' },
        storeButton,
        h(
          'button',
          { type: 'button', class: 'button secondary', onclick: () => stopWatching() },
          t('boxes:stop'),
        ),
      ),
    ),
    traceHost,
    stripResult,
  );

  function watch(deviceId: string): void {
    if (watching === deviceId) return;
    stopWatching();
    watching = deviceId;
    trace = new LiveTrace();
    lastSampleAt = 0;
    replaceContent(traceHost, trace.element);
    liveTitle.textContent = t('boxes:liveTitle', { device: deviceId });
    stripResult.textContent = '';
    showStatus('connecting', t('boxes:connecting'));
    updateStoreButton();
    live.hidden = false;
    renderList();
    liveTitle.focus({ preventScroll: true });
    live.scrollIntoView({ block: 'nearest' });
    ask();
  }

  /** Joins the box's stream room (again, after a reconnect) and learns what it streams. */
  function ask(): void {
    if (!socket || !watching || asking) return;
    const deviceId = watching;
    asking = true;
    lastAskAt = Date.now();
    socket
      .timeout(WATCH_TIMEOUT_MS)
      .emit('stream.watch', { deviceId }, (failure: Error | null, result: WatchResult) => {
        asking = false;
        if (disposed || watching !== deviceId || !trace) return;
        if (failure) {
          showStatus('no-answer', t('boxes:noAnswer'));
        } else if (!result.ok) {
          showStatus('refused', t('boxes:cannotWatch', { why: result.error }));
        } else if (!result.stream) {
          showStatus('not-streaming', t('boxes:notStreaming'));
        } else if (trace.streamId !== result.stream.streamId) {
          trace.start(result.stream);
          lastSampleAt = Date.now();
          showStatus('live', t('boxes:liveLeads', { leads: result.stream.leads.join(', ') }));
        }
        updateStoreButton();
      });
  }

  function onSamples(samples: LiveSamples): void {
    if (samples.deviceId !== watching || !trace) return;
    if (samples.streamId !== trace.streamId) {
      // A stream that started after we asked: learn its leads and rate first.
      if (Date.now() - lastAskAt > ASK_AGAIN_MS) ask();
      return;
    }
    const quiet = Date.now() - lastSampleAt > QUIET_MS;
    lastSampleAt = Date.now();
    trace.push(samples);
    if (quiet) showStatus('live', t('boxes:live'));
  }

  function stopWatching(): void {
    if (!watching) return;
    socket?.emit('stream.unwatch', { deviceId: watching });
    watching = null;
    trace?.dispose();
    trace = null;
    live.hidden = true;
    replaceContent(traceHost);
    renderList();
  }

  /** The live view's state in words, and as `data-state` for whatever watches the page. */
  function showStatus(state: string, text: string): void {
    liveStatus.dataset['state'] = state;
    liveStatus.textContent = text;
  }

  function updateStoreButton(): void {
    storeButton.disabled = !trace?.streamId;
  }

  function tick(): void {
    tickClocks(items);
    if (trace?.streamId && lastSampleAt && Date.now() - lastSampleAt > QUIET_MS) {
      const seconds = Math.round((Date.now() - lastSampleAt) / 1000);
      showStatus('quiet', t('boxes:quiet', { count: seconds }));
    }
  }

  async function storeStrip(): Promise<void> {
    const deviceId = watching;
    if (!deviceId) return;
    storeButton.disabled = true;
    stripResult.className = 'strip-result';
    stripResult.dataset['state'] = 'storing';
    stripResult.textContent = t('boxes:storing');
    try {
      const stored = await ctx.api.storeStrip(deviceId, STRIP_SECONDS);
      if (disposed) return;
      replaceContent(
        stripResult,
        t('boxes:stored', { seconds: oneDecimal(stored.seconds) }),
        ' ',
        h('a', { href: caseHref(stored.caseId) }, t('boxes:openCase')),
      );
      stripResult.dataset['state'] = 'stored';
      ctx.announce(t('boxes:storedAnnounce', { seconds: oneDecimal(stored.seconds) }));
    } catch (failure) {
      if (disposed) return;
      stripResult.className = 'strip-result alert';
      stripResult.dataset['state'] = 'failed';
      stripResult.textContent = t('boxes:notStored', { why: describeError(failure) });
    } finally {
      updateStoreButton();
    }
  }

  // The relay forgets a socket's stream rooms when it drops; join again after a reconnect.
  const onReady = () => {
    if (watching) ask();
  };
  socket?.on('stream.samples', onSamples);
  socket?.on('session.ready', onReady);
  const clock = setInterval(tick, 1000);
  const refresher = setInterval(() => void loadDevices(), DEVICES_REFRESH_MS);
  renderList();
  void loadDevices();

  return {
    list,
    live,
    dispose() {
      stopWatching();
      disposed = true;
      socket?.off('stream.samples', onSamples);
      socket?.off('session.ready', onReady);
      clearInterval(clock);
      clearInterval(refresher);
    },
  };
}
