/**
 * The replication protocol over `pg` itself (a connection opened with `replication: "database"`).
 * Not through `pg-logical-replication`: its decoder turns values into JS through pg's global type
 * parsers (timestamps lose their microseconds) and an unchanged TOAST value into `undefined`; its
 * status timer acknowledges the last LSN *received*, not the last one committed to Kafka; its flow
 * control awaits a handler per message where this source is pulled by the pipeline; and it cannot
 * create a slot with an exported snapshot. What it would give (START_REPLICATION, CopyData,
 * standby status) is a few lines here.
 *
 * Backpressure: the socket stops being read while the decoded frames waiting for read() weigh
 * more than maxQueuedBytes; the server keeps the WAL. Status updates (the confirmed flush LSN,
 * only ever what the pipeline acked) go out on a timer even then, so wal_sender_timeout does not
 * end a paused connection.
 */
import { once } from "node:events";
import type pg from "pg";
import type { Logger } from "../../runtime/log.js";
import { ConnectionError, ErrorCode, PreconditionError } from "../../runtime/errors.js";
import { formatLsn, parseFrame, parseLsn, standbyStatus } from "./pgoutput.js";

/** What pg's Client keeps of the connection, and this file uses (CopyData in both directions). */
interface WireConnection {
  on(event: "copyData", listener: (msg: { chunk: Buffer }) => void): void;
  once(event: "replicationStart", listener: () => void): void;
  removeAllListeners(event: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  stream: { pause(): void; resume(): void };
}

const wire = (client: pg.Client) => (client as unknown as { connection: WireConnection }).connection;

export interface CreatedSlot {
  /** Changes committed from here on are decoded; the exported snapshot shows everything before. */
  consistentPoint: bigint;
  /** The snapshot to import with SET TRANSACTION SNAPSHOT; alive while this connection stays open and idle. */
  snapshot: string | null;
}

export async function createSlot(client: pg.Client, slot: string, options: { temporary?: boolean; exportSnapshot: boolean }): Promise<CreatedSlot> {
  const { rows } = await client.query<{ consistent_point: string; snapshot_name: string | null }>(
    `CREATE_REPLICATION_SLOT ${slot}${options.temporary ? " TEMPORARY" : ""} LOGICAL pgoutput ${options.exportSnapshot ? "EXPORT_SNAPSHOT" : "NOEXPORT_SNAPSHOT"}`,
  );
  const row = rows[0]!;
  return { consistentPoint: parseLsn(row.consistent_point), snapshot: row.snapshot_name };
}

/** The slot's errors as the catalogue names them; anything else is classified by the runtime. */
export function slotError(err: unknown, slot: string, connector: string): unknown {
  const e = err as { code?: string; message?: string };
  if (e.code === "42704" && /replication slot/i.test(e.message ?? "")) {
    return new PreconditionError(ErrorCode.PGCDC_SLOT_MISSING, `replication slot "${slot}" does not exist: it was dropped after the connector's last position`, {
      connector,
      cause: err,
      fix: "set snapshot.mode: when_needed to copy the tables again, or reset the connector's offsets",
    });
  }
  if (e.code === "55000" && /can no longer get changes|invalidated/i.test(e.message ?? "")) {
    return new PreconditionError(ErrorCode.PGCDC_SLOT_INVALIDATED, `replication slot "${slot}" was invalidated: ${e.message ?? ""}`, {
      connector,
      cause: err,
      fix: "set snapshot.mode: when_needed (the slot is dropped and the tables copied again), and raise max_slot_wal_keep_size",
    });
  }
  if (e.code === "55006") {
    // another process still streams from it: a previous instance's walsender not yet gone, or a second instance
    return new ConnectionError(`replication slot "${slot}" is in use by another connection: ${e.message ?? ""}`, { connector, cause: err });
  }
  return err;
}

export interface WalStreamOptions {
  slot: string;
  publication: string;
  /** Transactions that commit before this LSN are not sent again. */
  start: bigint;
  /** What the pipeline has committed so far: the first status update says it. */
  confirmed: bigint;
  protoVersion: number;
  maxQueuedBytes: number;
  statusIntervalMs: number;
  connector: string;
  log: Logger;
}

/** One pgoutput message and the LSN of its WAL record. */
export interface WalMessage {
  lsn: bigint;
  message: Buffer;
}

export class WalStream {
  private readonly queue: WalMessage[] = [];
  private head = 0;
  private queuedBytes = 0;
  private paused = false;
  private failed: Error | undefined;
  private ended = false;
  private confirmed: bigint;
  private timer: NodeJS.Timeout | undefined;
  private waiter: (() => void) | undefined;
  private query: Promise<unknown> | undefined;

