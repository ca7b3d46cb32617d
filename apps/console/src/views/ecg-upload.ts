import type { EcgFileAccepted } from '#contracts';
import { h, replaceContent } from '../dom.js';
import { currentLocale, t } from '../i18n/i18n.js';
import { caseHref, type ConsoleContext, type View } from './context.js';

/** What the relay answered one file: its body parsed when it is JSON. */
interface Answer {
  status: number;
  body: unknown;
}

/**
 * POST /api/ecg-files with the file as the raw body (docs/ecg-upload.md). XMLHttpRequest,
 * because fetch reports no upload progress; the browser streams the File from disk.
 */
function sendEcgFile(
  file: Blob,
  token: string,
  onProgress: (fraction: number) => void,
): { promise: Promise<Answer>; abort: () => void } {
  const xhr = new XMLHttpRequest();
  const promise = new Promise<Answer>((resolve, reject) => {
    xhr.open('POST', '/api/ecg-files');
    xhr.setRequestHeader('content-type', 'application/octet-stream');
    xhr.setRequestHeader('authorization', `Bearer ${token}`);
    xhr.upload.onprogress = (event) =>
      onProgress(event.lengthComputable && event.total > 0 ? event.loaded / event.total : 0);
    xhr.onload = () => {
      let body: unknown;
      try {
        body = xhr.responseText ? JSON.parse(xhr.responseText) : undefined;
      } catch {
        body = undefined;
      }
      resolve({ status: xhr.status, body });
    };
    xhr.onerror = () => reject(new Error(t('ecgUpload:unreachable')));
    xhr.onabort = () => reject(new Error(t('ecgUpload:cancelled')));
    xhr.send(file);
  });
  return { promise, abort: () => xhr.abort() };
}

/** The refusal in the page's language: what the status means, then the relay's own reason. */
export function refusalText(status: number, relayMessage: string | null): string {
  const meaning =
    status === 413
      ? t('ecgUpload:refused.tooLarge')
      : status === 415
        ? t('ecgUpload:refused.notEcg')
        : status === 422
          ? t('ecgUpload:refused.unreadable')
          : status === 409
            ? t('ecgUpload:refused.conflict')
            : status === 507
              ? t('ecgUpload:refused.noRoom')
              : status === 401 || status === 403
                ? t('ecgUpload:refused.notAllowed')
                : t('ecgUpload:refused.other', { status });
  // The relay writes English for the log; in Chinese both, in English its sentence alone.
  if (!relayMessage) return meaning;
  return currentLocale() === 'en' && status !== 413
    ? relayMessage
    : `${meaning}（${relayMessage}）`;
}

const FORMAT_NAMES: Record<EcgFileAccepted['format'], string> = {
  'scp-ecg': 'SCP-ECG',
  'hl7-aecg': 'HL7 aECG',
  'dicom-ecg': 'DICOM',
};

/** Megabytes with one decimal, in the page's language. */
function mb(bytes: number): string {
  return new Intl.NumberFormat(currentLocale(), {
    minimumFractionDigits: 1,
    maximumFractionDigits: 1,
  }).format(bytes / (1024 * 1024));
}

/**
 * Clinic staff: files from a hospital electrocardiograph (SCP-ECG, HL7 aECG, DICOM ECG) sent
 * one by one to the relay; each becomes an ECG case like a box's recording.
 */
