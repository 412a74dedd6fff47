/**
 * Streaming: binlog events into whole source transactions of change records. A batch ends only
 * at a commit (XID, COMMIT, or a DDL's own group), so a Kafka transaction never holds half a
 * source transaction; only a transaction with more than maxTransactionRecords records is split,
 * with `row` saying how many of its records are already out.
 */
import { MariadbGtidPosition, GtidSet, type AnyBinlogEvent, type MariadbGtidEvent, type QueryEvent, type RowsEvent, type UpdateRowsEvent } from "@vlasky/zongji";
import type { Connection } from "mysql2/promise";
import type { ChangeRecord, SourceContext } from "../../runtime/connector.js";
import { DataError, ErrorCode, PreconditionError } from "../../runtime/errors.js";
import type { SourceInfo, TransactionInfo } from "../../runtime/sql-types/envelope.js";
import { BinlogReader, type QueuedTableMap } from "./binlog-reader.js";
import { serverIdOf, type BinlogConfig } from "./config.js";
import { ddlEffect, type QualifiedName } from "./ddl.js";
import type { TableFilter } from "./filters.js";
import { compareCoordinates, describeCoordinates, type Coordinates } from "./position.js";
import { pushChange, truncateRecord } from "../../runtime/sql-types/change-records.js";
import type { CapturedTable, SchemaHistory } from "./schema-history.js";
import { layoutFromTableMap } from "./table-map.js";

export interface StreamStart extends Coordinates {
  gtid: string | null;
  /** Records of the transaction at `pos` already produced (a split transaction). */
  row: number;
}

export interface StreamBatch {
  records: ChangeRecord[];
  /** Where the batch ends: a commit, or inside a split transaction (`row` > 0). */
  at: StreamStart;
  /** True when `until` was reached: every transaction before it is in this batch or an earlier one. */
  reached: boolean;
}

interface OpenTransaction {
  file: string;
  pos: number;
  gtid: string | null;
  mariadbGtid: { domainId: number; serverId: number; seqNo: number | string } | undefined;
  records: ChangeRecord[];
  /** Records of this transaction already returned in earlier batches (split) or skipped on resume. */
  done: number;
  /** Records to drop on resume: produced before the restart. */
  skip: number;
  bytes: number;
  total: number;
}

const BOUNDARY = /^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO)\b/i;
const XA = /^\s*XA\b/i;

export class BinlogStreamReader {
  private readonly reader: BinlogReader;
  private file: string;
  private pos: number;
  private gtids: MariadbGtidPosition | GtidSet | undefined;
  private gtidText: string | null;
  private gtidDirty = false;
  private txn: OpenTransaction | undefined;
  private resumeSkip: number;
  /** table id → version (null: not captured); valid until the next rotate or DDL. */
  private readonly byTableId = new Map<number, CapturedTable | null>();
  /** The latest version seen of each table, for TRUNCATE. */
  private readonly latest = new Map<string, CapturedTable>();
  /** When the last captured change was written: its records' `ts_ms`, and the status's last event. */
  private lastEventTs = 0;
  /**
   * When the last event read was written, of any table: what the lag counts from. A server busy
   * with tables the connector does not capture sends no heartbeat, and counting from the last
   * captured change then reported a stream at the head as ever further behind.
   */
  private lastReadTs = 0;
  /**
   * The server sent a heartbeat after the last transaction: it had nothing more, so the stream is
   * caught up and the lag is 0 however old the last change is (an idle database is not behind).
   */
  private caughtUp = false;
  /** The error that ended the stream after the batch before it was handed out. */
  private stopped: Error | undefined;
  /** Binlog bytes of the transactions in the batch being built. */
  private batchBytes = 0;
  /**
   * Records of the open transaction per table so far (its `data_collection_order`). One transaction
   * is open at a time, so one map serves them all: a map of its own cost each 1-row transaction
   * an allocation as large as its record's.
   */
  private readonly perTable = new Map<string, number>();

