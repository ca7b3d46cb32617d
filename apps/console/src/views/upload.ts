import type { CasePriority, ImagingStudy } from '#contracts';
import { ApiFailure, describeError } from '../api.js';
import { h, replaceContent } from '../dom.js';
import { PRIORITY_LABEL, formatDateTime, statusLabel } from '../format.js';
import { currentLocale, t } from '../i18n/i18n.js';
import type { PickedDicom } from '../imaging/dicom-file.js';
import { batches, failureText, parseStowResponse, sendStow } from '../imaging/stow.js';
import { statusBadge } from './badges.js';
import { caseHref, type ConsoleContext, type View } from './context.js';

const MAX_BATCH_BYTES = 16 * 1024 * 1024;
const MAX_BATCH_FILES = 25;

/** Megabytes with one decimal, in the page's language. */
function mb(bytes: number): string {
  return new Intl.NumberFormat(currentLocale(), {
    minimumFractionDigits: 1,
    maximumFractionDigits: 1,
  }).format(bytes / (1024 * 1024));
}

/** What a picked study is called on its card: modality, description, patient as the file says. */
function studyHeading(picked: PickedDicom): string {
  return (
    [picked.modality, picked.description, picked.patientName].filter(Boolean).join(' · ') ||
    t('upload:studyFallback')
  );
}

interface PickedFile {
  file: File;
  name: string;
  picked: PickedDicom | null;
}

