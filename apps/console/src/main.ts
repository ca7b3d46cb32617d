import type { CaseSummary, LoginResponse, SessionUser } from '#contracts';
import { ApiFailure, RelayApi, describeError, summaryOf } from './api.js';
import { h, replaceContent } from './dom.js';
import { preferredLocale, t, useLocale } from './i18n/i18n.js';
import { languageSwitch } from './i18n/switch.js';
import { RealtimeLink, type LinkState } from './realtime.js';
import { installShortcuts, shortcutHelpButton } from './shortcuts.js';
import {
  clearAllDrafts,
  clearSession,
  loadSession,
  saveSession,
  type StoredSession,
} from './session.js';
import { CaseStore, byNewest, byUrgency } from './store.js';
import { accessLogView } from './views/access-log.js';
import { adminView } from './views/admin/admin.js';
import { caseView } from './views/case.js';
import { clinicCasesView } from './views/clinic.js';
import { ordersView } from './views/orders.js';
import type { ConsoleContext, View } from './views/context.js';
import { brandMark, loginView } from './views/login.js';
import {
  consentCodeNotice,
  patientGrantsView,
  patientRecordView,
  REQUEST_RECORD_HREF,
  requestRecordView,
} from './views/records.js';
import { supervisionView } from './views/supervision.js';
import { uploadView } from './views/upload.js';
import { ecgUploadView } from './views/ecg-upload.js';
import { readerWorklistView } from './views/worklist.js';

const appRoot = document.getElementById('app')!;
const printRoot = document.getElementById('print-root')!;

function linkLabel(state: LinkState): string {
  const labels: Record<LinkState, string> = {
    connecting: t('shell:link.connecting'),
    live: t('shell:link.live'),
    offline: t('shell:link.offline'),
  };
  return labels[state];
}

/** The tab's title: the page, then the application. */
function pageTitle(page: string): string {
  return `${page} · ${t('common:app.name')}`;
}

let current: SignedIn | null = null;

function showLogin(notice?: string): void {
  current?.stop();
  current = null;
  useLocale(preferredLocale());
  document.title = pageTitle(t('login:title'));
  replaceContent(
    appRoot,
    loginView(
      (login: LoginResponse) => {
        const session = saveSession(login);
        start(session);
      },
      notice,
      () => showLogin(notice),
    ),
  );
}

function start(session: StoredSession): void {
  current?.stop();
  useLocale(preferredLocale(session.user.id), session.user.id);
  current = new SignedIn(session);
}