export function ecgUploadView(ctx: ConsoleContext): View {
  let disposed = false;
  const aborts = new Set<() => void>();
  const input = h('input', {
    type: 'file',
    multiple: true,
    id: 'ecg-files',
    class: 'visually-hidden',
    'data-testid': 'ecg-file-input',
  });
  const files = h('div', { class: 'uploads', 'data-testid': 'ecg-uploads' });
  const dropZone = h(
    'div',
    { class: 'drop-zone', 'data-drop-zone': '' },
    h('p', {}, t('ecgUpload:drop')),
    h(
      'p',
      {},
      t('ecgUpload:or'),
      ' ',
      h('label', { class: 'button secondary', for: 'ecg-files' }, t('ecgUpload:pick')),
    ),
    input,
  );
  const element = h(
    'section',
    { class: 'view upload-view ecg-upload-view', 'aria-labelledby': 'ecg-upload-title' },
    h(
      'div',
      { class: 'view-head' },
      h('a', { class: 'back', href: '#/' }, t('ecgUpload:back')),
      h('h1', { id: 'ecg-upload-title', tabindex: -1 }, t('ecgUpload:title')),
    ),
    h('p', { class: 'intro' }, t('ecgUpload:intro')),
    dropZone,
    files,
  );

  input.addEventListener('change', () => {
    const picked = [...(input.files ?? [])];
    input.value = '';
    void take(picked);
  });
  dropZone.addEventListener('dragover', (event) => {
    event.preventDefault();
    dropZone.classList.add('is-over');
  });
  dropZone.addEventListener('dragleave', () => dropZone.classList.remove('is-over'));
  dropZone.addEventListener('drop', (event) => {
    event.preventDefault();
    dropZone.classList.remove('is-over');
    void take([...(event.dataTransfer?.files ?? [])]);
  });

  /** Each file its card, then sent one at a time (a clinic's line is slow; order is kept). */
  async function take(picked: File[]): Promise<void> {
    const wanted = picked.filter((file) => !file.name.startsWith('.'));
    const cards = wanted.map((file) => ({ file, card: fileCard(file) }));
    for (const { card } of [...cards].reverse()) files.prepend(card.element);
    for (const { file, card } of cards) {
      if (disposed) return;
      await send(file, card);
    }
  }

  async function send(file: File, card: FileCard): Promise<void> {
    card.progress(0);
    const request = sendEcgFile(file, ctx.api.accessToken(), (fraction) => card.progress(fraction));
    aborts.add(request.abort);
    try {
      const answer = await request.promise;
      if (answer.status === 401) ctx.reload();
      if (answer.status === 200 || answer.status === 201) {
        card.accepted(answer.body as EcgFileAccepted);
        ctx.announce(t('ecgUpload:announceAccepted', { name: file.name }));
      } else {
        const message = (answer.body as { message?: unknown } | undefined)?.message;
        card.refused(
          answer.status,
          refusalText(answer.status, typeof message === 'string' ? message : null),
        );
      }
    } catch (failure) {
      card.refused(
        0,
        failure instanceof Error ? failure.message : t('ecgUpload:refused.other', { status: 0 }),
      );
    } finally {
      aborts.delete(request.abort);
    }
  }

  interface FileCard {
    element: HTMLElement;
    progress(fraction: number): void;
    accepted(answer: EcgFileAccepted): void;
    refused(status: number, text: string): void;
  }

  function fileCard(file: File): FileCard {
    const bar = h('progress', { max: 1, value: 0 });
    const state = h('p', { class: 'upload-counts' }, t('ecgUpload:waiting'));
    const outcome = h('div', { class: 'upload-outcome', role: 'status' });
    const element = h(
      'article',
      { class: 'panel upload-card ecg-file-card', 'data-file': file.name, 'data-state': 'waiting' },
      h('h3', {}, file.name),
      bar,
      state,
      outcome,
    );
    return {
      element,
      progress(fraction) {
        bar.value = fraction;
        state.textContent = t('ecgUpload:sending', {
          done: mb(fraction * file.size),
          size: mb(file.size),
        });
        element.dataset['state'] = 'sending';
      },
      accepted(answer) {
        bar.value = 1;
        state.textContent = t('ecgUpload:read', {
          format: FORMAT_NAMES[answer.format],
          leads: answer.leads.length,
          rate: answer.sampleRateHz,
        });
        element.dataset['state'] = answer.outcome;
        element.dataset['caseId'] = answer.caseId;
        replaceContent(
          outcome,
          h(
            'p',
            {},
            answer.outcome === 'created' ? t('ecgUpload:created') : t('ecgUpload:alreadyReceived'),
            ' ',
            h(
              'a',
              {
                class: 'button small secondary',
                href: caseHref(answer.caseId),
                'data-testid': 'open-case',
              },
              t('ecgUpload:openCase'),
            ),
          ),
          answer.deviceMeasurements
            ? h('p', { class: 'hint' }, t('ecgUpload:withMeasurements'))
            : null,
          answer.warnings.length > 0
            ? h(
                'details',
                { class: 'hint' },
                h('summary', {}, t('ecgUpload:notes', { count: answer.warnings.length })),
                h(
                  'ul',
                  {},
                  answer.warnings.map((warning) => h('li', {}, warning)),
                ),
              )
            : null,
        );
      },
      refused(status, text) {
        element.dataset['state'] = 'refused';
        element.dataset['status'] = String(status);
        state.textContent = t('ecgUpload:refusedTitle');
        replaceContent(outcome, h('p', { class: 'alert', 'data-testid': 'refusal' }, text));
      },
    };
  }

  return {
    element,
    dispose() {
      disposed = true;
      for (const abort of aborts) abort();
    },
  };
}
