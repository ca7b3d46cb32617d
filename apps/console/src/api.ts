import type {
  AccessGrant,
  AdminUser,
  ApiError,
  AuditPage,
  AuditQuery,
  CaseDetail,
  CaseEcg,
  CasePriority,
  CaseSummary,
  ClinicAeTitles,
  CreateDeviceRequest,
  CreateFacilityRequest,
  CreateUserRequest,
  CreatedExamOrder,
  CreateExamOrder,
  ConsentCodeRequest,
  ConsentTicket,
  DeviceSummary,
  Diagnosis,
  ExamOrder,
  Facility,
  HospitalPolicy,
  HospitalPolicyRequest,
  ImagingStudy,
  LoginResponse,
  PatientHistory,
  PatientAccessPage,
  Phrase,
  RegisteredDevice,
  SessionUser,
  SetAeTitlesRequest,
  SignDiagnosisRequest,
  SupervisionReport,
  UpdateDeviceRequest,
  UpdateFacilityRequest,
  UpdateUserRequest,
} from '#contracts';
import { t } from './i18n/i18n.js';

/** A case's summary without what only the detail carries. */
export function summaryOf(detail: CaseDetail): CaseSummary {
  const {
    diagnosis: _diagnosis,
    analysis: _analysis,
    transfers: _transfers,
    patient: _patient,
    deviceMeasurements: _deviceMeasurements,
    ...summary
  } = detail;
  return summary;
}

/** A failed call, with the relay's own code and message when it sent one. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiFailure';
  }
}

/** The relay's REST API, as the signed-in user. */
export class RelayApi {
  /** Cancels what is still on its way when the user signs out, before the session ends at the relay. */
  private readonly session = new AbortController();

  constructor(
    private token: string,
    /** Called when the relay stops accepting the token (session ended, user disabled). */
    private readonly onUnauthorized: () => void,
  ) {}

  static login(username: string, password: string): Promise<LoginResponse> {
    return request<LoginResponse>('POST', '/api/auth/login', undefined, { username, password });
  }

  /** Exchanges the (single-use) refresh token for a new access and refresh token. */
  static refresh(refreshToken: string): Promise<LoginResponse> {
    return request<LoginResponse>('POST', '/api/auth/refresh', undefined, { refreshToken });
  }

  /** Ends the session at the relay: its tokens stop working and its sockets close. */
  static logout(refreshToken: string): Promise<void> {
    return request<void>('POST', '/api/auth/logout', undefined, { refreshToken });
  }

  /** The access token after a refresh. */
  useToken(token: string): void {
    this.token = token;
  }

  /**
   * Abandons every request still on its way. Called when the user signs out, before the relay
   * is told: an answer to a request that raced the logout would otherwise be a 401 for a
   * session the user already left.
   */
  end(): void {
    this.session.abort();
  }

  /** Ended with the session: for requests made outside this class (exports, uploads). */
  get signal(): AbortSignal {
    return this.session.signal;
  }

  /** The current access token, for requests made outside this class (DICOMweb, uploads). */
  accessToken(): string {
    return this.token;
  }

  me(): Promise<SessionUser> {
    return this.call('GET', '/api/me');
  }

  worklist(): Promise<CaseSummary[]> {
    return this.call('GET', '/api/worklist');
  }

  caseDetail(id: string): Promise<CaseDetail> {
    return this.call('GET', `/api/cases/${encodeURIComponent(id)}`);
  }

  ecg(id: string): Promise<CaseEcg> {
    return this.call('GET', `/api/cases/${encodeURIComponent(id)}/ecg`);
  }

  claim(id: string): Promise<CaseSummary> {
    return this.call('POST', `/api/cases/${encodeURIComponent(id)}/claim`);
  }

  /** Keeps the reader's claim alive; rejects with 409 once the claim has lapsed. */
  keepClaim(id: string): Promise<{ leaseExpiresAt: string }> {
    return this.call('POST', `/api/cases/${encodeURIComponent(id)}/lease`);
  }

  sign(id: string, body: SignDiagnosisRequest): Promise<Diagnosis> {
    return this.call('POST', `/api/cases/${encodeURIComponent(id)}/sign`, body);
  }