/** Everything that lives while a user is signed in: API, socket, case list and the current view. */
class SignedIn {
  private readonly api: RelayApi;
  private readonly store: CaseStore;
  private readonly link: RealtimeLink | null;
  private readonly main: HTMLElement;
  private readonly linkState: HTMLElement;
  private readonly announcer: HTMLElement;
  /** Codes the demo notifier shows the clinic, for the patient to read out. */
  private readonly notices: HTMLElement;
  private readonly context: ConsoleContext;
  private view: View | null = null;
  private loadGeneration = 0;
  private readonly onHashChange = () => this.route();
  private stopped = false;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private session: StoredSession) {
    const user = session.user;
    const expire = () => this.expire();
    this.api = new RelayApi(session.accessToken, expire);
    const isReader = user.role === 'reader';
    // A reader's list holds the open cases of their hospital only (a returned case is
    // announced to the hospital too; an escalated one now belongs to another hospital).
    this.store = new CaseStore(
      isReader ? byUrgency : byNewest,
      (item) =>
        !isReader ||
        (item.hospitalId === user.facilityId &&
          (item.status === 'awaiting_review' || item.status === 'in_review')),
    );

    this.linkState = h('span', {
      class: 'link-state',
      'data-link-state': 'connecting',
      role: 'status',
    });
    this.announcer = h('div', { class: 'visually-hidden', 'aria-live': 'polite' });
    this.main = h('main', { id: 'main', tabindex: -1 });
    this.notices = h('div', { class: 'notices' });
    replaceContent(
      appRoot,
      h(
        'header',
        { class: 'topbar' },
        h(
          'a',
          { class: 'brand', href: '#/' },
          brandMark(),
          t('common:app.name'),
          h('span', {}, t('common:app.tagline')),
        ),
        h(
          'div',
          { class: 'session' },
          this.linkState,
          languageSwitch(() => start(this.session), user.id),
          user.role === 'reader' ? shortcutHelpButton() : null,
          user.role === 'reader' || user.role === 'clinic_staff'
            ? h(
                'a',
                { class: 'button ghost', href: REQUEST_RECORD_HREF },
                t('shell:nav.earlierRecord'),
              )
            : null,
          h('span', { class: 'who' }, h('strong', {}, user.displayName), ` · ${user.facilityId}`),
          h(
            'button',
            { type: 'button', class: 'button ghost', onclick: () => this.logout() },
            t('shell:logout'),
          ),
        ),
      ),
      this.notices,
      this.main,
      this.announcer,
    );
    const supported = user.role === 'reader' || user.role === 'clinic_staff';
    // The supervision is live as well (its view listens); the administrator's pages ask the
    // REST API and are pushed nothing, so they have no link and show no badge.
    const live = supported || user.role === 'health_authority';
    this.link = live
      ? new RealtimeLink({
          token: session.accessToken,
          onState: (state) => this.showLinkState(state),
          onReady: () => (supported ? void this.reload() : undefined),
          onUnauthorized: expire,
        })
      : null;
    this.context = {
      user,
      api: this.api,
      store: this.store,
      socket: this.link?.socket ?? null,
      announce: (message) => this.announce(message),
      reload: () => void this.reload(),
    };
    if (this.link) this.listen(this.link);
    if (!live) this.linkState.remove();
    window.addEventListener('hashchange', this.onHashChange);
    if (supported) void this.reload();
    this.scheduleRefresh();
    this.route();
  }

  /**
   * Renews the access token a minute before it expires (a fifth of its life when that is
   * shorter). One refresh at a time: the relay ends a session whose refresh token is used
   * twice.
   */
  private scheduleRefresh(delayMs?: number): void {
    clearTimeout(this.refreshTimer);
    const remaining = this.session.expiresAt - Date.now();
    const margin = Math.min(60_000, Math.max(remaining, 0) / 5);
    this.refreshTimer = setTimeout(
      () => void this.refresh(),
      delayMs ?? Math.max(remaining - margin, 0),
    );
  }

  private async refresh(): Promise<void> {
    if (this.stopped) return;
    try {
      const answer = await RelayApi.refresh(this.session.refreshToken);
      // Signed out meanwhile: the renewed tokens are not kept (the relay ended the session).
      if (this.stopped) return;
      const renewed = saveSession(answer);
      this.session = { ...renewed, user: this.session.user };
      this.api.useToken(renewed.accessToken);
      this.link?.useToken(renewed.accessToken);
      this.scheduleRefresh();
    } catch (failure) {
      if (failure instanceof ApiFailure && failure.status === 401) return this.expire();
      // The relay is unreachable for now: try again soon, the access token may still be valid.
      this.scheduleRefresh(10_000);
    }
  }

  private listen(link: RealtimeLink): void {
    const socket = link.socket;
    socket.on('worklist.case-added', (summary) => this.store.upsert(summary));
    socket.on('consent.code', (notice) => {
      const shown = consentCodeNotice(notice, () => shown.remove());
      this.notices.prepend(shown);
      const left = Date.parse(notice.expiresAt) - Date.now();
      setTimeout(() => shown.remove(), Math.max(left, 0));
    });
    socket.on('worklist.case-updated', (summary) => this.store.upsert(summary));
    // Escalated or overflowed away from this hospital: the store drops it (another hospital's).
    socket.on('worklist.case-moved', ({ summary, kind, byDeadline }) => {
      this.store.upsert(summary);
      const clinic = summary.clinicName;
      const moved = {
        escalated: byDeadline
          ? t('shell:announce.escalatedByDeadline', { clinic })
          : t('shell:announce.escalated', { clinic }),
        overflowed: byDeadline
          ? t('shell:announce.overflowedByDeadline', { clinic })
          : t('shell:announce.overflowed', { clinic }),
      };
      this.announce(kind === 'escalated' ? moved.escalated : moved.overflowed);
    });
    socket.on('worklist.deadline-near', ({ caseId, action }) => {
      const item = this.store.get(caseId);
      const clinic = item?.clinicName ?? t('shell:announce.aClinic');
      this.announce(
        action === 'escalate'
          ? t('shell:announce.deadlineEscalate', { clinic })
          : t('shell:announce.deadlineOverflow', { clinic }),
      );
    });
    socket.on('diagnosis.signed', ({ eventId, diagnosis }) => {
      if (!this.store.get(diagnosis.caseId)) {
        // A case this page has not listed yet (the list is still loading, say).
        this.api.caseDetail(diagnosis.caseId).then(
          (detail) => {
            this.store.upsert(summaryOf(detail));
            this.store.addDiagnosis(diagnosis, true);
          },
          () => this.store.addDiagnosis(diagnosis, true),
        );
      } else {
        this.store.addDiagnosis(diagnosis, true);
      }
      const conclusion = diagnosis.conclusion;
      this.announce(
        diagnosis.hospitalName
          ? t('shell:announce.diagnosisFromHospital', {
              reader: diagnosis.signedByName,
              hospital: diagnosis.hospitalName,
              conclusion,
            })
          : t('shell:announce.diagnosis', { reader: diagnosis.signedByName, conclusion }),
      );
      socket.emit('diagnosis.received', { eventId });
    });
    // The clinic must record again. Acknowledged like a diagnosis, once it is on the page.
    socket.on('case.returned', ({ eventId, caseId, reason }) => {
      const known = this.store.get(caseId);
      if (known) {
        this.store.upsert({ ...known, status: 'returned', returnReason: reason });
      } else {
        this.api.caseDetail(caseId).then(
          (detail) => this.store.upsert({ ...summaryOf(detail), returnReason: reason }),
          () => undefined, // its worklist.case-updated follows anyway
        );
      }
      this.announce(t('shell:announce.recordAgain', { reason }));
      socket.emit('diagnosis.received', { eventId });
    });
  }

  /** (Re)loads the list; only the newest of overlapping loads is applied. */
  private async reload(): Promise<void> {
    const generation = ++this.loadGeneration;
    this.store.beginLoad();
    try {
      const cases: CaseSummary[] = await this.api.worklist();
      if (generation === this.loadGeneration && !this.stopped) this.store.replaceAll(cases);
    } catch (failure) {
      if (generation !== this.loadGeneration || this.stopped) return;
      if (failure instanceof ApiFailure && failure.status === 401) return;
      this.announce(t('shell:listFailed', { reason: describeError(failure) }));
    }
  }

  private route(): void {
    if (this.stopped) return;
    this.view?.dispose();
    const hash = window.location.hash;
    const match = /^#\/case\/([^/]+)$/.exec(hash);
    const upload = hash === '#/upload';
    const ecgUpload = hash === '#/ecg-upload' && this.session.user.role === 'clinic_staff';
    const orders = hash === '#/orders' && this.session.user.role === 'clinic_staff';
    const record = /^#\/records\/([^/]+)(?:\/([^/]+))?$/.exec(hash);
    const grants = /^#\/patients\/([^/]+)\/grants$/.exec(hash);
    const accessLog = /^#\/patients\/([^/]+)\/access-log$/.exec(hash);
    const user = this.session.user;
    if (user.role === 'health_authority') {
      this.view = supervisionView(this.context);
    } else if (user.role === 'admin') {
      this.view = adminView(this.context, hash);
    } else if (user.role !== 'reader' && user.role !== 'clinic_staff') {
      this.view = unsupportedView(user);
    } else if (hash === REQUEST_RECORD_HREF) {
      this.view = requestRecordView(this.context);
    } else if (record) {
      const caseId = record[2] === undefined ? undefined : decodeURIComponent(record[2]);
      this.view = patientRecordView(this.context, decodeURIComponent(record[1]!), caseId);
    } else if (accessLog && user.role === 'clinic_staff') {
      this.view = accessLogView(this.context, decodeURIComponent(accessLog[1]!));
    } else if (grants && user.role === 'clinic_staff') {
      this.view = patientGrantsView(this.context, decodeURIComponent(grants[1]!));
    } else if (match) {
      this.view = caseView(this.context, decodeURIComponent(match[1]!), printRoot);
    } else if (upload && user.role === 'clinic_staff') {
      this.view = uploadView(this.context);
    } else if (ecgUpload) {
      this.view = ecgUploadView(this.context);
    } else if (orders) {
      this.view = ordersView(this.context);
    } else {
      this.view =
        user.role === 'reader' ? readerWorklistView(this.context) : clinicCasesView(this.context);
    }
    replaceContent(this.main, this.view.element);
    const heading = this.view.element.querySelector('h1');
    const page = record
      ? hash === REQUEST_RECORD_HREF
        ? t('shell:page.requestRecord')
        : t('shell:page.earlierRecord')
      : grants
        ? t('shell:page.grants')
        : accessLog
          ? t('accessLog:title')
          : match
            ? t('shell:page.case')
            : orders
              ? t('shell:page.orders')
              : upload && user.role === 'clinic_staff'
                ? t('shell:page.upload')
                : ecgUpload
                  ? t('shell:page.ecgUpload')
                  : user.role === 'reader'
                    ? t('shell:page.worklist')
                    : t('shell:page.cases');
    // The administrator's pages name themselves (views/admin/admin.ts).
    if (user.role !== 'admin') {
      document.title = pageTitle(user.role === 'health_authority' ? t('supervision:title') : page);
    }
    heading?.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }

  private showLinkState(state: LinkState): void {
    this.linkState.dataset['linkState'] = state;
    this.linkState.textContent = linkLabel(state);
  }

  private announce(message: string): void {
    this.announcer.textContent = '';
    // A fresh text node after a tick makes screen readers announce repeated messages too.
    setTimeout(() => (this.announcer.textContent = message), 50);
  }

  private logout(): void {
    // Everything of this session stops first, so no request races the revocation below.
    this.stop();
    // Revoked at the relay too, so the tokens stop working everywhere, not only in this tab.
    RelayApi.logout(this.session.refreshToken).catch(() => undefined);
    clearSession();
    clearAllDrafts();
    if (window.location.hash) history.replaceState(null, '', window.location.pathname);
    showLogin();
  }

  private expire(): void {
    if (this.stopped) return;
    clearSession();
    showLogin(t('shell:sessionEnded'));
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.api.end();
    clearTimeout(this.refreshTimer);
    this.view?.dispose();
    this.view = null;
    this.link?.close();
    window.removeEventListener('hashchange', this.onHashChange);
  }
}

