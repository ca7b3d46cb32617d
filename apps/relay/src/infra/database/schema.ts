import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  check,
  boolean,
  date,
  type AnyPgColumn,
  index,
  integer,
  jsonb,
  pgTable,
  real,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

/**
 * The system of record. Every change goes through a migration in ./migrations
 * (`npm run db:generate` after editing this file); the relay applies them at start.
 */

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();

export const facilities = pgTable('facilities', {
  id: text('id').primaryKey(),
  kind: text('kind', { enum: ['clinic', 'county', 'tertiary'] }).notNull(),
  name: text('name').notNull(),
  /** clinic → its county hospital; county → its tertiary hospital; tertiary → null. */
  parentId: text('parent_id'),
  /** Closed or suspended: its people cannot sign in, its boxes and machines cannot connect. */
  disabled: boolean('disabled').notNull().default(false),
  createdAt: createdAt(),
});

export const users = pgTable('users', {
  id: uuid('id').primaryKey().defaultRandom(),
  username: text('username').notNull().unique(),
  displayName: text('display_name').notNull(),
  passwordHash: text('password_hash').notNull(),
  role: text('role', { enum: ['clinic_staff', 'reader', 'admin', 'health_authority'] }).notNull(),
  facilityId: text('facility_id')
    .notNull()
    .references(() => facilities.id),
  disabled: boolean('disabled').notNull().default(false),
  createdAt: createdAt(),
});

export const devices = pgTable('devices', {
  id: text('id').primaryKey(),
  facilityId: text('facility_id')
    .notNull()
    .references(() => facilities.id),
  secretHash: text('secret_hash').notNull(),
  disabled: boolean('disabled').notNull().default(false),
  lastSeenAt: timestamp('last_seen_at', { withTimezone: true }),
  /** What the box last announced on `status`; null until it says. */
  firmware: text('firmware'),
  createdAt: createdAt(),
});

export const recordings = pgTable(
  'recordings',
  {
    id: uuid('id').primaryKey(),
    /** The box that sent it; null for an ECG that came as a DICOM waveform (see `source`). */
    deviceId: text('device_id').references(() => devices.id),
    /**
     * Where it came from: 'box', 'dicom:stow', 'dicom:c-store:<calling AE>', 'dicom:upload'
     * (docs/imaging.md), or 'upload:scp-ecg' / 'upload:hl7-aecg' (docs/ecg-upload.md).
     */
    source: text('source').notNull().default('box'),
    clinicId: text('clinic_id')
      .notNull()
      .references(() => facilities.id),
    examKind: text('exam_kind').notNull(),
    leads: jsonb('leads').$type<string[]>().notNull(),
    sampleRateHz: integer('sample_rate_hz').notNull(),
    microvoltsPerLsb: real('microvolts_per_lsb').notNull(),
    samplesPerLead: integer('samples_per_lead').notNull(),
    chunkCount: integer('chunk_count').notNull(),
    /** sha256 of the sample bytes; also the blob key. */
    sha256: text('sha256').notNull(),
    patientRef: text('patient_ref'),
    /** The automatic analysis (libs/ecg), with its algorithm version; a suggestion only. */
    analysis: jsonb('analysis').$type<Record<string, unknown>>(),
    /**
     * What the electrocardiograph measured and wrote into an uploaded or DICOM ECG file
     * (libs/ecg DeviceMeasurements), shown beside the analysis; null for a box's recording.
     */
    deviceMeasurements: jsonb('device_measurements').$type<Record<string, unknown>>(),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull(),
    receivedAt: createdAt(),
  },
  (t) => [
    index('recordings_clinic_idx').on(t.clinicId),
    // A box's newest recording, for the administrator's list of boxes.
    index('recordings_device_idx').on(t.deviceId, t.receivedAt),
  ],
);