  /** Sends the held case to the hospital above, with a note for its readers. */
  escalate(id: string, note: string): Promise<CaseSummary> {
    return this.call('POST', `/api/cases/${encodeURIComponent(id)}/escalate`, { note });
  }

  /** Sends the held case back to the clinic, with the reason. */
  returnToClinic(id: string, reason: string): Promise<CaseSummary> {
    return this.call('POST', `/api/cases/${encodeURIComponent(id)}/return`, { reason });
  }

  /** The reusable phrases of the reader's hospital. */
  phrases(): Promise<Phrase[]> {
    return this.call('GET', '/api/phrases');
  }

  addPhrase(text: string): Promise<Phrase> {
    return this.call('POST', '/api/phrases', { text });
  }

  removePhrase(id: string): Promise<void> {
    return this.call('DELETE', `/api/phrases/${encodeURIComponent(id)}`);
  }

  /** The clinic's boxes (clinic staff). */
  devices(): Promise<DeviceSummary[]> {
    return this.call('GET', '/api/devices');
  }

  /** Stores the last `seconds` of a box's live stream as a rhythm-strip case. */
  storeStrip(
    deviceId: string,
    seconds: number,
  ): Promise<{ caseId: string; recordingId: string; seconds: number }> {
    return this.call('POST', `/api/devices/${encodeURIComponent(deviceId)}/stream/snapshot`, {
      seconds,
    });
  }

  /** Registers an exam (clinic staff): the patient's identifier goes in the body only. */
  createOrder(body: CreateExamOrder): Promise<CreatedExamOrder> {
    return this.call('POST', '/api/records/orders', body);
  }

  /** The clinic's open exam orders. */
  openOrders(): Promise<ExamOrder[]> {
    return this.call('GET', '/api/records/orders');
  }

  /** Goes ahead with an exam despite the repeated-exam warning. */
  goAhead(orderNumber: string): Promise<ExamOrder> {
    return this.call('POST', `/api/records/orders/${encodeURIComponent(orderNumber)}/go-ahead`);
  }

  cancelOrder(orderNumber: string): Promise<ExamOrder> {
    return this.call('POST', `/api/records/orders/${encodeURIComponent(orderNumber)}/cancel`);
  }

  /** The clinic's DICOM studies (clinic staff): counts, state and the case each became. */
  imagingStudies(): Promise<ImagingStudy[]> {
    return this.call('GET', '/api/imaging/studies');
  }

  /** The clinic says the study is whole: it becomes a case for the hospital's readers. */
  completeStudy(studyInstanceUid: string, priority: CasePriority): Promise<unknown> {
    return this.call(
      'POST',
      `/api/imaging/studies/${encodeURIComponent(studyInstanceUid)}/complete`,
      { priority },
    );
  }

  /**
   * Asks for a patient's earlier record: the number goes in the body, never the URL. The
   * answer is the same whether or not the number is registered.
   */
  requestConsent(body: ConsentCodeRequest): Promise<ConsentTicket> {
    return this.call('POST', '/api/records/consent-requests', body);
  }

  /** The code the patient read out; the right one grants time-limited access. */
  verifyConsent(requestId: string, code: string): Promise<AccessGrant> {
    return this.call(
      'POST',
      `/api/records/consent-requests/${encodeURIComponent(requestId)}/verify`,
      { code },
    );
  }

  /** The patient's exams across the region (404 without a grant or a case of this hospital). */
  patientHistory(patientId: string): Promise<PatientHistory> {
    return this.call('GET', `/api/records/patients/${encodeURIComponent(patientId)}/history`);
  }

  /** The history of the case's patient (404 without a patient or the right to read it). */
  caseHistory(caseId: string): Promise<PatientHistory> {
    return this.call('GET', `/api/records/cases/${encodeURIComponent(caseId)}/history`);
  }

  /** The samples of one of the patient's ECGs, through the same check as the history. */
  priorEcg(patientId: string, caseId: string): Promise<CaseEcg> {
    return this.call(
      'GET',
      `/api/records/patients/${encodeURIComponent(patientId)}/cases/${encodeURIComponent(caseId)}/ecg`,
    );
  }

