/**
 * Streaming: pgoutput messages into whole source transactions of change records. A batch ends
 * only at a COMMIT, so a Kafka transaction never holds half a source transaction; only one with
 * more than maxTransactionRecords records is split, with `row` saying how many of its records are
 * already out.
 *
 * Before images: what the table's REPLICA IDENTITY gives. FULL: the whole old row. DEFAULT or
 * INDEX: the old key only when the key changed, so `before` is null and the key comes from it.
 *
 * Unchanged TOAST values (an update that did not touch a large column): pgoutput leaves them out.
 * They are taken from the old row when the identity is FULL (exact), else read back from the
 * table by key (the value the row has when it is read: a later update of that column may already
 * show). When the row is gone by then, the update is left out (logged): the delete that removed it
 * follows in the stream.
 */
import type pg from "pg";
import type { ChangeRecord, SourceContext } from "../../runtime/connector.js";
import { quotePg } from "../../runtime/db/identifiers.js";
import { pushChange, pushKeyedChange, truncateRecord } from "../../runtime/sql-types/change-records.js";
import type { SourceInfo, TransactionInfo } from "../../runtime/sql-types/envelope.js";
import type { PgcdcConfig } from "./config.js";
import type { TableFilter } from "../../runtime/db/table-filter.js";
import { formatLsn, parseMessage, pgTimeToMs, UNCHANGED, type Relation, type TupleValue } from "./pgoutput.js";
import type { At } from "./position.js";
import type { WalStream } from "./replication.js";
import type { CapturedTable, TableVersions } from "./tables.js";

export interface StreamBatch {
  records: ChangeRecord[];
  /** Where the batch ends: after a commit (or a heartbeat), or inside a split transaction (`row` > 0). */
  at: At;
  /** True when `until` was reached: every transaction committed before it is in this batch or an earlier one. */
  reached: boolean;
}

interface OpenTransaction {
  finalLsn: bigint;
  xid: number;
  commitMs: number;
  records: ChangeRecord[];
  /** Records of this transaction already handed out (split) or skipped on resume. */
  done: number;
  skip: number;
  perTable: Map<string, number>;
  total: number;
  /** Topics of the captured tables it truncated (whether or not emitTruncate makes records of it). */
  truncated: Set<string>;
}

/** Told of each committed transaction's records as they are handed out (an incremental snapshot watches them). */
export type CommitObserver = (xid: number, records: readonly ChangeRecord[], truncated: ReadonlySet<string>) => void;

type Row = Record<string, unknown>;

/** The prefix of the logical messages the source emits itself (heartbeats, watermarks). */
export const MESSAGE_PREFIX = "liberator";

export class WalReader {
  private at: At;
  private txn: OpenTransaction | undefined;
  private resumeSkip: number;
  /** relation id → version (null: not captured). */
  private readonly relations = new Map<number, CapturedTable | null>();
  private readonly identities = new Map<number, Relation["identity"]>();
  private lastCommitMs = 0;
  private caughtUp = false;
  private stopped: Error | undefined;
  observer: CommitObserver | undefined;

  constructor(
    private readonly config: PgcdcConfig,
    private readonly ctx: SourceContext,
    private readonly wal: WalStream,
    /** A normal connection: the catalog, and unchanged TOAST values read back. */
    private readonly db: pg.Client,
    private readonly filter: TableFilter,
    private readonly versions: TableVersions,
    start: At,
  ) {
    this.at = { lsn: start.lsn, row: 0 };
    this.resumeSkip = start.row;
  }

  /** Everything before `lsn` is committed in Kafka. */
  confirm(lsn: bigint): void {
    this.wal.confirm(lsn);
  }

  stop(): Promise<void> {
    return this.wal.stop();
  }

  status() {
    return { ...this.wal.status(), lsn: formatLsn(this.at.lsn), lagSeconds: this.lag() };
  }

  private lag(): number | null {
    if (this.caughtUp) return 0;
    return this.lastCommitMs ? Math.max(0, (Date.now() - this.lastCommitMs) / 1000) : null;
  }