  constructor(
    private readonly config: BinlogConfig,
    private readonly ctx: SourceContext,
    private readonly conn: Connection,
    private readonly filter: TableFilter,
    private readonly history: SchemaHistory,
    private readonly mariadb: boolean,
    start: StreamStart,
  ) {
    this.file = start.file;
    this.pos = start.pos;
    this.gtidText = start.gtid;
    this.gtids = parseGtids(start.gtid, mariadb);
    this.resumeSkip = start.row;
    this.reader = new BinlogReader({
      connection: config.connection,
      serverId: serverIdOf(config),
      start,
      databases: filter.databases(),
      heartbeatMs: config.heartbeat.intervalMs,
      maxQueuedRows: config.maxQueuedRows,
      maxQueuedBytes: config.maxQueuedBytes,
      log: ctx.log,
    });
  }

  start(): Promise<void> {
    return this.reader.start();
  }

  stop(): Promise<void> {
    return this.reader.stop();
  }

  position(): StreamStart {
    return { file: this.file, pos: this.pos, gtid: this.gtidNow(), row: 0 };
  }

  /** The GTID position after the last commit; formatted when a position is taken, not per transaction. */
  private gtidNow(): string | null {
    if (this.gtidDirty && this.gtids) {
      this.gtidText = this.gtids.toString();
      this.gtidDirty = false;
    }
    return this.gtidText;
  }

  status() {
    return { ...this.reader.status(), lagSeconds: this.lag() };
  }

  /** Seconds behind the server's head (null before anything is known), for the source's own reports. */
  secondsBehind(): number | null {
    return this.lag();
  }

  /** Seconds behind the server's head: 0 when caught up, else since the last event read was written; null before either is known. */
  private lag(): number | null {
    if (this.caughtUp) return 0;
    return this.lastReadTs ? Math.max(0, (Date.now() - this.lastReadTs) / 1000) : null;
  }

  /**
   * Whole transactions up to the context's batch limits; returns early (maybe empty) when the log
   * is idle for `idleMs`, when the signal aborts, or once `until` is reached. With records but
   * nothing more queued it returns at once, or, given `previousCommitted`, once that settles:
   * whatever commits meanwhile joins the batch (at 10,000 rows/s a batch read at once holds the
   * first 5 ms of a commit's 10-20, and the rest waited for one more Kafka transaction).
   */
  async read(idleMs: number, until?: Coordinates, previousCommitted?: Promise<void>): Promise<StreamBatch> {
    if (this.stopped) throw this.stopped;
    const out: ChangeRecord[] = [];
    const { maxBatchRecords, maxBatchBytes } = this.ctx.limits;
    const deadline = Date.now() + idleMs;
    let committing = previousCommitted !== undefined;
    void previousCommitted?.then(() => (committing = false));
    this.batchBytes = 0;
    for (;;) {
      if (until && !this.txn && compareCoordinates({ file: this.file, pos: this.pos }, until) >= 0) return this.batch(out, true);
      const event = this.reader.next();
      if (!event) {
        this.reader.check();
        if (this.ctx.signal.aborted || (out.length > 0 ? !committing : Date.now() >= deadline)) return this.batch(out, false);
        await this.reader.wait(out.length > 0 ? idleMs : deadline - Date.now(), this.ctx.signal, out.length > 0 ? previousCommitted : undefined);
        continue;
      }
      try {
        const pending = this.handle(event, out);
        if (pending) await pending;
      } catch (err) {
        // stop AT the failing transaction: what committed before it in this batch still goes out
        if (out.length === 0) throw err;
        this.stopped = err as Error;
        this.txn = undefined;
        return this.batch(out, false);
      }
      if (this.txn) {
        if (this.txn.records.length >= this.config.maxTransactionRecords) return this.split(out);
      } else if (out.length >= maxBatchRecords || this.batchBytes >= maxBatchBytes) {
        return this.batch(out, false);
      }
    }
  }

