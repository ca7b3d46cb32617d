import { once } from 'node:events';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { finished } from 'node:stream/promises';
import { Writable } from 'node:stream';
import dcmjsDimse from 'dcmjs-dimse';
import type { Logger } from '../logging/logger.js';
import { part10Header } from './part10-header.js';
import { PduLengthGuard } from './pdu-length-guard.js';

const { Dataset, Scp, constants, log: libraryLog, responses } = dcmjsDimse;
const { PresentationContextResult, RejectReason, RejectResult, RejectSource, SopClass, Status } =
  constants;
type Association = dcmjsDimse.association.Association;
type PresentationContext = dcmjsDimse.association.PresentationContext;
type CEchoRequest = dcmjsDimse.requests.CEchoRequest;
type CStoreRequest = dcmjsDimse.requests.CStoreRequest;
type CEchoResponse = dcmjsDimse.responses.CEchoResponse;
type CStoreResponse = dcmjsDimse.responses.CStoreResponse;

// The library logs every PDU to the console by default (association contents included);
// the relay logs what it decides itself, through its own logger.
libraryLog.setLevel('silent');

/** Why an association request was refused (PS3.8 §9.3.4, A-ASSOCIATE-RJ). */
export type AssociationRefusal =
  'calling-ae-not-recognised' | 'called-ae-not-recognised' | 'too-many-associations';

export interface AssociationAttempt {
  callingAe: string;
  calledAe: string;
  remoteAddress: string | undefined;
}

export type AssociationVerdict<S> =
  { accepted: true; session: S } | { accepted: false; refusal: AssociationRefusal };

/** What one C-STORE request delivered. */
export type ReceivedInstance =
  | {
      kind: 'file';
      /** A Part 10 file in the scratch area; whoever `store` hands it to must consume it. */
      path: string;
      bytes: number;
      sopClassUid: string;
      sopInstanceUid: string;
      transferSyntaxUid: string;
    }
  | {
      kind: 'memory';
      /** The Part 10 file's bytes (DimseListenOptions.maxInMemoryBytes at most). */
      data: Buffer;
      bytes: number;
      sopClassUid: string;
      sopInstanceUid: string;
      transferSyntaxUid: string;
    }
  | { kind: 'too-large'; limitBytes: number; sopClassUid: string; sopInstanceUid: string };

/** The C-STORE response status (PS3.4 B.2.3, PS3.7 C) and an optional Error Comment. */
export interface StoreReply {
  status: number;
  errorComment?: string;
}

/** What the DICOM listener asks the relay: who may associate, and what to do with a file. */
export interface StorageGate<S> {
  associate(attempt: AssociationAttempt): Promise<AssociationVerdict<S>>;
  store(session: S, instance: ReceivedInstance): Promise<StoreReply>;
  /** An association ended otherwise than by a release: aborted, broken, timed out. */
  ended(session: S | undefined, event: { remoteAddress: string | undefined; reason: string }): void;
}

export interface DimseListenOptions<S> {
  port: number;
  host?: string;
  gate: StorageGate<S>;
  /** Storage SOP classes and transfer syntaxes accepted in presentation contexts. */
  sopClassUids: readonly string[];
  transferSyntaxUids: readonly string[];
  /** A fresh path on the blob store's file system for each received instance. */
  scratchPath: () => Promise<string>;
  maxInstanceBytes: number;
  /**
   * An instance up to this size is held in memory and handed over as bytes, not written to a
   * scratch file write by write (each PDV a round trip to libuv's pool); larger ones go on
   * to a scratch file. Default DEFAULT_IN_MEMORY_BYTES.
   */
  maxInMemoryBytes?: number;
  maxAssociations: number;
  /** Largest P-DATA-TF PDU the relay receives (PS3.8 D.1, Maximum Length). */
  maxPduBytes?: number;
  /** Idle time before a silent association is aborted. */
  idleTimeoutMs?: number;
}

const DEFAULT_MAX_PDU_BYTES = 256 * 1024;
/** A CT or MR slice and most single images; one per association at a time. */
const DEFAULT_IN_MEMORY_BYTES = 8 * 1024 * 1024;
const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
/** The library's "unknown status" for a C-STORE we could not process (PS3.7 C.4.2). */
const PROCESSING_FAILURE = 0x0110;