  /** Whole transactions up to the batch limits; returns early (maybe empty) when idle for `idleMs`, on abort, or once `until` is reached. */
  async read(idleMs: number, until?: bigint): Promise<StreamBatch> {
    if (this.stopped !== undefined) throw this.stopped;
    const out: ChangeRecord[] = [];
    const { maxBatchRecords, maxBatchBytes } = this.ctx.limits;
    const deadline = Date.now() + idleMs;
    let bytes = 0;
    for (;;) {
      const m = this.wal.next();
      if (!m) {
        if (out.length > 0 || this.ctx.signal.aborted || Date.now() >= deadline) return this.batch(out, false);
        await this.wal.wait(deadline - Date.now(), this.ctx.signal);
        continue;
      }
      const message = parseMessage(m.message);
      if (until !== undefined && !this.txn) {
        if ((message.tag === "begin" && message.finalLsn >= until) || (message.tag === "message" && message.lsn >= until)) return this.batch(out, true);
      }
      try {
        await this.handle(message, out);
      } catch (err) {
        // stop AT the failing transaction: what committed before it in this batch still goes out
        if (out.length === 0) throw err;
        this.stopped = err as Error;
        this.txn = undefined;
        return this.batch(out, false);
      }
      bytes += m.message.length;
      if (this.txn) {
        if (this.txn.records.length >= this.config.maxTransactionRecords) return this.split(out);
      } else if (out.length >= maxBatchRecords || bytes >= maxBatchBytes) {
        return this.batch(out, false);
      }
    }
  }

  private batch(records: ChangeRecord[], reached: boolean): StreamBatch {
    const lag = this.lag();
    if (lag !== null) this.ctx.metrics.lagSeconds(lag);
    return { records, at: this.at, reached };
  }

  private split(out: ChangeRecord[]): StreamBatch {
    const t = this.txn!;
    this.observer?.(t.xid, t.records, t.truncated);
    out.push(...t.records);
    t.done += t.records.length;
    t.records = [];
    this.ctx.log.warn(
      { xid: t.xid, records: t.done, maxTransactionRecords: this.config.maxTransactionRecords },
      "splitting a source transaction larger than maxTransactionRecords across Kafka transactions",
    );
    return { records: out, at: { lsn: this.at.lsn, row: t.done }, reached: false };
  }

  private async handle(message: ReturnType<typeof parseMessage>, out: ChangeRecord[]): Promise<void> {
    switch (message.tag) {
      case "begin":
        this.caughtUp = false;
        this.txn = { finalLsn: message.finalLsn, xid: message.xid, commitMs: pgTimeToMs(message.commitTime), records: [], done: 0, skip: this.resumeSkip, perTable: new Map(), total: 0, truncated: new Set() };
        this.resumeSkip = 0;
        return;
      case "commit": {
        const t = this.txn;
        this.txn = undefined;
        // a transaction that committed before the start point (the server skips these; this guards a restart)
        if (message.endLsn <= this.at.lsn) return;
        if (t) {
          this.observer?.(t.xid, t.records, t.truncated);
          for (const r of t.records) out.push(r);
          this.lastCommitMs = t.commitMs;
        }
        this.at = { lsn: message.endLsn, row: 0 };
        return;
      }
      case "relation":
        return this.relation(message.relation);
      case "insert":
      case "update":
      case "delete":
        return this.change(message);
      case "truncate":
        return this.truncate(message.relations);
      case "message":
        // a heartbeat between transactions: every transaction committed before it has been read
        if (!message.transactional && !this.txn && message.lsn > this.at.lsn) {
          this.at = { lsn: message.lsn, row: 0 };
          if (message.prefix === MESSAGE_PREFIX) this.caughtUp = true;
        }
        return;
      default:
        return;
    }
  }

  private async relation(relation: Relation): Promise<void> {
    this.identities.set(relation.id, relation.identity);
    if (!this.filter.captures(relation.schema, relation.table)) {
      this.relations.set(relation.id, null);
      return;
    }
    const captured = await this.versions.fromRelation(this.db, relation);
    // an incompatible version stops the connector here: nothing of this transaction is produced
    await this.versions.check(captured);
    this.relations.set(relation.id, captured);
  }