export const cases = pgTable(
  'cases',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    kind: text('kind', { enum: ['ecg', 'imaging'] }).notNull(),
    recordingId: uuid('recording_id').references(() => recordings.id),
    examKind: text('exam_kind').notNull(),
    clinicId: text('clinic_id')
      .notNull()
      .references(() => facilities.id),
    /** The hospital whose readers own the case now (county first, tertiary after escalation). */
    hospitalId: text('hospital_id')
      .notNull()
      .references(() => facilities.id),
    priority: text('priority', { enum: ['stat', 'urgent', 'routine'] }).notNull(),
    status: text('status', {
      enum: ['analysing', 'awaiting_review', 'in_review', 'signed', 'returned'],
    }).notNull(),
    /** Why the case went back to the clinic instead of to a reader. */
    returnReason: text('return_reason'),
    claimedBy: uuid('claimed_by').references(() => users.id),
    claimedAt: timestamp('claimed_at', { withTimezone: true }),
    /** The claim is a lease: kept alive by the reader's console, released when it lapses. */
    leaseExpiresAt: timestamp('lease_expires_at', { withTimezone: true }),
    /** The clinical due time, set when the case is queued; kept when it moves hospital. */
    dueAt: timestamp('due_at', { withTimezone: true }).notNull(),
    /**
     * When the current hospital's policy moves the case on if nobody has claimed it (a
     * delayed job fires then); null when nothing happens automatically.
     */
    deadlineAt: timestamp('deadline_at', { withTimezone: true }),
    /** When this hospital's readers were warned (80 % of the deadline); reset on a move. */
    deadlineAlertedAt: timestamp('deadline_alerted_at', { withTimezone: true }),
    /**
     * When the clinic acknowledged the signed diagnosis, copied here by the retention sweep
     * before it deletes the delivered clinic event that held it.
     */
    clinicReceivedAt: timestamp('clinic_received_at', { withTimezone: true }),
    /** When the review desk put the case on the hospital's worklist. */
    listedAt: timestamp('listed_at', { withTimezone: true }),
    /** The patient, when the exam was registered (or a study matched one); null otherwise. */
    patientId: uuid('patient_id').references((): AnyPgColumn => patients.id),
    /** The clinic's exam order this case fulfils (docs/patients.md). */
    orderId: uuid('order_id').references((): AnyPgColumn => examOrders.id),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // One case per recording, so a retried close can never create a second one.
    uniqueIndex('cases_recording_uq').on(t.recordingId),
    index('cases_worklist_idx').on(t.hospitalId, t.status, t.dueAt),
    index('cases_clinic_idx').on(t.clinicId, t.createdAt),
    // Repeated-exam warnings look up a patient's recent cases.
    index('cases_patient_idx').on(t.patientId, t.createdAt),
    // Not unique: an ECG sent back as unreadable is recorded again under the same order.
    index('cases_order_idx').on(t.orderId),
  ],
);

export const caseEvents = pgTable(
  'case_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    caseId: uuid('case_id')
      .notNull()
      .references(() => cases.id),
    type: text('type').notNull(),
    fromStatus: text('from_status'),
    toStatus: text('to_status'),
    /** A user id, or `system:<part>` for automatic transitions. */
    actor: text('actor').notNull(),
    detail: jsonb('detail').$type<Record<string, unknown>>(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('case_events_case_idx').on(t.caseId, t.id)],
);

export const diagnoses = pgTable('diagnoses', {
  caseId: uuid('case_id')
    .primaryKey()
    .references(() => cases.id),
  conclusion: text('conclusion').notNull(),
  findings: jsonb('findings').$type<string[]>().notNull(),
  /** The reader's confirmation or corrections of the automatic measurements. */
  measurementReview: jsonb('measurement_review').$type<Record<string, unknown>>(),
  signedBy: uuid('signed_by')
    .notNull()
    .references(() => users.id),
  /** The hospital the case belonged to when signed (escalated cases: the tertiary one). */
  hospitalId: text('hospital_id').references(() => facilities.id),
  signedAt: timestamp('signed_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * Transactional outbox: written in the same transaction as the state change it announces,
 * moved to BullMQ by the dispatcher, so a crash between the two loses nothing.
 */
export const outbox = pgTable(
  'outbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    kind: text('kind').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    createdAt: createdAt(),
    /** Failed adds so far; at `OUTBOX_PARK_AFTER_ATTEMPTS` the row is parked. */
    attempts: integer('attempts').notNull().default(0),
    /** Not tried again before this (back-off after a failure); null: due now. */
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }),
    lastError: text('last_error'),
    /** Set when the row is given up on: kept for an operator, never retried by itself. */
    parkedAt: timestamp('parked_at', { withTimezone: true }),
  },
  (t) => [
    index('outbox_waiting_idx')
      .on(t.id)
      .where(sql`${t.parkedAt} is null`),
  ],
);

