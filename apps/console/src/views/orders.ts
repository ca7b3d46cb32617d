import {
  CreateExamOrderSchema,
  DOCUMENT_TYPES,
  EXAM_URGENCIES,
  nationalIdBirthDate,
  nationalIdCheckCharacter,
  nationalIdSchema,
  nationalIdSex,
  type CreatedExamOrder,
  type DocumentType,
  type ExamOrder,
  type RepeatExamWarning,
} from '#contracts';
import { describeError } from '../api.js';
import { h, replaceContent } from '../dom.js';
import { PRIORITY_LABEL, formatDateTime, patientLine } from '../format.js';
import { t } from '../i18n/i18n.js';
import type { ConsoleContext, View } from './context.js';

/** An earlier exam the repeat warning names: what, where, when. */
function earlierExam(exam: RepeatExamWarning['earlierExams'][number]): string {
  const at = formatDateTime(exam.at);
  if (exam.kind === 'ecg') return t('orders:earlierEcg', { facility: exam.facilityName, at });
  const what = `${exam.modality ?? ''} ${exam.bodyPart ?? ''}`.trim();
  return t('orders:earlierImaging', { exam: what, facility: exam.facilityName, at });
}

/**
 * Why a resident ID number is not valid, in the page's language. The contracts' schema decides
 * validity; this names its three checks (GB 11643: shape, check character, date of birth) in
 * the order the schema applies them.
 */
function idProblem(value: string): string {
  const id = value.trim().toUpperCase();
  if (!/^\d{17}[\dX]$/.test(id)) return t('orders:idProblem.format');
  if (nationalIdCheckCharacter(id.slice(0, 17)) !== id[17])
    return t('orders:idProblem.checkCharacter');
  return t('orders:idProblem.birthDate');
}

/** `ABCD2345` → `ABCD-2345`, as the operator reads it off the screen. */
export function formatOrderNumber(orderNumber: string): string {
  return `${orderNumber.slice(0, 4)}-${orderNumber.slice(4)}`;
}

type FormField =
  | 'documentType'
  | 'idNumber'
  | 'name'
  | 'sex'
  | 'birthDate'
  | 'kind'
  | 'modality'
  | 'bodyPart'
  | 'indication'
  | 'urgency';

/** The form's labels, built when asked so they follow a language switch. */
function fieldLabel(field: FormField): string {
  const labels: Record<FormField, string> = {
    documentType: t('orders:documentType'),
    idNumber: t('orders:idNumber'),
    name: t('orders:name'),
    sex: t('orders:sex'),
    birthDate: t('orders:birthDate'),
    kind: t('orders:kind'),
    modality: t('orders:modality'),
    bodyPart: t('orders:bodyPart'),
    indication: t('orders:indication'),
    urgency: t('orders:urgency'),
  };
  return labels[field];
}

function documentLabel(type: DocumentType): string {
  const labels: Record<DocumentType, string> = {
    resident_id: t('orders:document.resident_id'),
    passport: t('orders:document.passport'),
    other: t('orders:document.other'),
  };
  return labels[type];
}

type SchemaIssue = NonNullable<
  ReturnType<typeof CreateExamOrderSchema.safeParse>['error']
>['issues'][number];

function isFormField(name: string): name is FormField {
  return [
    'documentType',
    'idNumber',
    'name',
    'sex',
    'birthDate',
    'kind',
    'modality',
    'bodyPart',
    'indication',
    'urgency',
  ].includes(name);
}

/**
 * The problems the contracts' schema found in the form, said in the page's language: the
 * schema's own messages are English, so each issue's field and kind choose the sentence.
 */