/**
 * The DICOM upper layer (PS3.8) and DIMSE (PS3.7) for C-ECHO and C-STORE as an SCP, on
 * dcmjs-dimse. Speaks relay terms to its gate: an association is accepted for a session or
 * refused for a reason; each C-STORE is a Part 10 file in memory (up to maxInMemoryBytes) or
 * on disk (streamed there as its PDUs arrive beyond that), or a too-large instance; the gate
 * answers its status.
 * Nothing a peer sends can throw out of here: protocol errors close that connection.
 */
export class DimseServer<S> {
  private server: Server | undefined;
  private readonly connections = new Set<RelayScp<S>>();

  constructor(private readonly log: Logger) {}

  get port(): number | undefined {
    const address = this.server?.address();
    return typeof address === 'object' && address ? address.port : undefined;
  }

  async listen(options: DimseListenOptions<S>): Promise<void> {
    const server = createServer((socket) => this.accept(socket, options));
    server.on('error', (error) => this.log.error({ err: error }, 'DICOM listener error'));
    server.listen(options.port, options.host);
    await once(server, 'listening');
    this.server = server;
  }

  /**
   * Takes no new association and resolves once those under way have ended (released,
   * aborted or dropped by their peer): a graceful stop lets a C-STORE in progress finish.
   */
  async stopAccepting(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Stops accepting, and ends every open association (their partial files are removed). */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const connection of this.connections) connection.peer.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(socket: Socket, options: DimseListenOptions<S>): void {
    socket.on('error', () => {
      // Reported by the association ('networkError'); a reset peer must not crash the relay.
    });
    const scp = new RelayScp(socket, options, this.log, this.connections.size);
    this.connections.add(scp);
    socket.once('close', () => this.connections.delete(scp));
  }
}

/** One association, as dcmjs-dimse's Scp for its socket. */
class RelayScp<S> extends Scp {
  private session: S | undefined;
  private callingAe: string | undefined;
  private released = false;
  private readonly remoteAddress: string | undefined;
  readonly peer: Socket;
  /** Instances being received or waiting for their status; removed when handed over. */
  private readonly sinks = new Map<CStoreRequest, Part10FileSink>();

  constructor(
    socket: Socket,
    private readonly options: DimseListenOptions<S>,
    private readonly log: Logger,
    private readonly openAssociations: number,
  ) {
    const idle = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    super(socket, { connectTimeout: idle, associationTimeout: idle, pduTimeout: idle });
    this.peer = socket;
    this.remoteAddress = socket.remoteAddress;
    this.connected = true;
    const guard = new PduLengthGuard(options.maxPduBytes ?? DEFAULT_MAX_PDU_BYTES);
    socket.on('data', (chunk: Buffer) => {
      const problem = guard.feed(chunk);
      if (problem) this.drop(problem);
    });
    this.on('networkError', (error: Error) => this.drop(error.message));
    socket.once('close', () => {
      for (const sink of this.sinks.values()) void sink.abandon();
      this.sinks.clear();
      if (!this.released)
        this.gate.ended(this.session, {
          remoteAddress: this.remoteAddress,
          reason: 'connection closed',
        });
    });
  }

  declare connected: boolean;

  private get gate(): StorageGate<S> {
    return this.options.gate;
  }

  override associationRequested(association: Association): void {
    void this.decide(association).catch((error: unknown) => {
      this.log.error({ err: error }, 'DICOM association decision failed');
      this.reject(RejectResult.Transient, RejectSource.ServiceUser, RejectReason.NoReasonGiven);
    });
  }