  /** Who was granted access to the patient's record (the registering clinic's staff). */
  patientGrants(patientId: string): Promise<AccessGrant[]> {
    return this.call('GET', `/api/records/patients/${encodeURIComponent(patientId)}/grants`);
  }

  /** The health authority's figures for a period (days in Asia/Shanghai; default today). */
  supervision(period: { from?: string; to?: string } = {}): Promise<SupervisionReport> {
    return this.call('GET', `/api/stats/supervision${periodQuery(period)}`);
  }

  /**
   * A page of "who looked at my record", newest first; `before` is the `nextBefore` of the
   * page shown so far (the registering clinic's staff).
   */
  patientAccessLog(patientId: string, limit: number, before?: number): Promise<PatientAccessPage> {
    const query = new URLSearchParams({ limit: String(limit) });
    if (before !== undefined) query.set('before', String(before));
    return this.call(
      'GET',
      `/api/records/patients/${encodeURIComponent(patientId)}/access-log?${query.toString()}`,
    );
  }

  /** The patient withdraws a grant, through the clinic that registered them. */
  revokeGrant(patientId: string, grantId: string): Promise<AccessGrant> {
    return this.call(
      'POST',
      `/api/records/patients/${encodeURIComponent(patientId)}/grants/${encodeURIComponent(grantId)}/revoke`,
    );
  }

  // ---- administrators (views/admin) ----------------------------------------------------

  facilities(): Promise<Facility[]> {
    return this.call('GET', '/api/admin/facilities');
  }

  createFacility(body: CreateFacilityRequest): Promise<Facility> {
    return this.call('POST', '/api/admin/facilities', body);
  }

  /** Renames a facility or moves it under another parent (409 when open cases would strand). */
  updateFacility(id: string, body: UpdateFacilityRequest): Promise<Facility> {
    return this.call('PATCH', `/api/admin/facilities/${encodeURIComponent(id)}`, body);
  }

  aeTitles(facilityId: string): Promise<ClinicAeTitles> {
    return this.call('GET', `/api/admin/facilities/${encodeURIComponent(facilityId)}/ae-titles`);
  }

  setAeTitles(facilityId: string, aeTitles: string[]): Promise<ClinicAeTitles> {
    return this.call('PUT', `/api/admin/facilities/${encodeURIComponent(facilityId)}/ae-titles`, {
      aeTitles,
    } satisfies SetAeTitlesRequest);
  }

  /** Without a secret the relay makes one and answers it this once. */
  registerDevice(body: CreateDeviceRequest): Promise<RegisteredDevice> {
    return this.call('POST', '/api/admin/devices', body);
  }

  updateDevice(id: string, body: UpdateDeviceRequest): Promise<DeviceSummary> {
    return this.call('PATCH', `/api/admin/devices/${encodeURIComponent(id)}`, body);
  }

  users(): Promise<AdminUser[]> {
    return this.call('GET', '/api/admin/users');
  }

  createUser(body: CreateUserRequest): Promise<AdminUser> {
    return this.call('POST', '/api/admin/users', body);
  }

  updateUser(id: string, body: UpdateUserRequest): Promise<AdminUser> {
    return this.call('PATCH', `/api/admin/users/${encodeURIComponent(id)}`, body);
  }

  hospitalPolicy(hospitalId: string): Promise<HospitalPolicy> {
    return this.call('GET', `/api/admin/hospitals/${encodeURIComponent(hospitalId)}/policy`);
  }

  setHospitalPolicy(hospitalId: string, body: HospitalPolicyRequest): Promise<HospitalPolicy> {
    return this.call('PUT', `/api/admin/hospitals/${encodeURIComponent(hospitalId)}/policy`, body);
  }

  /** The audit trail, newest first; empty filters are left out. */
  audit(query: AuditQuery): Promise<AuditPage> {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined && value !== '') params.set(name, String(value));
    }
    return this.call('GET', `/api/admin/audit?${params.toString()}`);
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    try {
      return await request<T>(method, path, this.token, body, this.session.signal);
    } catch (error) {
      if (this.session.signal.aborted) throw error;
      if (error instanceof ApiFailure && error.status === 401) this.onUnauthorized();
      throw error;
    }
  }
}