  private batch(records: ChangeRecord[], reached: boolean): StreamBatch {
    const lag = this.lag();
    if (lag !== null) this.ctx.metrics.lagSeconds(lag, this.lastEventTs ? { lastEventAt: this.lastEventTs } : undefined);
    return { records, at: this.position(), reached };
  }

  /** Hands out the open transaction's records so far; the position points into it. */
  private split(out: ChangeRecord[]): StreamBatch {
    const t = this.txn!;
    out.push(...t.records);
    t.done += t.records.length;
    t.records = [];
    t.bytes = 0;
    this.ctx.log.warn(
      { transaction: t.gtid ?? `${t.file}:${t.pos}`, records: t.done, maxTransactionRecords: this.config.maxTransactionRecords },
      "splitting a source transaction larger than maxTransactionRecords across Kafka transactions",
    );
    // the open transaction is not in the GTID position yet: it is the position before it
    return { records: out, at: { file: t.file, pos: t.pos, gtid: this.gtidNow(), row: t.done }, reached: false };
  }

  /** Handles one event; returns a promise only when it must wait (a new table version). */
  private handle(event: AnyBinlogEvent, out: ChangeRecord[]): Promise<void> | undefined {
    const name = event.getEventName();
    // the rotate sent at connect carries no time, and a heartbeat says nothing was written
    if (event.timestamp > 0 && name !== "heartbeat") {
      this.lastReadTs = event.timestamp;
      this.caughtUp = false;
    }
    switch (name) {
      case "writerows":
        this.rows(event as RowsEvent & { rows: unknown[] }, "c");
        return undefined;
      case "updaterows":
        this.rows(event as RowsEvent & { rows: unknown[] }, "u");
        return undefined;
      case "deleterows":
        this.rows(event as RowsEvent & { rows: unknown[] }, "d");
        return undefined;
      case "tablemap":
        return this.tableMap(event as QueuedTableMap);
      case "xid":
        this.commit(event.nextPosition, out);
        return undefined;
      case "mariadbgtid": {
        const g = event as MariadbGtidEvent;
        this.begin(g.gtid, { domainId: g.domainId, serverId: g.serverId, seqNo: g.seqNo });
        return undefined;
      }
      case "gtid":
      case "anonymousgtid":
        this.begin(name === "gtid" ? (event.gtid ?? null) : null, undefined);
        return undefined;
      case "query":
        return this.query(event as QueryEvent, out);
      case "rotate": {
        const r = event as AnyBinlogEvent & { binlogName: string; position: number };
        this.file = r.binlogName;
        if (!this.txn) this.pos = r.position;
        this.byTableId.clear();
        return undefined;
      }
      case "heartbeat": {
        const h = event as AnyBinlogEvent & { binlogName: string };
        if (!this.txn && h.binlogName === this.file && event.nextPosition > this.pos) this.pos = event.nextPosition;
        if (!this.txn) this.caughtUp = true;
        return undefined;
      }
      case "xaprepare":
        throw new PreconditionError(ErrorCode.BINLOG_XA_UNSUPPORTED, `an XA transaction at ${this.file}:${this.pos} touches the binlog; XA transactions cannot be captured exactly yet`, {
          fix: "exclude the tables XA transactions write to, or commit them without XA",
        });
      default:
        // format, gtid list, checkpoint: events between transactions; the point after them is a valid start
        if (!this.txn && event.nextPosition > this.pos) this.pos = event.nextPosition;
        return undefined;
    }
  }

  private begin(gtid: string | null, mariadbGtid: OpenTransaction["mariadbGtid"]): void {
    this.txn = {
      file: this.file,
      pos: this.pos,
      gtid,
      mariadbGtid,
      records: [],
      done: 0,
      skip: this.resumeSkip,
      bytes: 0,
      total: 0,
    };
    this.resumeSkip = 0;
    this.perTable.clear();
  }