  private async decide(association: Association): Promise<void> {
    const attempt: AssociationAttempt = {
      callingAe: association.getCallingAeTitle().trim(),
      calledAe: association.getCalledAeTitle().trim(),
      remoteAddress: this.remoteAddress,
    };
    const verdict: AssociationVerdict<S> =
      this.openAssociations >= this.options.maxAssociations
        ? { accepted: false, refusal: 'too-many-associations' }
        : await this.gate.associate(attempt);
    if (!verdict.accepted) {
      // PS3.8 §9.3.4: calling/called AE not recognised are permanent refusals by the
      // service user; a local limit is a transient one by the presentation provider.
      switch (verdict.refusal) {
        case 'calling-ae-not-recognised':
          return this.reject(
            RejectResult.Permanent,
            RejectSource.ServiceUser,
            RejectReason.CallingAeNotRecognized,
          );
        case 'called-ae-not-recognised':
          return this.reject(
            RejectResult.Permanent,
            RejectSource.ServiceUser,
            RejectReason.CalledAeNotRecognized,
          );
        case 'too-many-associations':
          return this.reject(
            RejectResult.Transient,
            RejectSource.ServiceProviderPresentation,
            RejectReason.LocalLimitExceeded,
          );
      }
    }
    this.session = verdict.session;
    this.callingAe = attempt.callingAe;
    const storage = new Set(this.options.sopClassUids);
    for (const { context } of association.getPresentationContexts()) {
      const abstract = context.getAbstractSyntaxUid();
      if (abstract !== SopClass.Verification && !storage.has(abstract)) {
        context.setResult(PresentationContextResult.RejectAbstractSyntaxNotSupported);
        continue;
      }
      // The relay's preference order, not the proposer's: the first accepted syntax offered.
      const offered = new Set(context.getTransferSyntaxUids());
      const chosen = this.options.transferSyntaxUids.find((uid) => offered.has(uid));
      if (chosen) context.setResult(PresentationContextResult.Accept, chosen);
      else context.setResult(PresentationContextResult.RejectTransferSyntaxesNotSupported);
    }
    association.setMaxPduLength(this.options.maxPduBytes ?? DEFAULT_MAX_PDU_BYTES);
    this.sendAssociationAccept();
  }

  private reject(result: number, source: number, reason: number): void {
    this.released = true;
    this.sendAssociationReject(result, source, reason);
    this.peer.end();
  }

  override associationReleaseRequested(): void {
    this.released = true;
    this.sendAssociationReleaseResponse();
  }

  override cEchoRequest(request: CEchoRequest, callback: (response: CEchoResponse) => void): void {
    const response = responses.CEchoResponse.fromRequest(request);
    response.setStatus(Status.Success);
    callback(response);
  }

  override createStoreWritableStream(
    context: PresentationContext,
    request: CStoreRequest,
  ): Writable {
    const sink = new Part10FileSink(
      {
        sopClassUid: request.getAffectedSopClassUid(),
        sopInstanceUid: request.getAffectedSopInstanceUid(),
        transferSyntaxUid: context.getAcceptedTransferSyntaxUid() ?? '',
        sourceAeTitle: this.callingAe,
      },
      this.options.scratchPath,
      this.options.maxInstanceBytes,
      this.options.maxInMemoryBytes ?? DEFAULT_IN_MEMORY_BYTES,
    );
    if (context.getResult() !== PresentationContextResult.Accept) {
      // PS3.8 §9.3.5: data on a context that was not accepted is a protocol error.
      this.drop('C-STORE on a presentation context that was not accepted');
    }
    // Without a listener a stream error (scratch area unwritable, a write after the
    // connection went) would be thrown at the process; here it ends this association only.
    sink.on('error', (error: Error) => {
      this.log.error({ err: error }, 'could not write a received instance');
      this.drop('the received instance could not be written');
    });
    this.sinks.set(request, sink);
    return sink;
  }

  override createDatasetFromStoreWritableStream(
    writable: Writable,
    context: PresentationContext,
    callback: (dataset: InstanceType<typeof Dataset>) => void,
  ): void {
    // The dataset is on disk; the request only needs a placeholder to carry on.
    finished(writable).then(
      () => callback(new Dataset({}, context.getAcceptedTransferSyntaxUid())),
      () => {
        // Destroyed (connection gone): nothing to answer.
      },
    );
  }

  override cStoreRequest(
    request: CStoreRequest,
    callback: (response: CStoreResponse) => void,
  ): void {
    const sink = this.sinks.get(request);
    this.sinks.delete(request);
    const session = this.session;
    const answer = (reply: StoreReply) => {
      const response = responses.CStoreResponse.fromRequest(request);
      response.setStatus(reply.status);
      if (reply.errorComment) response.setErrorComment(reply.errorComment.slice(0, 64));
      if (!this.peer.destroyed) callback(response);
    };
    if (!sink || session === undefined) {
      answer({ status: PROCESSING_FAILURE, errorComment: 'instance not received' });
      return;
    }
    const identity = {
      sopClassUid: request.getAffectedSopClassUid(),
      sopInstanceUid: request.getAffectedSopInstanceUid(),
    };
    const received: ReceivedInstance = sink.overLimit
      ? { kind: 'too-large', limitBytes: this.options.maxInstanceBytes, ...identity }
      : sink.path
        ? {
            kind: 'file',
            path: sink.path,
            bytes: sink.bytes,
            transferSyntaxUid: sink.meta.transferSyntaxUid,
            ...identity,
          }
        : {
            kind: 'memory',
            data: sink.takeBytes(),
            bytes: sink.bytes,
            transferSyntaxUid: sink.meta.transferSyntaxUid,
            ...identity,
          };
    this.gate.store(session, received).then(answer, (error: unknown) => {
      this.log.error({ err: error }, 'C-STORE could not be processed');
      if (received.kind === 'file') void rm(received.path, { force: true });
      answer({ status: PROCESSING_FAILURE, errorComment: 'the relay could not store it' });
    });
  }

