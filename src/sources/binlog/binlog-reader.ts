/**
 * zongji, wrapped: a binlog dump from a point, into a bounded queue. When the queue holds
 * `maxQueuedRows` change rows and events, or `maxQueuedBytes` of them (as the binlog sized them: wide
 * rows fill memory long before they fill the row count), reading the socket pauses
 * (zongji.connection.pause()), so the server holds the backlog, not our memory; it resumes once
 * both are below half. The server is told to send a
 * heartbeat when the log is idle, and a stream that stays silent past three heartbeats is taken
 * for dead (a retriable ConnectionError), whatever the TCP stack thinks.
 */
import ZongJi, { type AnyBinlogEvent, type TableMapEvent } from "@vlasky/zongji";
import type { DatabaseConnection } from "../../runtime/config/fields.js";
import { describeConnectError } from "../../runtime/db/connect-errors.js";
import { mysqlOptions } from "../../runtime/db/mysql.js";
import { classifyTlsError } from "../../runtime/tls.js";
import { ConnectionError, ErrorCode, type LiberatorError, PreconditionError } from "../../runtime/errors.js";
import type { Logger } from "../../runtime/log.js";
import { describeCoordinates, type Coordinates } from "./position.js";
import type { ColumnSchema } from "./table-map.js";
import { classifyMysqlError, isBinlogReadRefused } from "../../runtime/db/errors.js";

/** Events the source acts on; the rest are never decoded. */
export const EVENTS = [
  "rotate",
  "format",
  "mariadbgtid",
  "mariadbgtidlist",
  "binlogcheckpoint",
  "gtid",
  "anonymousgtid",
  "tablemap",
  "writerows",
  "updaterows",
  "deleterows",
  "xid",
  "query",
  "heartbeat",
  "xaprepare",
];

/** A pause may last as long as Kafka is slower than the log; the server must not drop us meanwhile. */
const NET_WRITE_TIMEOUT_S = 3600;

export interface ReaderOptions {
  connection: DatabaseConnection;
  serverId: number;
  start: Coordinates;
  /** Databases whose table maps are decoded at all; undefined decodes every database's. */
  databases: string[] | undefined;
  heartbeatMs: number;
  maxQueuedRows: number;
  maxQueuedBytes: number;
  log: Logger;
}

/** A table map with zongji's column schemas as they were when it arrived (zongji reuses its cache). */
export type QueuedTableMap = TableMapEvent & { schemas: ColumnSchema[] };

/** What an event weighs in the queue: its change rows, and one for the event itself (a run of tiny transactions is four events per row). */
const weightOf = (e: AnyBinlogEvent) => 1 + ("rows" in e && Array.isArray(e.rows) ? e.rows.length : 0);

export class BinlogReader {
  private readonly zongji: ZongJi;
  private queue: AnyBinlogEvent[] = [];
  private head = 0;
  private queued = 0;
  private queuedBytes = 0;
  private pausedAt: number | undefined;
  private failure: LiberatorError | undefined;
  private wake: (() => void) | undefined;
  private lastEventAt = Date.now();
  private watchdog: NodeJS.Timeout | undefined;
  private stopped = false;
  /** How long reading has been paused for Kafka, all told, for status(). */
  private pausedMs = 0;

  constructor(private readonly options: ReaderOptions) {
    this.zongji = new ZongJi({ ...mysqlOptions(options.connection), dateStrings: true, timezone: "Z" });
  }

  /** Resolves once the dump runs; rejects with the typed error when it cannot start. */
  async start(): Promise<void> {
    const { start, serverId, databases, heartbeatMs, log } = this.options;
    const ready = new Promise<void>((resolve, reject) => {
      this.zongji.once("ready", () => resolve());
      this.zongji.on("error", (err: Error) => {
        const e = this.classify(err);
        if (!this.failure) log.warn({ code: e.code, err: e.message }, "binlog stream failed");
        this.failure ??= e;
        reject(e);
        this.wake?.();
      });
    });
    this.zongji.on("binlog", (event: AnyBinlogEvent) => this.push(event));
    this.zongji.start({
      serverId,
      filename: start.file,
      position: start.pos,
      includeEvents: EVENTS,
      ...(databases ? { includeSchema: Object.fromEntries(databases.map((d) => [d, true as const])) } : {}),
    });
    // queued on the dump connection before zongji's own set-up, so both hold when the dump starts
    const conn = this.zongji.connection!;
    const settled = (err: Error | null) => {
      if (err) this.failure ??= new ConnectionError(`cannot set up the binlog connection: ${err.message}`, { cause: err });
    };
    conn.query(`SET SESSION net_write_timeout = ${NET_WRITE_TIMEOUT_S}`, settled);
    if (heartbeatMs > 0) conn.query(`SET @master_heartbeat_period = ${BigInt(heartbeatMs) * 1_000_000n}`, settled);
    await ready;
    this.lastEventAt = Date.now();
    if (heartbeatMs > 0) this.watchdog = setInterval(() => this.checkAlive(), heartbeatMs).unref();
    log.info({ from: describeCoordinates(start), serverId }, "binlog stream started");
  }