  private tableMap(event: QueuedTableMap): Promise<void> | undefined {
    const cached = this.byTableId.get(event.tableId);
    if (cached === null || (cached && cached.database === event.schemaName && cached.table === event.tableName)) return undefined;
    if (!this.filter.captures(event.schemaName, event.tableName)) {
      this.byTableId.set(event.tableId, null);
      return undefined;
    }
    return this.resolve(event);
  }

  private async resolve(event: QueuedTableMap): Promise<void> {
    const name = `${event.schemaName}.${event.tableName}`;
    if (!event.hasSelfDescribingMetadata()) {
      throw new PreconditionError(ErrorCode.BINLOG_ROW_METADATA_NOT_FULL, `the table map of ${name} at ${this.file}:${this.pos} carries no column names: the event was written with binlog_row_metadata=MINIMAL`, {
        fix: "SET GLOBAL binlog_row_metadata = 'FULL' (and in my.cnf); events written before cannot be decoded safely: copy the tables again from a position after the change",
      });
    }
    if (this.mariadb && event.hasAmbiguousTemporalColumns()) {
      this.ctx.log.warn({ table: name }, "table has pre-MariaDB-10.1 temporal columns, decoded with today's definition: run ALTER TABLE … FORCE to convert them");
    }
    const layout = layoutFromTableMap(event, event.schemas, this.mariadb);
    const captured = await this.history.fromTableMap(this.conn, name, event.schemaName, event.tableName, layout);
    // an incompatible version stops the connector here: nothing of this transaction is produced
    await this.history.check(captured);
    this.byTableId.set(event.tableId, captured);
    this.latest.set(name, captured);
  }

  private rows(event: RowsEvent & { rows: unknown[] }, op: "c" | "u" | "d"): void {
    const captured = this.byTableId.get(event.tableId);
    if (!captured) return;
    const present = (event as RowsEvent & { columns_present_bitmap?: Buffer }).columns_present_bitmap;
    if (present && !allSet(present, event.numberOfColumns)) {
      throw new PreconditionError(ErrorCode.BINLOG_ROW_IMAGE_NOT_FULL, `a change of ${captured.name} at ${this.file}:${this.pos} lacks columns: it was written with binlog_row_image other than FULL`, {
        fix: "SET GLOBAL binlog_row_image = 'FULL' (and in my.cnf); rows written before cannot be captured exactly",
      });
    }
    if (!this.txn) this.begin(null, undefined);
    const t = this.txn!;
    t.bytes += event.size;
    this.lastEventTs = event.timestamp;
    const meta = this.meta;
    if (op === "u") {
      for (const r of (event as UpdateRowsEvent).rows) pushChange(t.records, captured, "u", r.before, r.after, event.timestamp, meta);
    } else {
      for (const r of event.rows as Record<string, unknown>[]) pushChange(t.records, captured, op, op === "d" ? r : null, op === "c" ? r : null, event.timestamp, meta);
    }
    // records produced before a restart of a split transaction are dropped, in order
    if (t.skip > t.done && t.records.length > 0) {
      const drop = Math.min(t.skip - t.done, t.records.length);
      t.records.splice(0, drop);
      t.done += drop;
    }
  }

  /** Source and transaction blocks of the next record of the open transaction. */
  private readonly meta = (table: CapturedTable): { source: SourceInfo; transaction: TransactionInfo | null } => {
    const t = this.txn!;
    const order = (this.perTable.get(table.name) ?? 0) + 1;
    this.perTable.set(table.name, order);
    const row = t.total++;
    const id = t.gtid ?? `${t.file}:${t.pos}`;
    return {
      source: {
        connector: "binlog",
        name: this.ctx.connector,
        db: table.database,
        table: table.table,
        file: t.file,
        pos: t.pos,
        gtid: t.gtid,
        row,
        snapshot: null,
        ts_ms: this.lastEventTs,
        txId: null,
      },
      transaction: { id, total_order: row + 1, data_collection_order: order },
    };
  };