/** Clinic staff: DICOM files to the relay by STOW-RS, and the clinic's studies with "mark complete". */
export function uploadView(ctx: ConsoleContext): View {
  let disposed = false;
  let studies: ImagingStudy[] | null = null;
  const aborts = new Set<() => void>();

  const filesInput = h('input', {
    type: 'file',
    multiple: true,
    id: 'upload-files',
    class: 'visually-hidden',
  });
  const folderInput = h('input', {
    type: 'file',
    multiple: true,
    webkitdirectory: true,
    id: 'upload-folder',
    class: 'visually-hidden',
  });
  const notice = h('p', { class: 'hint', role: 'status' });
  const uploads = h('div', { class: 'uploads' });
  const studiesError = h('p', { class: 'alert', role: 'alert', hidden: true });
  const studiesBody = h('tbody');
  const dropZone = h(
    'div',
    { class: 'drop-zone', 'data-drop-zone': '' },
    h('p', {}, t('upload:drop')),
    h(
      'p',
      {},
      t('upload:or'),
      ' ',
      h('label', { class: 'button secondary', for: 'upload-files' }, t('upload:pickFiles')),
      ' ',
      h('label', { class: 'button secondary', for: 'upload-folder' }, t('upload:pickFolder')),
    ),
    filesInput,
    folderInput,
  );
  const element = h(
    'section',
    { class: 'view upload-view', 'aria-labelledby': 'upload-title' },
    h(
      'div',
      { class: 'view-head' },
      h('a', { class: 'back', href: '#/' }, t('upload:back')),
      h('h1', { id: 'upload-title', tabindex: -1 }, t('upload:title')),
    ),
    h('p', { class: 'intro' }, t('upload:intro')),
    dropZone,
    notice,
    uploads,
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'studies-title' },
      h('h2', { id: 'studies-title' }, t('upload:studies')),
      studiesError,
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'cases imaging-studies' },
          h('caption', {}, t('upload:studiesCaption')),
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', { scope: 'col' }, t('upload:columns.lastImage')),
              h('th', { scope: 'col' }, t('upload:columns.study')),
              h('th', { scope: 'col' }, t('upload:columns.images')),
              h('th', { scope: 'col' }, t('upload:columns.state')),
              h('th', { scope: 'col' }, t('upload:columns.diagnosis')),
              h(
                'th',
                { scope: 'col' },
                h('span', { class: 'visually-hidden' }, t('upload:columns.action')),
              ),
            ),
          ),
          studiesBody,
        ),
      ),
    ),
  );

  for (const input of [filesInput, folderInput]) {
    input.addEventListener('change', () => {
      const files = [...(input.files ?? [])].map((file) => ({
        file,
        name: file.webkitRelativePath || file.name,
      }));
      input.value = '';
      void take(files);
    });
  }
  dropZone.addEventListener('dragover', (event) => {
    event.preventDefault();
    dropZone.classList.add('is-over');
  });
  dropZone.addEventListener('dragleave', () => dropZone.classList.remove('is-over'));
  dropZone.addEventListener('drop', (event) => {
    event.preventDefault();
    dropZone.classList.remove('is-over');
    void droppedFiles(event.dataTransfer).then(take);
  });

  /** Reads the picked files' study UIDs, then sends each study in turn. */
  async function take(files: { file: File; name: string }[]): Promise<void> {
    const wanted = files.filter(
      ({ file }) => file.name !== 'DICOMDIR' && !file.name.startsWith('.'),
    );
    const skipped = files.length - wanted.length;
    if (wanted.length === 0) {
      notice.textContent = skipped > 0 ? t('upload:skipped', { count: skipped }) : '';
      return;
    }
    notice.textContent = t('upload:reading', { count: wanted.length });
    const { readPickedDicom } = await import('../imaging/dicom-file.js');
    const picked: PickedFile[] = [];
    for (const entry of wanted) {
      picked.push({ ...entry, picked: await readPickedDicom(entry.file).catch(() => null) });
      if (disposed) return;
    }
    notice.textContent = skipped > 0 ? t('upload:skipped', { count: skipped }) : '';
    const byStudy = new Map<string, PickedFile[]>();
    const unreadable: PickedFile[] = [];
    for (const item of picked) {
      if (!item.picked) unreadable.push(item);
      else
        byStudy.set(item.picked.studyInstanceUid, [
          ...(byStudy.get(item.picked.studyInstanceUid) ?? []),
          item,
        ]);
    }
    const jobs = [...byStudy].map(([uid, items]) => ({
      card: studyCard(uid, studyHeading(items[0]!.picked!), items),
      items,
      url: `/dicomweb/studies/${encodeURIComponent(uid)}`,
      // A study's files go together; the relay's answer names each instance.
      perFile: false,
    }));
    if (unreadable.length > 0) {
      jobs.push({
        card: studyCard('', t('upload:unreadable'), unreadable),
        items: unreadable,
        url: '/dicomweb/studies',
        // Without a SOP instance UID, only one file per request ties a refusal to its file.
        perFile: true,
      });
    }
    for (const job of jobs) uploads.prepend(job.card.element);
    for (const job of jobs) {
      if (disposed) return;
      await send(job.card, job.items, job.url, job.perFile);
    }
    void loadStudies();
  }

  async function send(
    card: StudyCard,
    items: PickedFile[],
    url: string,
    perFile: boolean,
  ): Promise<void> {
    const groups = perFile
      ? items.map((item) => [item])
      : batches(
          items.map((item) => ({ ...item, size: item.file.size })),
          MAX_BATCH_BYTES,
          MAX_BATCH_FILES,
        );
    const totalBytes = items.reduce((sum, item) => sum + item.file.size, 0);
    let doneBytes = 0;
    let sentFiles = 0;
    let stored = 0;
    let refused = 0;
    card.progress(0, items.length, 0, totalBytes);
    for (const group of groups) {
      if (disposed) return;
      const groupBytes = group.reduce((sum, item) => sum + item.file.size, 0);
      const request = sendStow(
        url,
        ctx.api.accessToken(),
        group.map((item) => item.file),
        ({ loaded, total }) =>
          card.progress(
            sentFiles,
            items.length,
            doneBytes + (total > 0 ? (loaded / total) * groupBytes : 0),
            totalBytes,
          ),
      );
      aborts.add(request.abort);
      try {
        const response = await request.promise;
        if (response.status === 401) ctx.reload();
        const result = parseStowResponse(response.body);
        const bySop = new Map(group.map((item) => [item.picked?.sopInstanceUid, item]));
        stored += result.stored.length;
        refused += result.failed.length;
        for (const failure of result.failed) {
          const file =
            (failure.sopInstanceUid && bySop.get(failure.sopInstanceUid)) ||
            (group.length === 1 ? group[0] : undefined);
          card.refusal(
            t('upload:refusedFile', {
              name: file?.name ?? failure.sopInstanceUid ?? '?',
              why: failureText(failure),
            }),
          );
        }
        // An answer that is not a STOW response (413 before the body was read, 507, 5xx…) refuses the whole request.
        if (result.stored.length === 0 && result.failed.length === 0 && response.status >= 400) {
          refused += group.length;
          const message = (response.body as { message?: unknown } | undefined)?.message;
          const why =
            typeof message === 'string'
              ? message
              : t('upload:relayAnswered', { status: response.status });
          for (const item of group) card.refusal(t('upload:refusedFile', { name: item.name, why }));
        }
      } catch (failure) {
        refused += group.length;
        card.refusal(t('upload:requestFailed', { why: describeError(failure) }));
      } finally {
        aborts.delete(request.abort);
      }
      sentFiles += group.length;
      doneBytes += groupBytes;
      card.progress(sentFiles, items.length, doneBytes, totalBytes);
      card.outcome(stored, refused);
    }
  }

  interface StudyCard {
    element: HTMLElement;
    progress(sent: number, total: number, bytes: number, totalBytes: number): void;
    outcome(stored: number, refused: number): void;
    refusal(text: string): void;
  }

  function studyCard(studyUid: string, heading: string, items: PickedFile[]): StudyCard {
    const bar = h('progress', { max: 1, value: 0 });
    const counts = h('p', { class: 'upload-counts' }, t('upload:waiting'));
    const outcome = h('p', { class: 'upload-outcome', role: 'status' });
    const refusals = h('ul', { class: 'refusals' });
    const element = h(
      'article',
      { class: 'panel upload-card', 'data-study-uid': studyUid, 'data-files': items.length },
      h('h3', {}, heading),
      bar,
      counts,
      outcome,
      refusals,
    );
    return {
      element,
      progress(sent, total, bytes, totalBytes) {
        bar.max = Math.max(totalBytes, 1);
        bar.value = bytes;
        counts.textContent = t('upload:progress', {
          sent,
          count: total,
          done: mb(bytes),
          size: mb(totalBytes),
        });
        element.dataset['sent'] = String(sent);
      },
      outcome(stored, refused) {
        outcome.textContent =
          refused > 0
            ? t('upload:outcomeWithRefused', { stored, refused })
            : t('upload:outcome', { stored });
        element.dataset['stored'] = String(stored);
        element.dataset['refused'] = String(refused);
      },
      refusal(text) {
        refusals.append(h('li', {}, text));
      },
    };
  }

  // ---- the clinic's studies ------------------------------------------------------------
  async function loadStudies(): Promise<void> {
    try {
      const list = await ctx.api.imagingStudies();
      if (disposed) return;
      studies = list;
      studiesError.hidden = true;
      renderStudies();
    } catch (failure) {
      if (disposed || (failure instanceof ApiFailure && failure.status === 401)) return;
      studiesError.textContent = t('upload:studiesFailed', { why: describeError(failure) });
      studiesError.hidden = false;
    }
  }

  function renderStudies(): void {
    if (!studies) {
      replaceContent(studiesBody, emptyRow(t('upload:loadingStudies')));
      return;
    }
    if (studies.length === 0) {
      replaceContent(studiesBody, emptyRow(t('upload:noStudies')));
      return;
    }
    const ordered = [...studies].sort((a, b) => b.lastInstanceAt.localeCompare(a.lastInstanceAt));
    replaceContent(studiesBody, ordered.map(studyRow));
  }

  function studyRow(study: ImagingStudy): HTMLTableRowElement {
    const label =
      [study.modalities.join('/'), study.description].filter(Boolean).join(' · ') ||
      study.studyInstanceUid;
    const summary = study.caseId ? ctx.store.get(study.caseId) : undefined;
    const diagnosis = study.caseId ? ctx.store.diagnosis(study.caseId) : undefined;
    return h(
      'tr',
      { 'data-study-uid': study.studyInstanceUid, 'data-state': study.state },
      h('td', {}, formatDateTime(study.lastInstanceAt)),
      h('td', {}, label),
      h(
        'td',
        {},
        t('upload:imageCount', { images: study.instanceCount, count: study.seriesCount }),
      ),
      h(
        'td',
        {},
        study.state === 'receiving'
          ? t('upload:stateReceiving')
          : summary
            ? statusBadge(summary.status)
            : t('upload:stateQueued'),
      ),
      h(
        'td',
        { class: 'diagnosis-cell' },
        diagnosis
          ? h('p', { class: 'conclusion' }, diagnosis.conclusion)
          : study.caseId
            ? h(
                'span',
                { class: 'muted' },
                summary ? statusLabel(summary.status) : t('upload:waitingReader'),
              )
            : null,
      ),
      h(
        'td',
        { class: 'action' },
        study.state === 'receiving'
          ? completeControl(study, label)
          : study.caseId
            ? h(
                'a',
                { class: 'button small secondary', href: caseHref(study.caseId) },
                t('upload:openCase'),
              )
            : null,
      ),
    );
  }

  function completeControl(study: ImagingStudy, label: string): HTMLElement {
    const id = `priority-${study.studyInstanceUid}`;
    const select = h(
      'select',
      { id, 'aria-label': t('upload:priorityFor', { study: label }) },
      (['routine', 'urgent', 'stat'] as CasePriority[]).map((priority) =>
        h('option', { value: priority }, PRIORITY_LABEL[priority]),
      ),
    );
    const error = h('p', { class: 'alert', role: 'alert', hidden: true });
    const button = h(
      'button',
      {
        type: 'button',
        class: 'button small primary',
        'aria-label': t('upload:completeFor', { study: label }),
        onclick: () => void complete(),
      },
      t('upload:complete'),
    );
    async function complete(): Promise<void> {
      button.disabled = true;
      button.textContent = t('upload:completing');
      error.hidden = true;
      try {
        await ctx.api.completeStudy(study.studyInstanceUid, select.value as CasePriority);
        ctx.announce(t('upload:completed', { study: label }));
        await loadStudies();
      } catch (failure) {
        error.textContent = describeError(failure);
        error.hidden = false;
        button.disabled = false;
        button.textContent = t('upload:complete');
        if (failure instanceof ApiFailure && failure.status === 409) void loadStudies();
      }
    }
    return h('div', { class: 'complete-control' }, select, button, error);
  }

  // A case made from a study (marked complete here or after the quiet period) and its
  // diagnosis come over the socket into the store.
  const unsubscribe = ctx.store.subscribe((change) => {
    if (change.type === 'case' && change.added && change.summary.study) void loadStudies();
    else renderStudies();
  });
  renderStudies();
  void loadStudies();

  return {
    element,
    dispose() {
      disposed = true;
      unsubscribe();
      for (const abort of aborts) abort();
    },
  };
}