export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    /** `user:<id>`, `device:<id>`, `anonymous` … never a patient identifier. */
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    outcome: text('outcome', { enum: ['allowed', 'denied', 'failed'] }).notNull(),
    subject: text('subject'),
    remoteAddress: text('remote_address'),
    detail: jsonb('detail').$type<Record<string, unknown>>(),
    /**
     * The patient a read or write of patient data concerned, as the HMAC lookup key of their
     * identifier (never the identifier); null for rows about no patient.
     */
    patientKey: text('patient_key'),
    /**
     * The row's place in the hash chain (docs/audit.md): 1, 2, 3 … in commit order, given
     * under the lock on `audit_chain_head`. Null only for a row written around the chain.
     */
    seq: bigint('seq', { mode: 'number' }),
    /** `row_hash` of the row before (seq − 1); the genesis value for seq 1. */
    prevHash: text('prev_hash'),
    /** SHA-256 (hex) of the row's canonical JSON with `prevHash` (docs/audit.md). */
    rowHash: text('row_hash'),
  },
  (t) => [
    index('audit_log_at_idx').on(t.at),
    uniqueIndex('audit_log_seq_idx').on(t.seq),
    index('audit_log_patient_key_idx').on(t.patientKey, t.id),
  ],
);

/**
 * The end of the audit hash chain, one row: every writer of `audit_log` locks it
 * (`select … for update`) in the inserting transaction, so rows are chained in commit order
 * whichever process or batch writes them. `pruned_through_*` is where retention cut the
 * chain's start; `legacy_through_id` names rows from before the chain, chained once.
 */
export const auditChainHead = pgTable(
  'audit_chain_head',
  {
    id: integer('id').primaryKey().default(1),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    hash: text('hash').notNull(),
    prunedThroughSeq: bigint('pruned_through_seq', { mode: 'number' }).notNull().default(0),
    prunedThroughHash: text('pruned_through_hash').notNull(),
    legacyThroughId: bigint('legacy_through_id', { mode: 'number' }),
  },
  (t) => [check('audit_chain_head_one_row', sql`${t.id} = 1`)],
);

/**
 * What the relay owes a clinic: each signed diagnosis or returned recording, kept until a
 * clinic client acknowledges it, and replayed on every reconnect until then.
 */
export const clinicEvents = pgTable(
  'clinic_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    clinicId: text('clinic_id')
      .notNull()
      .references(() => facilities.id),
    caseId: uuid('case_id')
      .notNull()
      .references(() => cases.id),
    kind: text('kind', { enum: ['diagnosis.signed', 'case.returned'] }).notNull(),
    createdAt: createdAt(),
    acknowledgedAt: timestamp('acknowledged_at', { withTimezone: true }),
    acknowledgedBy: uuid('acknowledged_by').references(() => users.id),
    /**
     * The box the recording came from, owed the same result on its MQTT topic; null when
     * the case has no recording (imaging) or the event predates box delivery.
     */
    deviceId: text('device_id').references(() => devices.id),
    /** When the box acknowledged the relay's QoS 1 publish of this event (its PUBACK). */
    deviceReceivedAt: timestamp('device_received_at', { withTimezone: true }),
  },
  (t) => [
    // A retried delivery job finds the event it already wrote.
    uniqueIndex('clinic_events_case_kind_uq').on(t.caseId, t.kind),
    index('clinic_events_pending_idx')
      .on(t.clinicId, t.id)
      .where(sql`${t.acknowledgedAt} is null`),
    index('clinic_events_device_pending_idx')
      .on(t.deviceId, t.id)
      .where(sql`${t.deviceId} is not null and ${t.deviceReceivedAt} is null`),
  ],
);

/** Reusable text for the sign form, shared by the readers of one hospital. */
export const phrases = pgTable(
  'phrases',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    hospitalId: text('hospital_id')
      .notNull()
      .references(() => facilities.id),
    text: text('text').notNull(),
    createdBy: uuid('created_by')
      .notNull()
      .references(() => users.id),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('phrases_hospital_text_uq').on(t.hospitalId, t.text)],
);