  private query(event: QueryEvent, out: ChangeRecord[]): Promise<void> | undefined {
    const q = event.query;
    if (XA.test(q)) {
      throw new PreconditionError(ErrorCode.BINLOG_XA_UNSUPPORTED, `an XA transaction at ${this.file}:${this.pos} touches the binlog; XA transactions cannot be captured exactly yet`, {
        fix: "exclude the tables XA transactions write to, or commit them without XA",
      });
    }
    const boundary = BOUNDARY.exec(q)?.[1]?.toUpperCase();
    if (boundary === "BEGIN") {
      if (!this.txn) this.begin(null, undefined);
      return undefined;
    }
    if (boundary === "COMMIT" || boundary === "ROLLBACK") {
      this.commit(event.nextPosition, out);
      return undefined;
    }
    if (boundary) return undefined;
    return this.ddl(event, out);
  }

  private async ddl(event: QueryEvent, out: ChangeRecord[]): Promise<void> {
    const effect = ddlEffect(event.query, event.schema);
    const captured = (n: QualifiedName) => this.filter.captures(n.database, n.table);
    const nameOf = (n: QualifiedName) => `${n.database}.${n.table}`;
    if (effect.kind !== "none") this.byTableId.clear();
    if (!this.txn) this.begin(null, undefined);
    if (effect.kind === "truncate" && captured(effect.table) && this.config.emitTruncate) {
      const name = nameOf(effect.table);
      const table = this.latest.get(name) ?? (await this.history.learn(this.conn, name, effect.table.database, effect.table.table));
      if (table) {
        await this.history.check(table);
        this.lastEventTs = event.timestamp;
        const { source, transaction } = this.meta(table);
        this.txn!.records.push(truncateRecord(table, event.timestamp, source, transaction));
      }
    } else if (effect.kind === "changed") {
      for (const n of effect.tables.filter(captured)) this.history.touched(nameOf(n));
    } else if (effect.kind === "dropped") {
      for (const n of effect.tables) {
        this.history.dropped(nameOf(n));
        this.latest.delete(nameOf(n));
      }
    } else if (effect.kind === "renamed") {
      for (const [from, to] of effect.pairs) {
        this.history.renamed(nameOf(from), nameOf(to));
        this.latest.delete(nameOf(from));
      }
    }
    if (effect.kind !== "none") this.ctx.log.info({ statement: event.query.slice(0, 500), at: describeCoordinates({ file: this.file, pos: this.pos }) }, "DDL");
    this.commit(event.nextPosition, out);
  }

  private commit(nextPosition: number, out: ChangeRecord[]): void {
    const t = this.txn;
    this.txn = undefined;
    if (t) {
      for (const r of t.records) out.push(r);
      this.batchBytes += t.bytes;
      if (t.mariadbGtid && this.gtids instanceof MariadbGtidPosition) this.gtids.add(t.mariadbGtid);
      else if (t.gtid && this.gtids instanceof GtidSet) this.gtids.add(t.gtid);
      if (t.gtid && this.gtids) this.gtidDirty = true;
    }
    if (nextPosition > 0) this.pos = nextPosition;
  }
}

function allSet(bitmap: Buffer, columns: number): boolean {
  for (let i = 0; i < columns; i++) if ((bitmap[i >> 3]! & (1 << (i & 7))) === 0) return false;
  return true;
}

function parseGtids(text: string | null, mariadb: boolean): MariadbGtidPosition | GtidSet | undefined {
  if (text === null) return mariadb ? new MariadbGtidPosition() : undefined;
  try {
    return mariadb ? MariadbGtidPosition.parse(text) : GtidSet.parse(text);
  } catch (err) {
    throw new DataError(ErrorCode.POSITION_INVALID, `unreadable GTID position "${text}" in the stored position`, { cause: err, fix: "reset the connector's offsets with `liberator offsets reset --connector <name>`" });
  }
}