  private async change(message: Extract<ReturnType<typeof parseMessage>, { tag: "insert" | "update" | "delete" }>): Promise<void> {
    const t = this.relations.get(message.relation);
    if (!t) return;
    const txn = this.txn!;
    const meta = this.meta;
    const ts = txn.commitMs;
    if (message.tag === "insert") {
      pushChange(txn.records, t, "c", null, rowOf(t, message.row), ts, meta);
    } else if (message.tag === "delete") {
      if (message.old.kind === "row") pushChange(txn.records, t, "d", rowOf(t, message.old.row), null, ts, meta);
      else pushKeyedChange(txn.records, t, "d", rowOf(t, message.old.row), null, ts, meta);
    } else {
      const old = message.old;
      const after = await this.complete(t, message.row, old?.kind === "row" ? old.row : undefined);
      if (!after) return;
      if (old?.kind === "row") pushChange(txn.records, t, "u", rowOf(t, old.row), after, ts, meta);
      else pushKeyedChange(txn.records, t, "u", old ? rowOf(t, old.row) : null, after, ts, meta);
    }
    // records produced before a restart of a split transaction are dropped, in order
    if (txn.skip > txn.done && txn.records.length > 0) {
      const drop = Math.min(txn.skip - txn.done, txn.records.length);
      txn.records.splice(0, drop);
      txn.done += drop;
    }
  }

  /** The new row with its unchanged TOAST values filled in; undefined when they cannot be had. */
  private async complete(t: CapturedTable, row: TupleValue[], old: TupleValue[] | undefined): Promise<Row | undefined> {
    const missing = t.columns.filter((_, i) => row[i] === UNCHANGED && (old === undefined || old[i] === UNCHANGED));
    const filled = row.map((v, i) => (v === UNCHANGED && old !== undefined ? old[i]! : v));
    const out = rowOf(t, filled);
    if (missing.length === 0) return out;
    if (t.primaryKey.length === 0) {
      this.ctx.log.warn({ table: t.name }, "an update left a TOASTed value out and the table has no primary key to read it back by: the update is left out (REPLICA IDENTITY FULL makes it exact)");
      return undefined;
    }
    const where = t.primaryKey.map((k, i) => `${quotePg(k)} = $${i + 1}`).join(" AND ");
    const { rows } = await this.db.query<Row>(
      `SELECT ${missing.map(quotePg).join(", ")} FROM ${quotePg(t.schema)}.${quotePg(t.table)} WHERE ${where}`,
      t.primaryKey.map((k) => out[k]),
    );
    const back = rows[0];
    if (!back) {
      this.ctx.log.warn({ table: t.name }, "an update left a TOASTed value out and the row is gone when read back: the update is left out, its delete follows");
      return undefined;
    }
    for (const c of missing) out[c] = back[c];
    return out;
  }

  private async truncate(relations: number[]): Promise<void> {
    const txn = this.txn!;
    for (const id of relations) {
      const t = this.relations.get(id);
      if (!t) continue;
      txn.truncated.add(t.stream.topic);
      if (!this.config.emitTruncate) continue;
      const { source, transaction } = this.meta(t);
      txn.records.push(truncateRecord(t, txn.commitMs, source, transaction));
    }
  }

  /** Source and transaction blocks of the next record of the open transaction. */
  private readonly meta = (table: CapturedTable): { source: SourceInfo; transaction: TransactionInfo | null } => {
    const t = this.txn!;
    const order = (t.perTable.get(table.name) ?? 0) + 1;
    t.perTable.set(table.name, order);
    const row = t.total++;
    return {
      source: { connector: "pgcdc", name: this.ctx.connector, db: table.schema, table: table.table, file: formatLsn(t.finalLsn), pos: null, gtid: null, row, snapshot: null, ts_ms: t.commitMs, txId: t.xid },
      transaction: { id: String(t.xid), total_order: row + 1, data_collection_order: order },
    };
  };
}

function rowOf(t: CapturedTable, values: readonly TupleValue[]): Row {
  const out: Row = {};
  for (let i = 0; i < t.columns.length; i++) {
    const v = values[i];
    out[t.columns[i]!] = v === UNCHANGED ? undefined : v;
  }
  return out;
}