function emptyRow(text: string): HTMLTableRowElement {
  return h('tr', {}, h('td', { colspan: 6, class: 'empty' }, text));
}

/** A drop's files, folders walked (FileSystemEntry API; browsers give folders no other way). */
async function droppedFiles(
  transfer: DataTransfer | null,
): Promise<{ file: File; name: string }[]> {
  if (!transfer) return [];
  const entries = [...transfer.items]
    .map((item) => item.webkitGetAsEntry())
    .filter((entry): entry is FileSystemEntry => entry !== null);
  if (entries.length === 0) return [...transfer.files].map((file) => ({ file, name: file.name }));
  const out: { file: File; name: string }[] = [];
  async function walk(entry: FileSystemEntry): Promise<void> {
    if (entry.isFile) {
      const file = await new Promise<File>((resolve, reject) =>
        (entry as FileSystemFileEntry).file(resolve, reject),
      );
      out.push({ file, name: entry.fullPath.replace(/^\//, '') });
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      // readEntries answers in chunks until it answers an empty list.
      for (;;) {
        const chunk = await new Promise<FileSystemEntry[]>((resolve, reject) =>
          reader.readEntries(resolve, reject),
        );
        if (chunk.length === 0) break;
        for (const child of chunk) await walk(child);
      }
    }
  }
  for (const entry of entries) await walk(entry);
  return out;
}