  /** The next event, or undefined when none is queued. */
  next(): AnyBinlogEvent | undefined {
    if (this.head >= this.queue.length) return undefined;
    const event = this.queue[this.head]!;
    this.queue[this.head++] = undefined as unknown as AnyBinlogEvent;
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.queued -= weightOf(event);
    this.queuedBytes -= event.size;
    if (this.pausedAt !== undefined && this.queued <= this.options.maxQueuedRows / 2 && this.queuedBytes <= this.options.maxQueuedBytes / 2) this.resume();
    return event;
  }

  /** Throws the stream's failure, if it failed. */
  check(): void {
    if (this.failure) throw this.failure;
  }

  /** Until an event is queued, the stream fails, `ms` pass, `signal` aborts or `settled` settles. */
  async wait(ms: number, signal: AbortSignal, settled?: Promise<void>): Promise<void> {
    if (this.head < this.queue.length || this.failure || signal.aborted) return;
    await new Promise<void>((resolve) => {
      let finished = false;
      const done = () => {
        // `settled` cannot be unsubscribed: settling after a later wait began must not end that one
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
      void settled?.then(done);
      this.wake = done;
    });
  }

  status(): { queued: number; queuedBytes: number; paused: boolean; pausedMs: number } {
    return { queued: this.queued, queuedBytes: this.queuedBytes, paused: this.pausedAt !== undefined, pausedMs: this.pausedMs + (this.pausedAt ? Date.now() - this.pausedAt : 0) };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.watchdog);
    const stopped = new Promise<void>((resolve) => this.zongji.once("stopped", () => resolve()));
    this.zongji.stop();
    await Promise.race([stopped, new Promise((r) => setTimeout(r, 2000))]);
    this.queue = [];
    this.head = 0;
  }

  private push(event: AnyBinlogEvent): void {
    this.lastEventAt = Date.now();
    if (event.getEventName() === "tablemap") {
      const map = event as QueuedTableMap;
      map.schemas = this.zongji.tableMap[map.tableId]?.columnSchemas ?? [];
    }
    this.queue.push(event);
    this.queued += weightOf(event);
    this.queuedBytes += event.size;
    if (this.pausedAt === undefined && (this.queued >= this.options.maxQueuedRows || this.queuedBytes >= this.options.maxQueuedBytes)) this.pause();
    this.wake?.();
  }

  private pause(): void {
    this.pausedAt = Date.now();
    this.zongji.connection?.pause();
  }

  private resume(): void {
    this.pausedMs += Date.now() - this.pausedAt!;
    this.pausedAt = undefined;
    this.zongji.connection?.resume();
  }

  private checkAlive(): void {
    if (this.pausedAt !== undefined || this.failure) {
      this.lastEventAt = Date.now();
      return;
    }
    const silent = Date.now() - this.lastEventAt;
    if (silent > 3 * this.options.heartbeatMs + 1000) {
      this.failure = new ConnectionError(`the binlog stream sent nothing, not even a heartbeat, for ${Math.round(silent / 1000)} s`, {
        fix: "check the network to the database; the connector reconnects from its last committed position",
      });
      this.wake?.();
    }
  }

  /**
   * The server refusing the start point is a precondition; a privilege revoked meanwhile heals once it
   * is granted back; anything else is worth a reconnect.
   */
  private classify(err: Error): LiberatorError {
    const e = err as Error & { errno?: number; code?: string };
    const at = describeCoordinates(this.options.start);
    if (isBinlogReadRefused(err)) {
      if (/could not find first log file/i.test(e.message)) {
        return new PreconditionError(ErrorCode.BINLOG_POSITION_PURGED, `the server no longer has binlog file ${this.options.start.file} (needed to resume at ${at}): ${e.message}`, {
          cause: err,
          fix: "changes made since are lost to the binlog: copy the tables again (snapshot.mode: when_needed does it by itself), or reset the connector's offsets with `liberator offsets reset --connector <name>`",
        });
      }
      return new PreconditionError(ErrorCode.BINLOG_POSITION_INVALID, `the server cannot send its binlog from ${at}: ${e.message}`, {
        cause: err,
        fix: "the stored position does not match the server's log (restored or reset?): reset the connector's offsets with `liberator offsets reset --connector <name>`",
      });
    }
    // zongji's own connections: a certificate it refuses is no more transient than at connect
    if (classifyTlsError(err)) return describeConnectError(err, "MySQL/MariaDB", this.options.connection);
    if (classifyMysqlError(err) === "privilege") {
      return new PreconditionError(ErrorCode.BINLOG_PRIVILEGES_MISSING, `binlog stream from ${at}: ${e.message}`, {
        cause: err,
        fix: "GRANT REPLICATION SLAVE, REPLICATION CLIENT, SELECT ON *.* TO the connector's user; it reconnects once it may",
      });
    }
    return new ConnectionError(`binlog stream from ${at}: ${e.message}`, { cause: err });
  }
}