function formProblems(issues: readonly SchemaIssue[], idNumber: string): string[] {
  const problems = issues.map((issue) => {
    const last = issue.path.at(-1);
    const field = typeof last === 'string' && isFormField(last) ? last : null;
    const label = field ? fieldLabel(field) : issue.path.join('.');
    if (issue.code === 'custom') {
      if (field === 'idNumber')
        return t('orders:problem.idNumber', { field: label, why: idProblem(idNumber) });
      if (field === 'sex') return t('orders:problem.sexMismatch');
      if (field === 'birthDate') return t('orders:problem.birthDateMismatch');
    }
    if (issue.code === 'too_small') return t('orders:problem.required', { field: label });
    if (issue.code === 'too_big')
      return t('orders:problem.tooLong', { field: label, max: Number(issue.maximum) });
    return t('orders:problem.invalid', { field: label });
  });
  // A resident ID failing several checks comes as several issues; one sentence says it.
  return [...new Set(problems)];
}

/** The clinic's exam registration: patient and order, the order number shown large. */
export function ordersView(ctx: ConsoleContext): View {
  let disposed = false;
  const field = (label: string, control: HTMLElement, hint?: HTMLElement) =>
    h('label', { class: 'field' }, h('span', { class: 'field-label' }, label), control, hint);

  const documentType = h(
    'select',
    { name: 'documentType' },
    DOCUMENT_TYPES.map((type) => h('option', { value: type }, documentLabel(type))),
  );
  const idNumber = h('input', {
    name: 'idNumber',
    autocomplete: 'off',
    spellcheck: 'false',
    maxlength: 32,
    required: true,
  });
  const idFeedback = h('span', { class: 'hint', 'data-id-feedback': '' }, t('orders:idHint'));
  const name = h('input', { name: 'name', maxlength: 100, required: true, autocomplete: 'off' });
  const sex = h(
    'select',
    { name: 'sex' },
    h('option', { value: '' }, t('orders:sexOption.fromId')),
    h('option', { value: 'female' }, t('orders:sexOption.female')),
    h('option', { value: 'male' }, t('orders:sexOption.male')),
    h('option', { value: 'unknown' }, t('orders:sexOption.unknown')),
  );
  const birthDate = h('input', { name: 'birthDate', type: 'date' });
  const kind = h(
    'select',
    { name: 'kind' },
    h('option', { value: 'ecg' }, t('orders:kindOption.ecg')),
    h('option', { value: 'imaging' }, t('orders:kindOption.imaging')),
  );
  const modality = h('input', { name: 'modality', maxlength: 16, autocomplete: 'off' });
  const bodyPart = h('input', { name: 'bodyPart', maxlength: 16, autocomplete: 'off' });
  const imagingFields = h(
    'div',
    { class: 'imaging-fields', hidden: true },
    field(t('orders:modality'), modality),
    field(t('orders:bodyPart'), bodyPart),
  );
  const indication = h('textarea', { name: 'indication', maxlength: 500, required: true, rows: 2 });
  const urgency = h(
    'select',
    { name: 'urgency' },
    EXAM_URGENCIES.map((value) =>
      h('option', { value, selected: value === 'routine' }, PRIORITY_LABEL[value]),
    ),
  );
  const submit = h('button', { type: 'submit', class: 'button primary' }, t('orders:submit'));
  const formError = h('p', { class: 'alert', role: 'alert', hidden: true });
  const result = h('section', { class: 'panel order-result', hidden: true, 'aria-live': 'polite' });
  const openBody = h('tbody');
  const openError = h('p', { class: 'alert', role: 'alert', hidden: true });

  const form = h(
    'form',
    { class: 'panel order-form', novalidate: true },
    h(
      'fieldset',
      {},
      h('legend', {}, t('orders:legendPatient')),
      field(fieldLabel('documentType'), documentType),
      field(fieldLabel('idNumber'), idNumber, idFeedback),
      field(fieldLabel('name'), name),
      field(fieldLabel('sex'), sex),
      field(fieldLabel('birthDate'), birthDate),
    ),
    h(
      'fieldset',
      {},
      h('legend', {}, t('orders:legendExam')),
      field(fieldLabel('kind'), kind),
      imagingFields,
      field(fieldLabel('indication'), indication),
      field(fieldLabel('urgency'), urgency),
    ),
    formError,
    h('div', { class: 'panel-actions' }, submit),
  );

  const element = h(
    'section',
    { class: 'view orders-view', 'aria-labelledby': 'orders-title' },
    h(
      'div',
      { class: 'view-head' },
      h('a', { class: 'back', href: '#/' }, t('orders:back')),
      h('h1', { id: 'orders-title', tabindex: -1 }, t('orders:title')),
    ),
    h('p', { class: 'intro' }, t('orders:intro')),
    h('div', { class: 'orders-body' }, form, result),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'open-orders-title' },
      h('h2', { id: 'open-orders-title' }, t('orders:open')),
      openError,
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'cases open-orders' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', { scope: 'col' }, t('orders:columns.registered')),
              h('th', { scope: 'col' }, t('orders:columns.orderNumber')),
              h('th', { scope: 'col' }, t('orders:columns.patient')),
              h('th', { scope: 'col' }, t('orders:columns.exam')),
              h('th', { scope: 'col' }, t('orders:columns.urgency')),
            ),
          ),
          openBody,
        ),
      ),
    ),
  );

  /** Feedback while typing: a resident ID is checked here as the relay will check it. */
  function checkId(): void {
    const type = documentType.value as DocumentType;
    const value = idNumber.value.trim();
    idNumber.removeAttribute('aria-invalid');
    if (type !== 'resident_id' || value === '') {
      idFeedback.textContent = t('orders:idHint');
      return;
    }
    const parsed = nationalIdSchema.safeParse(value);
    if (parsed.success) {
      idFeedback.textContent = t('orders:idValid', {
        birth: nationalIdBirthDate(parsed.data) ?? '?',
        sex: t(
          nationalIdSex(parsed.data) === 'female' ? 'orders:idSex.female' : 'orders:idSex.male',
        ),
      });
      idFeedback.dataset['valid'] = 'true';
    } else {
      idNumber.setAttribute('aria-invalid', 'true');
      idFeedback.textContent = idProblem(value);
      idFeedback.dataset['valid'] = 'false';
    }
  }
  idNumber.addEventListener('input', checkId);
  documentType.addEventListener('change', checkId);
  kind.addEventListener('change', () => {
    imagingFields.hidden = kind.value !== 'imaging';
  });

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void send();
  });

  async function send(): Promise<void> {
    const body = {
      patient: {
        documentType: documentType.value,
        idNumber: idNumber.value,
        name: name.value,
        ...(sex.value ? { sex: sex.value } : {}),
        ...(birthDate.value ? { birthDate: birthDate.value } : {}),
      },
      kind: kind.value,
      ...(kind.value === 'imaging' ? { modality: modality.value, bodyPart: bodyPart.value } : {}),
      indication: indication.value,
      urgency: urgency.value,
    };
    // The same schema the relay applies: most mistakes are named before anything is sent.
    const checked = CreateExamOrderSchema.safeParse(body);
    if (!checked.success) {
      formError.textContent = formProblems(checked.error.issues, idNumber.value).join(' ');
      formError.hidden = false;
      return;
    }
    formError.hidden = true;
    submit.disabled = true;
    submit.textContent = t('orders:sending');
    try {
      const created = await ctx.api.createOrder(body as Parameters<typeof ctx.api.createOrder>[0]);
      if (disposed) return;
      // The number is not kept in the form once it is registered.
      idNumber.value = '';
      checkId();
      showResult(created);
      void loadOpen();
    } catch (failure) {
      formError.textContent = describeError(failure);
      formError.hidden = false;
    } finally {
      submit.disabled = false;
      submit.textContent = t('orders:submit');
    }
  }

  function orderNumberBlock(order: ExamOrder): HTMLElement {
    return h(
      'div',
      { class: 'order-number-block' },
      h('p', { class: 'muted' }, t('orders:orderNumber')),
      h(
        'p',
        { class: 'order-number', 'data-order-number': order.orderNumber },
        formatOrderNumber(order.orderNumber),
      ),
      h('p', { class: 'hint' }, t('orders:forBox')),
    );
  }

  function showResult(created: CreatedExamOrder): void {
    const { order, warning } = created;
    const patient = h(
      'p',
      { class: 'patient', 'data-patient-id': order.patient.id },
      patientLine(order.patient, new Date()),
    );
    const registered = h(
      'p',
      { class: 'muted' },
      created.patientRegistered ? t('orders:registeredNew') : t('orders:registeredKnown'),
    );
    result.hidden = false;
    if (!warning) {
      replaceContent(result, orderNumberBlock(order), patient, registered);
      ctx.announce(
        t('orders:registeredAnnounce', { number: formatOrderNumber(order.orderNumber) }),
      );
      return;
    }
    const actionError = h('p', { class: 'alert', role: 'alert', hidden: true });
    const decide = async (goAhead: boolean) => {
      try {
        const decided = goAhead
          ? await ctx.api.goAhead(order.orderNumber)
          : await ctx.api.cancelOrder(order.orderNumber);
        if (disposed) return;
        replaceContent(
          result,
          goAhead ? orderNumberBlock(decided) : null,
          h(
            'p',
            { class: 'notice', role: 'status' },
            goAhead ? t('orders:wentAhead') : t('orders:cancelled'),
          ),
          patient,
        );
        void loadOpen();
      } catch (failure) {
        actionError.textContent = describeError(failure);
        actionError.hidden = false;
      }
    };
    replaceContent(
      result,
      h(
        'div',
        { class: 'repeat-warning', role: 'alert', 'data-warning-id': warning.id },
        h('h2', {}, t('orders:warningTitle', { count: warning.windowDays })),
        h(
          'ul',
          {},
          warning.earlierExams.map((exam) => h('li', {}, earlierExam(exam))),
        ),
        // The relay's own sentence is fixed English; the page says the same in its language.
        h('p', {}, t('orders:warningAdvice')),
        h(
          'div',
          { class: 'panel-actions' },
          h(
            'button',
            { type: 'button', class: 'button primary', onclick: () => void decide(true) },
            t('orders:goAhead'),
          ),
          h(
            'button',
            { type: 'button', class: 'button secondary', onclick: () => void decide(false) },
            t('orders:cancel'),
          ),
        ),
        actionError,
      ),
      patient,
    );
  }

  async function loadOpen(): Promise<void> {
    replaceContent(openBody, emptyRow(t('orders:loadingOpen')));
    try {
      const orders = await ctx.api.openOrders();
      if (disposed) return;
      openError.hidden = true;
      replaceContent(
        openBody,
        orders.length === 0
          ? emptyRow(t('orders:noOpen'))
          : orders.map((order) =>
              h(
                'tr',
                { 'data-order-number': order.orderNumber },
                h('td', {}, formatDateTime(order.createdAt)),
                h('td', { class: 'order-number small' }, formatOrderNumber(order.orderNumber)),
                h('td', {}, patientLine(order.patient, new Date())),
                h(
                  'td',
                  {},
                  order.kind === 'ecg'
                    ? t('orders:ecg')
                    : `${order.modality ?? ''} ${order.bodyPart ?? ''}`,
                  h('br'),
                  h('span', { class: 'muted' }, order.indication),
                ),
                h('td', {}, PRIORITY_LABEL[order.urgency]),
              ),
            ),
      );
    } catch (failure) {
      openError.textContent = describeError(failure);
      openError.hidden = false;
    }
  }

  void loadOpen();
  return {
    element,
    dispose() {
      disposed = true;
    },
  };
}

function emptyRow(text: string): HTMLTableRowElement {
  return h('tr', {}, h('td', { colspan: 5, class: 'empty' }, text));
}