/** `?from=…&to=…` for the supervision's routes (also the CSV export's link). */
export function periodQuery(period: { from?: string; to?: string }): string {
  const query = new URLSearchParams();
  if (period.from) query.set('from', period.from);
  if (period.to) query.set('to', period.to);
  const text = query.toString();
  return text ? `?${text}` : '';
}

async function request<T>(
  method: string,
  path: string,
  token?: string,
  body?: unknown,
  signal?: AbortSignal,
): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers['authorization'] = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch {
    if (signal?.aborted) {
      // i18n-exempt: the developer's message; nobody sees it, the view that asked is gone
      throw new ApiFailure(0, 'ABORTED', 'Abandoned at sign-out');
    }
    // i18n-exempt: the developer's message; describeError shows people errors:code.NETWORK
    throw new ApiFailure(0, 'NETWORK', 'The relay cannot be reached');
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    const error = parsed as Partial<ApiError> | undefined;
    throw new ApiFailure(
      response.status,
      typeof error?.code === 'string' ? error.code : `HTTP_${response.status}`,
      typeof error?.message === 'string' && error.message
        ? error.message
        : // i18n-exempt: the developer's message; describeError shows people the status's words
          `The relay answered ${response.status} ${response.statusText}`.trim(),
    );
  }
  return parsed as T;
}

/**
 * What the relay's error codes (DOMAIN_ERROR_STATUS in apps/relay/src/common/domain-error.ts,
 * sent as ApiError `code`) say to the people using the console. The relay's own `message` is
 * English for developers and logs; the screen shows these, in the page's language.
 */
function codeMessages(): Record<string, string> {
  return {
    NETWORK: t('errors:code.NETWORK'),
    INVALID_INPUT: t('errors:code.INVALID_INPUT'),
    UNAUTHENTICATED: t('errors:code.UNAUTHENTICATED'),
    FORBIDDEN: t('errors:code.FORBIDDEN'),
    NOT_FOUND: t('errors:code.NOT_FOUND'),
    NOT_ACCEPTABLE: t('errors:code.NOT_ACCEPTABLE'),
    CONFLICT: t('errors:code.CONFLICT'),
    PAYLOAD_TOO_LARGE: t('errors:code.PAYLOAD_TOO_LARGE'),
    UNSUPPORTED_MEDIA_TYPE: t('errors:code.UNSUPPORTED_MEDIA_TYPE'),
    UNPROCESSABLE: t('errors:code.UNPROCESSABLE'),
    TOO_MANY_ATTEMPTS: t('errors:code.TOO_MANY_ATTEMPTS'),
    UNAVAILABLE: t('errors:code.UNAVAILABLE'),
    INSUFFICIENT_STORAGE: t('errors:code.INSUFFICIENT_STORAGE'),
    INTERNAL: t('errors:code.INTERNAL'),
  };
}

/** For a code the console does not know (an HTTP_ERROR, a proxy's page): the status's words. */
function statusMessage(status: number): string | undefined {
  if (status === 502 || status === 504) return t('errors:status.gateway');
  if (status >= 500) return t('errors:code.INTERNAL');
  return undefined;
}

/**
 * What the code means in this place, where the general words would say too little: e.g.
 * `{ UNAUTHENTICATED: t('login:wrongCredentials') }` on the sign-in form.
 */
export type ErrorWording = Partial<Record<string, string>>;

/**
 * A message fit for the screen, in the page's language, whatever was thrown: the relay's
 * error code in words (this place's own wording first), else the status's, else the relay's
 * own message.
 */
export function describeError(error: unknown, wording: ErrorWording = {}): string {
  if (error instanceof ApiFailure) {
    return (
      wording[error.code] ??
      codeMessages()[error.code] ??
      statusMessage(error.status) ??
      error.message
    );
  }
  if (error instanceof Error && error.message)
    return t('errors:unexpected', { detail: error.message });
  return t('errors:unknown');
}