/**
 * A hospital's own reading deadlines and what happens at them; a hospital without a row
 * runs on the relay's defaults (ECG_SLA_SECONDS …, escalate to the tertiary hospital).
 */
export const hospitalPolicies = pgTable('hospital_policies', {
  hospitalId: text('hospital_id')
    .primaryKey()
    .references(() => facilities.id),
  /** Seconds per kind × priority ({ecg: {stat: 60}}); what is missing takes the default. */
  deadlines: jsonb('deadlines').$type<Record<string, Record<string, number>>>().notNull(),
  atDeadline: text('at_deadline', { enum: ['escalate', 'overflow'] }).notNull(),
  overflowHospitalId: text('overflow_hospital_id').references(() => facilities.id),
  updatedBy: uuid('updated_by').references(() => users.id),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
/**
 * A sign-in: the refresh token's HMAC (never the token), rotated on every refresh. Access
 * tokens carry the session id, so revoking the session refuses them too.
 */
export const sessions = pgTable(
  'sessions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    /** HMAC-SHA256 of the current refresh token. */
    refreshHash: text('refresh_hash').notNull().unique(),
    createdAt: createdAt(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }).notNull().defaultNow(),
    /** Fixed at sign-in (REFRESH_TOKEN_TTL_SECONDS); rotation does not extend it. */
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    /** logout | reuse | user-disabled | credentials-changed (new password or role) */
    revokedReason: text('revoked_reason'),
  },
  (t) => [index('sessions_user_idx').on(t.userId)],
);

/**
 * Refresh tokens already rotated away. Presenting one again means it was copied: the
 * session is revoked (token-reuse detection, RFC 9700 §4.14.2).
 */
export const retiredRefreshTokens = pgTable(
  'retired_refresh_tokens',
  {
    refreshHash: text('refresh_hash').primaryKey(),
    sessionId: uuid('session_id')
      .notNull()
      .references(() => sessions.id),
    retiredAt: timestamp('retired_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('retired_refresh_tokens_session_idx').on(t.sessionId)],
);

/**
 * A DICOM study as a clinic sent it (STOW-RS or C-STORE), kept per clinic: the same
 * StudyInstanceUID from two clinics is two studies, so one clinic can never learn of
 * another's. Patient attributes are kept only because QIDO-RS must answer them; they are
 * never logged or audited. Counts are kept here (in the transaction that adds an instance)
 * so worklist rows and QIDO answers need no aggregate.
 */
export const studies = pgTable(
  'studies',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    studyInstanceUid: text('study_instance_uid').notNull(),
    clinicId: text('clinic_id')
      .notNull()
      .references(() => facilities.id),
    patientId: text('patient_id'),
    patientName: text('patient_name'),
    patientSex: text('patient_sex'),
    patientBirthDate: text('patient_birth_date'),
    /** DICOM DA (YYYYMMDD), so a range is a string comparison. */
    studyDate: text('study_date'),
    studyTime: text('study_time'),
    description: text('description'),
    accessionNumber: text('accession_number'),
    modalities: jsonb('modalities').$type<string[]>().notNull().default([]),
    seriesCount: integer('series_count').notNull().default(0),
    instanceCount: integer('instance_count').notNull().default(0),
    /** receiving: instances may still come; queued: its case exists. */
    state: text('state', { enum: ['receiving', 'queued'] })
      .notNull()
      .default('receiving'),
    lastInstanceAt: timestamp('last_instance_at', { withTimezone: true }).notNull(),
    caseId: uuid('case_id').references(() => cases.id),
    createdAt: createdAt(),
  },
  (t) => [
    // Parallel uploads of one study meet here (INSERT … ON CONFLICT) and make one study.
    uniqueIndex('studies_clinic_uid_uq').on(t.clinicId, t.studyInstanceUid),
    uniqueIndex('studies_case_uq').on(t.caseId),
    index('studies_uid_idx').on(t.studyInstanceUid),
  ],
);

export const series = pgTable(
  'series',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    studyId: uuid('study_id')
      .notNull()
      .references(() => studies.id),
    seriesInstanceUid: text('series_instance_uid').notNull(),
    modality: text('modality'),
    seriesNumber: integer('series_number'),
    description: text('description'),
    bodyPart: text('body_part'),
    instanceCount: integer('instance_count').notNull().default(0),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('series_study_uid_uq').on(t.studyId, t.seriesInstanceUid)],
);

