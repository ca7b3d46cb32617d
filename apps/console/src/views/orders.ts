import {
  CreateExamOrderSchema,
  DOCUMENT_TYPES,
  EXAM_URGENCIES,
  nationalIdBirthDate,
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
import type { ConsoleContext, View } from './context.js';

/** The order page's words, in one place (issue 14 translates the console). */
const TEXT = {
  title: 'Register an exam',
  back: '← Cases',
  intro:
    'Register the patient and the exam before recording. The box operator then enters the order number on the box (for images: as the Accession Number on the machine), so the result comes back with the patient.',
  documentType: 'Document',
  documentLabel: { resident_id: 'Resident ID card', passport: 'Passport', other: 'Other' },
  idNumber: 'ID number',
  idHint: 'Shown only masked once registered.',
  idValid: (birth: string, sex: string) => `Valid ID: born ${birth}, ${sex}.`,
  name: 'Name',
  sex: 'Sex',
  sexLabel: { '': 'From the ID', female: 'Female', male: 'Male', unknown: 'Unknown' },
  birthDate: 'Date of birth',
  kind: 'Exam',
  kindLabel: { ecg: 'ECG', imaging: 'Imaging' },
  modality: 'Modality (CT, DX, MR, US …)',
  bodyPart: 'Body part (CHEST, HEAD …)',
  indication: 'Indication',
  urgency: 'Urgency',
  submit: 'Register exam',
  sending: 'Registering…',
  orderNumber: 'Order number',
  forBox: 'Enter this number on the box (or as the Accession Number on the imaging machine).',
  registeredNew: 'New patient registered.',
  registeredKnown: 'Patient already known to the relay: their stored details are used.',
  warningTitle: 'This patient had the same exam recently',
  earlier: (w: RepeatExamWarning['earlierExams'][number]) =>
    `${w.kind === 'ecg' ? 'ECG' : `${w.modality ?? ''} ${w.bodyPart ?? ''}`.trim()} at ${w.facilityName}, ${formatDateTime(w.at)}`,
  goAhead: 'Go ahead with the exam',
  cancel: 'Cancel the order',
  cancelled: 'Order cancelled.',
  wentAhead: 'Going ahead: the order stays open.',
  open: 'Open orders',
  noOpen: 'No open orders.',
  loadingOpen: 'Loading the open orders…',
  columns: ['Registered', 'Order number', 'Patient', 'Exam', 'Urgency'],
};

/** `ABCD2345` → `ABCD-2345`, as the operator reads it off the screen. */
export function formatOrderNumber(orderNumber: string): string {
  return `${orderNumber.slice(0, 4)}-${orderNumber.slice(4)}`;
}

/** The clinic's exam registration: patient and order, the order number shown large. */
export function ordersView(ctx: ConsoleContext): View {
  let disposed = false;
  const field = (label: string, control: HTMLElement, hint?: HTMLElement) =>
    h('label', { class: 'field' }, h('span', { class: 'field-label' }, label), control, hint);

  const documentType = h(
    'select',
    { name: 'documentType' },
    DOCUMENT_TYPES.map((type) => h('option', { value: type }, TEXT.documentLabel[type])),
  );
  const idNumber = h('input', {
    name: 'idNumber',
    autocomplete: 'off',
    spellcheck: 'false',
    maxlength: 32,
    required: true,
  });
  const idFeedback = h('span', { class: 'hint', 'data-id-feedback': '' }, TEXT.idHint);
  const name = h('input', { name: 'name', maxlength: 100, required: true, autocomplete: 'off' });
  const sex = h(
    'select',
    { name: 'sex' },
    (['', 'female', 'male', 'unknown'] as const).map((value) =>
      h('option', { value }, TEXT.sexLabel[value]),
    ),
  );
  const birthDate = h('input', { name: 'birthDate', type: 'date' });
  const kind = h(
    'select',
    { name: 'kind' },
    (['ecg', 'imaging'] as const).map((value) => h('option', { value }, TEXT.kindLabel[value])),
  );
  const modality = h('input', { name: 'modality', maxlength: 16, autocomplete: 'off' });
  const bodyPart = h('input', { name: 'bodyPart', maxlength: 16, autocomplete: 'off' });
  const imagingFields = h(
    'div',
    { class: 'imaging-fields', hidden: true },
    field(TEXT.modality, modality),
    field(TEXT.bodyPart, bodyPart),
  );
  const indication = h('textarea', { name: 'indication', maxlength: 500, required: true, rows: 2 });
  const urgency = h(
    'select',
    { name: 'urgency' },
    EXAM_URGENCIES.map((value) =>
      h('option', { value, selected: value === 'routine' }, PRIORITY_LABEL[value]),
    ),
  );
  const submit = h('button', { type: 'submit', class: 'button primary' }, TEXT.submit);
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
      h('legend', {}, 'Patient'),
      field(TEXT.documentType, documentType),
      field(TEXT.idNumber, idNumber, idFeedback),
      field(TEXT.name, name),
      field(TEXT.sex, sex),
      field(TEXT.birthDate, birthDate),
    ),
    h(
      'fieldset',
      {},
      h('legend', {}, TEXT.kind),
      field(TEXT.kind, kind),
      imagingFields,
      field(TEXT.indication, indication),
      field(TEXT.urgency, urgency),
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
      h('a', { class: 'back', href: '#/' }, TEXT.back),
      h('h1', { id: 'orders-title', tabindex: -1 }, TEXT.title),
    ),
    h('p', { class: 'intro' }, TEXT.intro),
    h('div', { class: 'orders-body' }, form, result),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'open-orders-title' },
      h('h2', { id: 'open-orders-title' }, TEXT.open),
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
              TEXT.columns.map((column) => h('th', { scope: 'col' }, column)),
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
      idFeedback.textContent = TEXT.idHint;
      return;
    }
    const parsed = nationalIdSchema.safeParse(value);
    if (parsed.success) {
      idFeedback.textContent = TEXT.idValid(
        nationalIdBirthDate(parsed.data) ?? '?',
        nationalIdSex(parsed.data),
      );
      idFeedback.dataset['valid'] = 'true';
    } else {
      idNumber.setAttribute('aria-invalid', 'true');
      idFeedback.textContent = parsed.error.issues[0]?.message ?? 'not a valid ID number';
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
      formError.textContent = checked.error.issues
        .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
        .join('; ');
      formError.hidden = false;
      return;
    }
    formError.hidden = true;
    submit.disabled = true;
    submit.textContent = TEXT.sending;
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
      submit.textContent = TEXT.submit;
    }
  }

  function orderNumberBlock(order: ExamOrder): HTMLElement {
    return h(
      'div',
      { class: 'order-number-block' },
      h('p', { class: 'muted' }, TEXT.orderNumber),
      h(
        'p',
        { class: 'order-number', 'data-order-number': order.orderNumber },
        formatOrderNumber(order.orderNumber),
      ),
      h('p', { class: 'hint' }, TEXT.forBox),
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
      created.patientRegistered ? TEXT.registeredNew : TEXT.registeredKnown,
    );
    result.hidden = false;
    if (!warning) {
      replaceContent(result, orderNumberBlock(order), patient, registered);
      ctx.announce(`Order ${formatOrderNumber(order.orderNumber)} registered.`);
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
          h('p', { class: 'notice', role: 'status' }, goAhead ? TEXT.wentAhead : TEXT.cancelled),
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
        h('h2', {}, TEXT.warningTitle),
        h(
          'ul',
          {},
          warning.earlierExams.map((exam) => h('li', {}, TEXT.earlier(exam))),
        ),
        h('p', {}, warning.message),
        h(
          'div',
          { class: 'panel-actions' },
          h(
            'button',
            { type: 'button', class: 'button primary', onclick: () => void decide(true) },
            TEXT.goAhead,
          ),
          h(
            'button',
            { type: 'button', class: 'button secondary', onclick: () => void decide(false) },
            TEXT.cancel,
          ),
        ),
        actionError,
      ),
      patient,
    );
  }

  async function loadOpen(): Promise<void> {
    replaceContent(openBody, emptyRow(TEXT.loadingOpen));
    try {
      const orders = await ctx.api.openOrders();
      if (disposed) return;
      openError.hidden = true;
      replaceContent(
        openBody,
        orders.length === 0
          ? emptyRow(TEXT.noOpen)
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
                  order.kind === 'ecg' ? 'ECG' : `${order.modality ?? ''} ${order.bodyPart ?? ''}`,
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