function unsupportedView(user: SessionUser): View {
  return {
    element: h(
      'section',
      { class: 'view', 'data-testid': 'nothing-to-read' },
      h('h1', { tabindex: -1 }, t('shell:unsupported.title')),
      h(
        'p',
        {},
        t('shell:unsupported.text', { name: user.displayName, role: roleLabel(user.role) }),
      ),
    ),
    dispose() {},
  };
}

function roleLabel(role: SessionUser['role']): string {
  const labels: Record<SessionUser['role'], string> = {
    clinic_staff: t('shell:role.clinicStaff'),
    reader: t('shell:role.reader'),
    admin: t('shell:role.admin'),
    health_authority: t('shell:role.healthAuthority'),
  };
  return labels[role];
}

/** On load: resume the tab's session if the relay still accepts it (refreshing it if needed). */
async function boot(): Promise<void> {
  let session = loadSession();
  if (!session) return showLogin();
  try {
    if (session.expiresAt - Date.now() < 30_000) {
      session = saveSession(await RelayApi.refresh(session.refreshToken));
    }
    const user = await new RelayApi(session.accessToken, () => undefined).me();
    start({ ...session, user });
  } catch (failure) {
    if (failure instanceof ApiFailure && failure.status === 401) {
      clearSession();
      showLogin(t('shell:sessionEnded'));
    } else {
      showLogin(describeError(failure));
    }
  }
}

installShortcuts();
void boot();