export const instances = pgTable(
  'instances',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    studyId: uuid('study_id')
      .notNull()
      .references(() => studies.id),
    seriesId: uuid('series_id')
      .notNull()
      .references(() => series.id),
    clinicId: text('clinic_id')
      .notNull()
      .references(() => facilities.id),
    sopInstanceUid: text('sop_instance_uid').notNull(),
    sopClassUid: text('sop_class_uid').notNull(),
    instanceNumber: integer('instance_number'),
    transferSyntaxUid: text('transfer_syntax_uid').notNull(),
    /** sha256 of the Part 10 file; also its blob key. */
    sha256: text('sha256').notNull(),
    sizeBytes: integer('size_bytes').notNull(),
    rows: integer('rows'),
    columns: integer('columns'),
    frames: integer('frames').notNull().default(1),
    /** The image description frames and thumbnails need (libs/dicom InspectedImage). */
    image: jsonb('image').$type<Record<string, unknown>>(),
    /** Where Pixel Data sits in the file, for frame retrieval without parsing again. */
    pixelData: jsonb('pixel_data').$type<{
      offset: number;
      length: number;
      encapsulated: boolean;
    }>(),
    /** PS3.18 F.2 DICOM JSON without bulk data: what WADO-RS metadata answers. */
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull(),
    receivedVia: text('received_via', { enum: ['stow', 'c-store', 'upload'] }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    // A SOP Instance UID names one file per clinic: the same bytes again are "already
    // stored", other bytes a conflict.
    uniqueIndex('instances_clinic_sop_uq').on(t.clinicId, t.sopInstanceUid),
    index('instances_series_idx').on(t.seriesId, t.instanceNumber),
    index('instances_study_idx').on(t.studyId),
  ],
);

/**
 * The calling AE titles of a clinic's DICOM machines (DICOM listener, docs/imaging.md). One
 * title names one clinic, so an association is placed without doubt; the primary key says so.
 */
export const clinicAeTitles = pgTable(
  'clinic_ae_titles',
  {
    aeTitle: text('ae_title').primaryKey(),
    clinicId: text('clinic_id')
      .notNull()
      .references(() => facilities.id),
    createdAt: createdAt(),
  },
  (t) => [index('clinic_ae_titles_clinic_idx').on(t.clinicId)],
);

/**
 * A doctor's request for a patient's earlier record (docs/consent.md). A row is written for
 * every request, also when the number matches no patient (`patient_id` null, a hash no code
 * can match), so both answer alike and take the same work.
 */
export const consentRequests = pgTable(
  'consent_requests',
  {
    id: uuid('id').primaryKey(),
    patientId: uuid('patient_id').references((): AnyPgColumn => patients.id),
    /** The keyed HMAC of the document type and number asked for (PatientIdentity.lookupKey). */
    subjectKey: text('subject_key').notNull(),
    requestedBy: uuid('requested_by')
      .notNull()
      .references(() => users.id),
    requestedByFacility: text('requested_by_facility')
      .notNull()
      .references(() => facilities.id),
    purpose: text('purpose').notNull(),
    /** HMAC-SHA256 of request id, patient and code, keyed from AUTH_SECRET; never the code. */
    codeHash: text('code_hash').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    /** Codes tried so far, counted before each is checked. */
    attempts: integer('attempts').notNull().default(0),
    lockedAt: timestamp('locked_at', { withTimezone: true }),
    usedAt: timestamp('used_at', { withTimezone: true }),
    /** From the relay's clock: the request limits count by it. */
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    index('consent_requests_requester_idx').on(t.requestedBy, t.createdAt),
    index('consent_requests_subject_idx').on(t.requestedBy, t.subjectKey, t.createdAt),
  ],
);

