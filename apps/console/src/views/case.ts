import type {
  CaseAnalysis,
  CaseStatus,
  CaseSummary,
  CaseTransfer,
  DeviceMeasurementValues,
  Diagnosis,
  MeasurementReview,
  PatientSummary,
} from '#contracts';
import { ApiFailure, describeError, summaryOf } from '../api.js';
import { measurementComparison } from '../device-measurements.js';
import { decodeEcg, type EcgTrace } from '../ecg/decode.js';
import { EcgViewer } from '../ecg/viewer.js';
import { h, replaceContent } from '../dom.js';
import { t } from '../i18n/i18n.js';
import {
  caseExamLabel,
  formatDateTime,
  patientLine,
  splitFindings,
  statusLabel,
} from '../format.js';
import { buildReport } from '../report.js';
import {
  MEASUREMENTS,
  formatMeasurement,
  measurementReview,
  type MeasurementKey,
} from '../measurements.js';
import { clearDraft, loadDraft, saveDraft, type Draft } from '../session.js';
import { shortcut } from '../shortcuts.js';
import { agoClock, dueClock, flagList, priorityBadge, statusBadge, tickClocks } from './badges.js';
import type { ConsoleContext, View } from './context.js';
import { phrasePicker } from './phrases.js';
import { priorExamsPanel } from './records.js';

type PanelMode =
  'loading' | 'claim' | 'sign' | 'taken' | 'waiting' | 'returned' | 'signed' | 'moved' | 'failed';

/** Suggestions for the findings field, in the page's language; readers may type anything. */
function commonFindings(): string[] {
  return [
    t('case:finding.sinusRhythm'),
    t('case:finding.sinusBradycardia'),
    t('case:finding.sinusTachycardia'),
    t('case:finding.atrialFibrillation'),
    t('case:finding.atrialFlutter'),
    t('case:finding.pvcs'),
    t('case:finding.firstDegreeAvBlock'),
    t('case:finding.lbbb'),
    t('case:finding.rbbb'),
    t('case:finding.lvh'),
    t('case:finding.stElevation'),
    t('case:finding.stDepression'),
    t('case:finding.tWaveInversion'),
    t('case:finding.prolongedQt'),
    t('case:finding.leadOff'),
  ];
}

/** Well inside the relay's claim lease (CLAIM_LEASE_SECONDS, 120 s by default). */
const KEEP_CLAIM_EVERY_MS = 30_000;