  constructor(
    private readonly client: pg.Client,
    private readonly options: WalStreamOptions,
  ) {
    this.confirmed = options.confirmed;
  }

  async start(): Promise<void> {
    const o = this.options;
    const connection = wire(this.client);
    connection.on("copyData", ({ chunk }) => this.onCopyData(chunk));
    this.client.on("error", (err: Error) => this.fail(err));
    const publication = o.publication.replace(/'/g, "''");
    const started = once(connection as unknown as NodeJS.EventEmitter, "replicationStart");
    this.query = this.client
      .query(
        `START_REPLICATION SLOT ${o.slot} LOGICAL ${formatLsn(o.start)} (proto_version '${o.protoVersion}', publication_names '${publication}', messages 'true')`,
      )
      .then(
        () => this.fail(new ConnectionError(`the server ended replication from slot "${o.slot}"`, { connector: o.connector })),
        (err: unknown) => this.fail(slotError(err, o.slot, o.connector) as Error),
      );
    await Promise.race([started, this.query.then(() => this.check())]);
    this.check();
    this.sendStatus(false);
    this.timer = setInterval(() => this.sendStatus(false), o.statusIntervalMs);
    this.timer.unref();
  }

  /** Everything before `lsn` is committed in Kafka: the server may let that WAL go. */
  confirm(lsn: bigint): void {
    if (lsn <= this.confirmed) return;
    this.confirmed = lsn;
    this.sendStatus(false);
  }

  /** The next message, or undefined when none is waiting. Throws what ended the stream, after its messages. */
  next(): WalMessage | undefined {
    if (this.head < this.queue.length) {
      const m = this.queue[this.head]!;
      this.queue[this.head++] = undefined as unknown as WalMessage;
      this.queuedBytes -= m.message.length;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      if (this.paused && this.queuedBytes < this.options.maxQueuedBytes / 2) {
        this.paused = false;
        wire(this.client).stream.resume();
      }
      return m;
    }
    this.check();
    return undefined;
  }

  /** Waits until a message arrives, `ms` pass or the signal aborts. */
  async wait(ms: number, signal: AbortSignal): Promise<void> {
    if (this.head < this.queue.length || this.failed !== undefined || signal.aborted || ms <= 0) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        signal.removeEventListener("abort", done);
        this.waiter = undefined;
        resolve();
      };
      const t = setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
      this.waiter = done;
    });
  }

  check(): void {
    if (this.failed !== undefined) throw this.failed;
  }

  status() {
    return { confirmedLsn: formatLsn(this.confirmed), queuedBytes: this.queuedBytes, paused: this.paused };
  }

  async stop(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.timer);
    wire(this.client).removeAllListeners("copyData");
    await this.client.end().catch(() => undefined);
    await this.query?.catch(() => undefined);
  }

  private onCopyData(chunk: Buffer): void {
    const frame = parseFrame(chunk);
    if (!frame) return;
    if (frame.kind === "keepalive") {
      if (frame.replyRequested) this.sendStatus(false);
      return;
    }
    // a copy: pg's parser reuses its buffer for the next frames, and this one waits in the queue
    this.queue.push({ lsn: frame.start, message: Buffer.from(frame.message) });
    this.queuedBytes += frame.message.length;
    if (!this.paused && this.queuedBytes >= this.options.maxQueuedBytes) {
      this.paused = true;
      wire(this.client).stream.pause();
    }
    this.waiter?.();
  }

  private sendStatus(replyRequested: boolean): void {
    if (this.ended || this.failed !== undefined) return;
    try {
      wire(this.client).sendCopyFromChunk(standbyStatus(this.confirmed, replyRequested));
    } catch (err) {
      this.fail(err as Error);
    }
  }

  private fail(err: Error): void {
    if (this.ended) return;
    this.failed ??= err;
    this.waiter?.();
  }
}