/** Time-limited access to one patient's record for one doctor, given by a verified code. */
export const accessGrants = pgTable(
  'access_grants',
  {
    id: uuid('id').primaryKey(),
    patientId: uuid('patient_id')
      .notNull()
      .references((): AnyPgColumn => patients.id),
    grantee: uuid('grantee')
      .notNull()
      .references(() => users.id),
    facilityId: text('facility_id')
      .notNull()
      .references(() => facilities.id),
    purpose: text('purpose').notNull(),
    /** One grant per request: a code works once. */
    requestId: uuid('request_id')
      .notNull()
      .unique()
      .references(() => consentRequests.id),
    grantedAt: timestamp('granted_at', { withTimezone: true }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [
    index('access_grants_grantee_idx').on(t.grantee, t.patientId, t.expiresAt),
    index('access_grants_patient_idx').on(t.patientId, t.grantedAt),
  ],
);

/**
 * A patient, registered by a clinic (docs/patients.md). The identifier number is kept only
 * sealed (AES-256-GCM) and found by its keyed hash; the masked form is kept for display.
 */
export const patients = pgTable('patients', {
  id: uuid('id').primaryKey().defaultRandom(),
  /** HMAC-SHA256 of document type and number (PatientIdentity.lookupKey). */
  identifierKey: text('identifier_key').notNull().unique(),
  /** `<keyId>.<base64url>`; the key id says which PATIENT_ID_KEYS entry opens it. */
  identifierSealed: text('identifier_sealed').notNull(),
  identifierMasked: text('identifier_masked').notNull(),
  documentType: text('document_type', { enum: ['resident_id', 'passport', 'other'] }).notNull(),
  name: text('name').notNull(),
  sex: text('sex', { enum: ['female', 'male', 'unknown'] }).notNull(),
  birthDate: date('birth_date', { mode: 'string' }),
  /** The mobile number verification codes go to, sealed like the identifier; null if none. */
  mobileSealed: text('mobile_sealed'),
  /** The facility that registered the patient first. */
  registeredBy: text('registered_by')
    .notNull()
    .references(() => facilities.id),
  createdAt: createdAt(),
});

/** An exam a clinic registered, which a box recording or a DICOM study then fulfils. */
export const examOrders = pgTable(
  'exam_orders',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** What the box operator types: 8 characters of ORDER_NUMBER_ALPHABET. */
    orderNumber: text('order_number').notNull().unique(),
    clinicId: text('clinic_id')
      .notNull()
      .references(() => facilities.id),
    patientId: uuid('patient_id')
      .notNull()
      .references(() => patients.id),
    kind: text('kind', { enum: ['ecg', 'imaging'] }).notNull(),
    modality: text('modality'),
    bodyPart: text('body_part'),
    indication: text('indication').notNull(),
    urgency: text('urgency', { enum: ['stat', 'urgent', 'routine'] }).notNull(),
    status: text('status', { enum: ['open', 'recorded', 'cancelled'] })
      .notNull()
      .default('open'),
    /** Imaging: the Accession Number (0008,0050) a study of this order arrives with. */
    accessionNumber: text('accession_number').unique(),
    createdBy: uuid('created_by')
      .notNull()
      .references(() => users.id),
    createdAt: createdAt(),
    recordedAt: timestamp('recorded_at', { withTimezone: true }),
  },
  (t) => [
    index('exam_orders_clinic_open_idx')
      .on(t.clinicId, t.createdAt)
      .where(sql`${t.status} = 'open'`),
    index('exam_orders_patient_idx').on(t.patientId, t.createdAt),
  ],
);

/**
 * A repeated exam the clinic was warned of: the same patient had the same kind of exam
 * within REPEAT_EXAM_WINDOW_DAYS. Counted for the health authority (stats).
 */
export const repeatExamWarnings = pgTable(
  'repeat_exam_warnings',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    patientId: uuid('patient_id')
      .notNull()
      .references(() => patients.id),
    /** The order that was warned about; null when a study without an order arrived. */
    orderId: uuid('order_id').references(() => examOrders.id),
    /** The clinic that was warned. */
    clinicId: text('clinic_id')
      .notNull()
      .references(() => facilities.id),
    kind: text('kind', { enum: ['ecg', 'imaging'] }).notNull(),
    /** The earlier exams' case ids (the studies hang off the cases). */
    earlierCaseIds: jsonb('earlier_case_ids').$type<string[]>().notNull(),
    warnedAt: timestamp('warned_at', { withTimezone: true }).notNull().defaultNow(),
    /** true: the clinic went ahead (or the exam arrived anyway); false: cancelled; null: open. */
    wentAhead: boolean('went_ahead'),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('repeat_exam_warnings_order_uq').on(t.orderId),
    index('repeat_exam_warnings_at_idx').on(t.warnedAt),
  ],
);