/** One case: the ECG on paper, and the reader's claim and sign form or the clinic's result. */
export function caseView(ctx: ConsoleContext, caseId: string, printRoot: HTMLElement): View {
  const isReader = ctx.user.role === 'reader';
  let summary: CaseSummary | null = ctx.store.get(caseId) ?? null;
  let diagnosis: Diagnosis | null = ctx.store.diagnosis(caseId) ?? null;
  let trace: EcgTrace | null = null;
  /** The automatic analysis, once the case's detail has loaded (null: none for this case). */
  let analysis: CaseAnalysis | null | undefined;
  /** What the electrocardiograph measured, for an ECG that came as a file (null: none). */
  let deviceMeasurements: DeviceMeasurementValues | null = null;
  /** Moves between hospitals, with the escalating reader's note (from the case detail). */
  let transfers: CaseTransfer[] = [];
  /** The registered patient, once the case's detail has loaded (null: not registered). */
  let patient: PatientSummary | null = null;
  /** Puts the suggested measurements into the open sign form once the analysis is known. */
  let fillMeasurements: (() => void) | null = null;
  let mode: PanelMode | null = null;
  let disposed = false;

  const viewer = new EcgViewer();
  /** Where the ECG paper or, for an imaging case, the DICOM viewer goes. */
  const media = h('div', { class: 'case-ecg' }, viewer.element);
  /** Set once the case's kind is known: the ECG is loaded, or the DICOM viewer. */
  let mediaStarted = false;
  let imagingViewer: { dispose(): void } | null = null;
  const title = h('h1', { id: 'case-title', tabindex: -1 }, t('case:title'));
  const badges = h('div', { class: 'badges' });
  const meta = h('dl', { class: 'case-meta' });
  const panel = h('section', { class: 'panel', 'aria-labelledby': 'panel-title' });
  /** The patient's earlier exams across the region, where this user may see them. */
  const priorExams = priorExamsPanel(ctx, caseId);
  const analysisCard = h('section', {
    class: 'panel analysis',
    'aria-labelledby': 'analysis-title',
    hidden: true,
  });
  const element = h(
    'section',
    { class: 'view case-view', 'aria-labelledby': 'case-title' },
    h(
      'div',
      { class: 'view-head' },
      h(
        'a',
        { class: 'back', href: '#/', 'data-testid': 'back' },
        isReader ? t('case:backToWorklist') : t('case:backToCases'),
      ),
      h('div', { class: 'case-title' }, title, badges),
    ),
    meta,
    h(
      'div',
      { class: 'case-body' },
      media,
      // A reader weighs the analysis before signing; the clinic looks for the result first.
      h(
        'div',
        { class: 'case-side' },
        isReader ? [analysisCard, panel] : [panel, analysisCard],
        priorExams.element,
      ),
    ),
  );

  // ---- header -------------------------------------------------------------------------
  function renderHeader(): void {
    if (!summary) return;
    title.textContent = `${caseExamLabel(summary)} · ${summary.clinicName}`;
    replaceContent(badges, priorityBadge(summary.priority), statusBadge(summary.status));
    const item = (label: string, ...value: (Node | string)[]) =>
      h('div', {}, h('dt', {}, label), h('dd', {}, ...value));
    const claimedBy =
      summary.claimedById === ctx.user.id
        ? t('common:you')
        : (summary.claimedByName ?? t('case:nobodyYet'));
    replaceContent(
      meta,
      item(
        t('case:meta.received'),
        formatDateTime(summary.createdAt),
        ' (',
        agoClock(summary.createdAt),
        ')',
      ),
      summary.status === 'awaiting_review' || summary.status === 'in_review'
        ? item(t('case:meta.dueIn'), dueClock(summary.dueAt))
        : null,
      summary.status === 'returned' || summary.status === 'analysing'
        ? null
        : item(
            t('case:meta.reader'),
            summary.status === 'awaiting_review' ? t('case:nobodyYet') : claimedBy,
          ),
      transfers.map((transfer) =>
        item(
          transfer.kind === 'escalated' ? t('case:meta.escalated') : t('case:meta.overflowed'),
          transferText(transfer),
          h('q', { class: 'transfer-note' }, transfer.note),
        ),
      ),
      patient
        ? item(
            t('case:meta.patient'),
            h(
              'span',
              { class: 'patient', 'data-patient-id': patient.id },
              patientLine(patient, new Date(summary.createdAt)),
            ),
          )
        : null,
      item(t('case:meta.case'), h('code', {}, summary.id)),
    );
  }

  /** "从 A 转至 B，由 X 于 … 上转：" — one sentence per way it happened. */
  function transferText(transfer: CaseTransfer): string {
    const words = {
      from: transfer.fromHospitalName,
      to: transfer.toHospitalName,
      by: transfer.byName ?? '',
      time: formatDateTime(transfer.at),
    };
    return transfer.byName ? t('case:meta.transferBy', words) : t('case:meta.transferAuto', words);
  }

  // ---- side panel: what this user can do now -------------------------------------------
  function currentMode(): PanelMode {
    if (!summary) return mode === 'failed' ? 'failed' : 'loading';
    if (summary.status === 'signed') return diagnosis ? 'signed' : 'loading';
    if (summary.status === 'returned') return 'returned';
    if (isReader && summary.hospitalId !== ctx.user.facilityId) return 'moved';
    if (isReader && summary.status === 'awaiting_review') return 'claim';
    if (isReader && summary.status === 'in_review') {
      return summary.claimedById === ctx.user.id ? 'sign' : 'taken';
    }
    return 'waiting';
  }

  /** Rebuilds the panel only when its mode changes, so a live update never eats a draft. */
  function renderPanel(force = false): void {
    const next = currentMode();
    if (next === mode && !force) return;
    mode = next;
    fillMeasurements = null;
    switch (next) {
      case 'loading':
        replaceContent(
          panel,
          panelTitle(t('case:title')),
          h('p', { role: 'status' }, t('common:loading')),
        );
        break;
      case 'failed':
        break;
      case 'claim':
        replaceContent(panel, ...claimPanel());
        break;
      case 'sign':
        replaceContent(panel, signForm(), routeActions());
        break;
      case 'moved':
        replaceContent(
          panel,
          panelTitle(t('case:moved.title')),
          h('p', {}, t('case:moved.text')),
          h(
            'a',
            { class: 'button secondary', href: '#/', 'data-testid': 'back-to-worklist' },
            t('case:backToWorklistButton'),
          ),
        );
        break;
      case 'taken':
        replaceContent(
          panel,
          panelTitle(t('format:status.inReview')),
          h(
            'p',
            {},
            t('case:taken', { name: summary?.claimedByName ?? t('common:anotherReader') }),
          ),
        );
        break;
      case 'waiting':
        replaceContent(
          panel,
          panelTitle(t('case:diagnosis')),
          h('p', { class: 'waiting' }, waitingText(summary?.status)),
        );
        break;
      case 'returned':
        replaceContent(
          panel,
          panelTitle(t('case:returned.title')),
          h(
            'p',
            { class: 'returned-notice' },
            t('case:recordAgainBecause', {
              reason: summary?.returnReason ?? t('case:unreadable'),
            }),
          ),
          h('p', {}, t('case:returned.text')),
        );
        break;
      case 'signed':
        replaceContent(panel, ...signedPanel(diagnosis!));
        break;
    }
  }

  // ---- the automatic analysis: flags, signal quality and (outside the sign form) measurements
  function renderAnalysis(): void {
    const flags = analysis?.flags ?? summary?.flags ?? [];
    const notes = analysis?.qualityNotes ?? [];
    const shown = analysis && mode !== 'sign' ? analysis.measurements : null;
    analysisCard.hidden =
      flags.length === 0 && notes.length === 0 && !analysis && !deviceMeasurements;
    if (analysisCard.hidden) return;
    replaceContent(
      analysisCard,
      h('h2', { id: 'analysis-title' }, t('case:analysis.title')),
      h(
        'p',
        { class: 'hint' },
        analysis
          ? t('case:analysis.hintVersion', { version: analysis.algorithmVersion })
          : t('case:analysis.hint'),
      ),
      flags.length > 0 ? flagList(flags) : h('p', { class: 'muted' }, t('case:analysis.noFlags')),
      notes.length > 0
        ? h(
            'ul',
            { class: 'quality-notes', 'aria-label': t('case:analysis.signalQuality') },
            notes.map((note) => h('li', {}, note)),
          )
        : null,
      // A file's own measurements: a column beside the relay's, also while signing, so the
      // reader compares them with the values being confirmed.
      deviceMeasurements
        ? measurementComparison(analysis?.measurements ?? null, deviceMeasurements)
        : null,
      shown && !deviceMeasurements
        ? h(
            'dl',
            { class: 'measurement-values' },
            MEASUREMENTS.map(({ key, label, unit }) => {
              const value = formatMeasurement(shown[key]);
              return h(
                'div',
                {},
                h('dt', {}, label),
                h('dd', {}, value ? `${value} ${unit}` : '—'),
              );
            }),
          )
        : null,
    );
  }

  function waitingText(status: CaseStatus | undefined): string {
    if (status === 'in_review') return t('case:waiting.inReview');
    if (status === 'awaiting_review') return t('case:waiting.awaitingReview');
    if (status === 'analysing') return t('case:waiting.analysing');
    return status ? t('case:waiting.other', { status: statusLabel(status) }) : t('common:loading');
  }

  function panelTitle(text: string): HTMLElement {
    return h('h2', { id: 'panel-title' }, text);
  }

  function claimPanel(): HTMLElement[] {
    const error = h('p', { class: 'alert', role: 'alert', hidden: true });
    const button = h(
      'button',
      {
        type: 'button',
        class: 'button primary',
        'data-testid': 'claim',
        onclick: () => void claimIt(),
      },
      t('case:claim.button'),
    );
    async function claimIt(): Promise<void> {
      button.disabled = true;
      error.hidden = true;
      try {
        summary = await ctx.api.claim(caseId);
        ctx.store.upsert(summary);
        update();
        document.getElementById('conclusion')?.focus();
      } catch (failure) {
        error.textContent = t('worklist:claimFailed', {
          reason: describeError(failure, { CONFLICT: t('worklist:takenByAnother') }),
        });
        error.hidden = false;
        button.disabled = false;
        if (failure instanceof ApiFailure && failure.status === 409) void refresh();
      }
    }
    return [
      panelTitle(t('format:status.awaitingReview')),
      h('p', {}, t('case:claim.text')),
      error,
      button,
    ];
  }

  /**
   * The analysis's measurements as editable fields, prefilled with its suggestion. Built once
   * the analysis is known; a value the reader changes is sent as a correction.
   */
  function measurementFields(draft: Draft | null, onChange: () => void) {
    const box = h('div', { class: 'measurements' });
    const inputs = new Map<MeasurementKey, HTMLInputElement>();
    const confirm = h('input', {
      id: 'confirm-measurements',
      type: 'checkbox',
      checked: draft?.measurementsConfirmed === true,
    });
    confirm.addEventListener('change', onChange);

    function fill(): void {
      if (inputs.size > 0 || analysis === undefined) return;
      if (analysis === null) {
        replaceContent(box);
        return;
      }
      const suggested = analysis.measurements;
      const rows = MEASUREMENTS.map(({ key, label, unit, min, max }) => {
        const proposal = formatMeasurement(suggested[key]);
        const input = h('input', {
          id: `measure-${key}`,
          name: key,
          type: 'number',
          inputmode: 'numeric',
          step: 1,
          min,
          max,
          'aria-describedby': `measure-${key}-suggested`,
        });
        input.value = draft?.measurements?.[key] ?? proposal;
        const note = h('span', { id: `measure-${key}-suggested`, class: 'suggested' });
        const mark = () => {
          const changed = input.value.trim() !== '' && input.value.trim() !== proposal;
          input.classList.toggle('corrected', changed);
          note.textContent = changed
            ? proposal
              ? t('case:measure.suggested', { unit, value: proposal })
              : t('case:measure.suggestedNone', { unit })
            : proposal
              ? unit
              : t('case:measure.notMeasured', { unit });
        };
        input.addEventListener('input', () => {
          mark();
          onChange();
        });
        mark();
        inputs.set(key, input);
        return h(
          'div',
          { class: 'measure-row' },
          h('label', { for: input.id }, label),
          input,
          note,
        );
      });
      replaceContent(
        box,
        h(
          'fieldset',
          {},
          h('legend', {}, t('case:measure.legend')),
          h('p', { class: 'hint' }, t('case:measure.hint', { version: analysis.algorithmVersion })),
          h('div', { class: 'measure-grid' }, rows),
          h(
            'label',
            { class: 'check', for: 'confirm-measurements' },
            confirm,
            ' ',
            t('case:measure.confirm'),
          ),
        ),
      );
    }

    return {
      element: box,
      fill,
      /** What the reader changed (the other fields hold the suggestion). */
      changed: (): Partial<Record<MeasurementKey, string>> =>
        Object.fromEntries(
          [...inputs]
            .filter(([, input]) => input.classList.contains('corrected'))
            .map(([key, input]) => [key, input.value]),
        ),
      confirmed: () => confirm.checked,
      input: (key: MeasurementKey) => inputs.get(key),
      ready: () => inputs.size > 0,
    };
  }

  function signForm(): HTMLElement {
    const draft = loadDraft(caseId);
    const findings: string[] = draft ? [...draft.findings] : [];
    const suggestions = commonFindings();
    const measures = measurementFields(draft, () => keepDraft());
    fillMeasurements = measures.fill;
    const error = h('p', { class: 'alert', role: 'alert', hidden: true });
    const conclusion = h('textarea', {
      id: 'conclusion',
      name: 'conclusion',
      rows: 5,
      maxlength: 4000,
      required: true,
      'aria-describedby': 'conclusion-hint',
    });
    const chips = h('ul', { class: 'chips', 'aria-label': t('case:sign.findingsAdded') });
    const findingInput = h('input', {
      id: 'findings',
      name: 'findings',
      type: 'text',
      list: 'finding-suggestions',
      autocomplete: 'off',
      'aria-describedby': 'findings-hint',
    });
    const submit = h(
      'button',
      { type: 'submit', class: 'button primary', 'data-testid': 'sign', ...shortcut('sign') },
      t('case:sign.button'),
    );
    conclusion.value = draft?.conclusion ?? '';
    const keepDraft = () =>
      saveDraft(caseId, {
        conclusion: conclusion.value,
        findings,
        ...(measures.ready()
          ? { measurements: measures.changed(), measurementsConfirmed: measures.confirmed() }
          : {}),
      });
    conclusion.addEventListener('input', keepDraft);

    const renderChips = () => {
      keepDraft();
      replaceContent(
        chips,
        findings.map((finding, index) =>
          h(
            'li',
            { class: 'chip' },
            h('span', {}, finding),
            h(
              'button',
              {
                type: 'button',
                'aria-label': t('case:sign.removeFinding', { finding }),
                onclick: () => {
                  findings.splice(index, 1);
                  renderChips();
                  findingInput.focus();
                },
              },
              '×',
            ),
          ),
        ),
      );
    };
    renderChips();
    const takeTyped = () => {
      for (const finding of splitFindings(findingInput.value)) {
        if (!findings.some((known) => known.toLowerCase() === finding.toLowerCase()))
          findings.push(finding);
      }
      findingInput.value = '';
      renderChips();
    };
    findingInput.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' || event.key === ',') {
        event.preventDefault();
        takeTyped();
      } else if (event.key === 'Backspace' && findingInput.value === '' && findings.length > 0) {
        findings.pop();
        renderChips();
      }
    });
    // Picking a suggestion from the list adds it straight away.
    findingInput.addEventListener('input', (event) => {
      if (!(event instanceof InputEvent) && suggestions.includes(findingInput.value)) takeTyped();
    });

    const form = h(
      'form',
      { class: 'sign-form', novalidate: true, 'aria-labelledby': 'panel-title' },
      panelTitle(t('case:diagnosis')),
      measures.element,
      h('label', { for: 'conclusion' }, t('case:sign.conclusion')),
      h('p', { id: 'conclusion-hint', class: 'hint' }, t('case:sign.conclusionHint')),
      conclusion,
      phrasePicker(ctx, conclusion),
      h('label', { for: 'findings' }, t('case:sign.findings')),
      h('p', { id: 'findings-hint', class: 'hint' }, t('case:sign.findingsHint')),
      chips,
      findingInput,
      h(
        'datalist',
        { id: 'finding-suggestions' },
        suggestions.map((value) => h('option', { value })),
      ),
      error,
      submit,
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void signIt();
    });
    async function signIt(): Promise<void> {
      takeTyped();
      error.hidden = true;
      const text = conclusion.value.trim();
      if (!text) {
        error.textContent = t('case:sign.missingConclusion');
        error.hidden = false;
        conclusion.focus();
        return;
      }
      let review: MeasurementReview | undefined;
      if (analysis && measures.ready()) {
        const result = measurementReview(
          analysis.measurements,
          measures.changed(),
          measures.confirmed(),
        );
        if ('invalid' in result) {
          error.textContent = result.message;
          error.hidden = false;
          measures.input(result.invalid)?.focus();
          return;
        }
        review = result.review;
      }
      submit.disabled = true;
      submit.textContent = t('case:sign.signing');
      try {
        diagnosis = await ctx.api.sign(caseId, {
          conclusion: text,
          findings: [...findings],
          ...(review ? { measurementReview: review } : {}),
        });
        clearDraft(caseId);
        if (summary) summary = { ...summary, status: 'signed' };
        ctx.announce(
          summary ? t('case:sign.sentTo', { clinic: summary.clinicName }) : t('case:sign.sent'),
        );
        update();
        document.getElementById('panel-title')?.focus();
      } catch (failure) {
        error.textContent = t('case:sign.failed', {
          reason: describeError(failure, { CONFLICT: t('case:sign.notHeld') }),
        });
        error.hidden = false;
        submit.disabled = false;
        submit.textContent = t('case:sign.button');
        if (failure instanceof ApiFailure && failure.status === 409) void refresh();
      }
    }
    return form;
  }

  /**
   * Instead of signing: escalate to the hospital above (county readers), with a note for
   * its readers, or return the recording to the clinic with the reason.
   */
  function routeActions(): HTMLElement {
    const error = h('p', { class: 'alert', role: 'alert', hidden: true });
    const canEscalate = ctx.user.facilityKind === 'county';
    const note = h('textarea', { id: 'escalate-note', rows: 2, maxlength: 1000 });
    const reason = h('textarea', { id: 'return-reason', rows: 2, maxlength: 500 });
    const act = async (
      field: HTMLTextAreaElement,
      empty: string,
      call: (text: string) => Promise<CaseSummary>,
      done: (moved: CaseSummary) => string,
    ) => {
      error.hidden = true;
      const text = field.value.trim();
      if (!text) {
        error.textContent = empty;
        error.hidden = false;
        field.focus();
        return;
      }
      try {
        const moved = await call(text);
        clearDraft(caseId);
        ctx.store.upsert(moved);
        ctx.announce(done(moved));
        window.location.hash = '#/';
      } catch (failure) {
        error.textContent = describeError(failure, { CONFLICT: t('case:sign.notHeld') });
        error.hidden = false;
        if (failure instanceof ApiFailure && failure.status === 409) void refresh();
      }
    };
    return h(
      'details',
      { class: 'route-actions' },
      h(
        'summary',
        {},
        canEscalate ? t('case:route.summaryEscalate') : t('case:route.summaryReturn'),
      ),
      canEscalate
        ? h(
            'div',
            { class: 'route-action' },
            h('label', { for: 'escalate-note' }, t('case:route.escalateNote')),
            note,
            h(
              'button',
              {
                type: 'button',
                class: 'button secondary',
                onclick: () =>
                  void act(
                    note,
                    t('case:route.escalateMissing'),
                    (text) => ctx.api.escalate(caseId, text),
                    () => t('case:route.escalated'),
                  ),
              },
              t('case:route.escalate'),
            ),
          )
        : null,
      h(
        'div',
        { class: 'route-action' },
        h('label', { for: 'return-reason' }, t('case:route.returnReason')),
        reason,
        h(
          'button',
          {
            type: 'button',
            class: 'button secondary',
            onclick: () =>
              void act(
                reason,
                t('case:route.returnMissing'),
                (text) => ctx.api.returnToClinic(caseId, text),
                (returned) => t('case:route.returned', { clinic: returned.clinicName }),
              ),
          },
          t('case:route.return'),
        ),
      ),
      error,
    );
  }

  function signedPanel(signed: Diagnosis): HTMLElement[] {
    return [
      h('h2', { id: 'panel-title', tabindex: -1 }, t('case:diagnosis')),
      h(
        'div',
        { class: 'diagnosis', 'data-case-id': caseId },
        h('p', { class: 'conclusion' }, signed.conclusion),
        signed.findings.length > 0
          ? h(
              'ul',
              { class: 'chips static', 'aria-label': t('case:sign.findings') },
              signed.findings.map((f) => h('li', { class: 'chip' }, f)),
            )
          : null,
        h(
          'p',
          { class: 'signature' },
          signed.hospitalName
            ? t('case:signatureAt', {
                reader: signed.signedByName,
                hospital: signed.hospitalName,
                time: formatDateTime(signed.signedAt),
              })
            : t('case:signature', {
                reader: signed.signedByName,
                time: formatDateTime(signed.signedAt),
              }),
        ),
      ),
      h(
        'div',
        { class: 'panel-actions' },
        h(
          'button',
          {
            type: 'button',
            class: 'button primary',
            'data-testid': 'print-report',
            onclick: print,
          },
          t('case:printReport'),
        ),
        isReader
          ? h(
              'a',
              { class: 'button secondary', href: '#/', 'data-testid': 'back-to-worklist' },
              t('case:backToWorklistButton'),
            )
          : null,
      ),
    ];
  }

  // ---- printing ------------------------------------------------------------------------
  function preparePrint(): void {
    if (disposed || !summary || !diagnosis) return;
    printRoot.replaceChildren(buildReport(summary, diagnosis, trace, patient));
    document.body.classList.add('printing-report');
  }
  function clearPrint(): void {
    printRoot.replaceChildren();
    document.body.classList.remove('printing-report');
  }
  function print(): void {
    preparePrint();
    window.print();
  }
  window.addEventListener('beforeprint', preparePrint);
  window.addEventListener('afterprint', clearPrint);

  // ---- data ----------------------------------------------------------------------------
  function update(): void {
    if (disposed) return;
    startMedia();
    renderHeader();
    renderPanel();
    fillMeasurements?.();
    renderAnalysis();
  }

  async function refresh(): Promise<void> {
    try {
      const detail = await ctx.api.caseDetail(caseId);
      summary = summaryOf(detail);
      analysis = detail.analysis;
      deviceMeasurements = detail.deviceMeasurements;
      transfers = detail.transfers;
      patient = detail.patient;
      priorExams.show(patient);
      if (detail.diagnosis) diagnosis = detail.diagnosis;
      update();
    } catch (failure) {
      if (disposed) return;
      mode = 'failed';
      if (!mediaStarted) viewer.showMessage(describeError(failure));
      replaceContent(
        panel,
        panelTitle(t('case:unavailable')),
        h('p', { class: 'alert', role: 'alert' }, describeError(failure)),
      );
      title.textContent = t('case:unavailable');
    }
  }

  /** ECG or images, once the case's summary says which. */
  function startMedia(): void {
    if (mediaStarted || !summary) return;
    mediaStarted = true;
    if (summary.study) void loadImages(summary.study.studyInstanceUid);
    else void loadEcg();
  }

  /** The viewer and cornerstone are a chunk of their own: the ECG pages never load them. */
  async function loadImages(studyInstanceUid: string): Promise<void> {
    media.className = 'case-images';
    viewer.showMessage(t('case:loadingImageViewer'));
    try {
      const { openStudyViewer } = await import('../imaging/study-viewer.js');
      if (disposed) return;
      const opened = openStudyViewer({
        root: `${window.location.origin}/dicomweb`,
        studyInstanceUid,
        token: () => ctx.api.accessToken(),
      });
      imagingViewer = opened;
      replaceContent(media, opened.element);
    } catch (failure) {
      if (!disposed)
        viewer.showMessage(t('case:imageViewerFailed', { reason: describeError(failure) }));
    }
  }

  async function loadEcg(): Promise<void> {
    try {
      const ecg = await ctx.api.ecg(caseId);
      if (disposed) return;
      trace = decodeEcg(ecg);
      viewer.show(trace);
    } catch (failure) {
      if (disposed) return;
      viewer.showMessage(
        failure instanceof ApiFailure && failure.status === 404
          ? t('ecg:noneStored')
          : t('ecg:loadFailed', { reason: describeError(failure) }),
      );
    }
  }

  const unsubscribe = ctx.store.subscribe((change) => {
    if (change.type === 'case' && change.summary.id === caseId) {
      summary = change.summary;
      if (summary.status === 'signed' && !diagnosis) void refresh();
      update();
    } else if (change.type === 'diagnosis' && change.diagnosis.caseId === caseId) {
      diagnosis = change.diagnosis;
      if (summary) summary = { ...summary, status: 'signed' };
      update();
    }
  });
  const clock = setInterval(() => tickClocks(meta), 1000);
  // The claim is a lease: while this reader has the case open, keep it; if it lapsed (the
  // laptop slept, the link dropped), re-read the case so the panel says who holds it now.
  const lease = setInterval(() => {
    if (currentMode() !== 'sign') return;
    ctx.api.keepClaim(caseId).catch(() => void refresh());
  }, KEEP_CLAIM_EVERY_MS);

  update();
  void refresh();

  return {
    element,
    dispose() {
      disposed = true;
      unsubscribe();
      clearInterval(clock);
      clearInterval(lease);
      viewer.dispose();
      priorExams.dispose();
      imagingViewer?.dispose();
      window.removeEventListener('beforeprint', preparePrint);
      window.removeEventListener('afterprint', clearPrint);
      clearPrint();
    },
  };
}