  override abort(): void {
    this.drop('peer aborted the association');
  }

  /** Ends this connection for a protocol problem; the relay goes on. */
  private drop(reason: string): void {
    if (this.peer.destroyed) return;
    this.log.warn({ remoteAddress: this.remoteAddress, reason }, 'DICOM association dropped');
    this.peer.destroy();
  }
}

/**
 * A received dataset: the Part 10 header first, then the dataset bytes as the PDUs bring
 * them, held in memory up to `maxInMemoryBytes` and from there on written to a scratch file
 * (the held bytes first). Past `maxBytes` it stops keeping them and removes any file (the
 * C-STORE is then answered "out of resources"); destroyed half-way, it removes the file too.
 */
class Part10FileSink extends Writable {
  /** The scratch file, once the instance outgrew memory; '' while it is held in memory. */
  path = '';
  bytes = 0;
  overLimit = false;
  private held: Buffer[] = [];
  private handle: FileHandle | undefined;
  private handedOver = false;

  constructor(
    readonly meta: Parameters<typeof part10Header>[0],
    private readonly scratchPath: () => Promise<string>,
    private readonly maxBytes: number,
    private readonly maxInMemoryBytes: number,
  ) {
    super();
    const header = part10Header(meta);
    this.held.push(header);
    this.bytes = header.length;
  }

  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    if (this.overLimit) return callback();
    if (this.bytes + chunk.length > this.maxBytes) {
      this.overLimit = true;
      this.held = [];
      this.discard().then(() => callback(), callback);
      return;
    }
    if (!this.path && this.bytes + chunk.length <= this.maxInMemoryBytes) {
      // A copy: the chunk comes from dcmjs-dimse's PDU buffers, and a held chunk outlives
      // this write's callback (a file write did not), so it must not depend on them.
      this.held.push(Buffer.from(chunk));
      this.bytes += chunk.length;
      return callback();
    }
    (this.path ? this.append(chunk) : this.spill(chunk)).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    const handle = this.handle;
    this.handle = undefined;
    this.handedOver = !this.overLimit;
    (handle ? handle.close() : Promise.resolve()).then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // Finished writables destroy themselves: a whole instance stays held for takeBytes.
    if (this.handedOver && !error) return callback(error);
    this.held = [];
    this.handedOver = false;
    this.discard().then(
      () => callback(error),
      () => callback(error),
    );
  }

  /** The connection is gone before the instance was handed over: no file stays behind. */
  async abandon(): Promise<void> {
    this.handedOver = false;
    this.held = [];
    if (!this.destroyed) this.destroy();
    await this.discard();
  }

  /** The instance held in memory, once: the sink keeps no reference to it. */
  takeBytes(): Buffer {
    const bytes = this.held.length === 1 ? this.held[0]! : Buffer.concat(this.held, this.bytes);
    this.held = [];
    return bytes;
  }

  /** The instance outgrew memory: to a scratch file with what was held, then this chunk. */
  private async spill(chunk: Buffer): Promise<void> {
    this.path = await this.scratchPath();
    this.handle = await open(this.path, 'wx', 0o600);
    const held = this.held;
    this.held = [];
    await this.writeAll(Buffer.concat(held));
    await this.append(chunk);
  }

  private async append(bytes: Buffer): Promise<void> {
    await this.writeAll(bytes);
    this.bytes += bytes.length;
  }

  private async writeAll(bytes: Buffer): Promise<void> {
    if (!this.handle) return;
    let written = 0;
    while (written < bytes.length) {
      const { bytesWritten } = await this.handle.write(bytes, written, bytes.length - written);
      written += bytesWritten;
    }
  }

  private async discard(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close().catch(() => undefined);
    if (this.path) await rm(this.path, { force: true });
  }
}
