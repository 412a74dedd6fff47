/**
 * The coordinator: checks the server, makes the publication follow the config, then runs the
 * snapshot phase and the streaming phase in turn, and writes the phase into every position.
 *
 * First start: the slot is created with an exported snapshot (its consistent point P0); the
 * tables are read in that snapshot, chunk by chunk, and streaming starts at P0.
 *
 * Resuming a snapshot after a crash: the exported snapshot is gone with its connection. A
 * TEMPORARY slot is created with a new exported snapshot at P1 (> P0), and a logical message is
 * written after it as a watermark. The connector's own slot is first streamed from the stored
 * position up to P1: every transaction that committed before P1, of every captured table (for
 * rows already copied their next changes, for rows not copied yet their history). Then the
 * remaining chunks are read in the snapshot at P1, and streaming goes on from P1. Nothing is lost
 * or doubled, and each key's records stay in commit order, however long the process was down.
 * (The binlog source resumes the same way; the temporary slot is what gives PostgreSQL a snapshot
 * with a known LSN without a lock.)
 *
 * While streaming, incremental snapshots of chosen tables (the `snapshot` command) are read chunk
 * by chunk between watermarks (incremental-snapshot.ts), their rows produced in the batch where the
 * stream reaches a chunk's high watermark.
 */
import type pg from "pg";
import type { ConnectorStatus, Json, Position, Source, SourceBatch, SourceContext } from "../../runtime/connector.js";
import type { SnapshotProgress } from "../../runtime/db/chunked-snapshot.js";
import { PG_READ_OPTIONS, pgConnect, pgReplicationConnect } from "../../runtime/db/postgres.js";
import type { TableFilter } from "../../runtime/db/table-filter.js";
import { requestedTables, streamingRequired, type IncrementalProgress } from "../../runtime/db/incremental-snapshot.js";
import { ErrorCode, PreconditionError } from "../../runtime/errors.js";
import { publicationOf, slotOf, type PgcdcConfig } from "./config.js";
import { formatLsn } from "./pgoutput.js";
import { parsePosition, toPosition, type At } from "./position.js";
import { failedCheck, preflightChecks } from "./preflight.js";
import { createSlot, WalStream } from "./replication.js";
import { PgcdcIncremental } from "./incremental-snapshot.js";
import { dropSlot, ensurePublication, slotLag, slotState } from "./slot.js";
import { SnapshotReader } from "./snapshot.js";
import { MESSAGE_PREFIX, WalReader } from "./stream.js";
import { capturedTables, pgTableFilter, topicOf, splitName, TableVersions } from "./tables.js";

/** How long read() waits for a change before it hands back an empty batch (with the position it reached). */
const IDLE_MS = 1000;

type Phase =
  | { kind: "snapshot"; snapshot: SnapshotReader; point: bigint; catchUp: WalReader | undefined; at: At }
  | { kind: "stream"; stream: WalReader | undefined; at: At }
  | { kind: "done"; at: At };

export class PgcdcSource implements Source {
  private db: pg.Client | undefined;
  private versions!: TableVersions;
  private readonly filter: TableFilter;
  private readonly slot: string;
  private phase: Phase | undefined;
  private incremental: PgcdcIncremental | undefined;
  private protoVersion = 1;
  /** The LSN the pipeline has committed: the only one ever confirmed to the server. */
  private confirmed = 0n;
  private nextHeartbeat = 0;
  private lag: { lagBytes: number; retainedBytes: number } | undefined;
  /** Whether the retained WAL was above heartbeat.warnRetainedBytes when last measured, so the warning is logged once per crossing. */
  private retainedAbove = false;
  private closed = false;

  constructor(
    private readonly config: PgcdcConfig,
    private readonly ctx: SourceContext,
  ) {
    this.filter = pgTableFilter(config);
    this.slot = slotOf(config);
  }

  async open(position: Position | null): Promise<void> {
    const db = (this.db = await pgConnect(this.config.connection, this.ctx.connector, PG_READ_OPTIONS));
    db.on("error", () => undefined);
    const checks = await preflightChecks(this.config, db);
    for (const c of checks) if (!c.ok && c.severity === "warning") this.ctx.log.warn({ check: c.check, fix: c.fix }, c.message);
    const failed = failedCheck(checks, this.ctx.connector);
    if (failed) throw failed;
    const version = Number((await db.query<{ v: string }>("SELECT current_setting('server_version_num') AS v")).rows[0]!.v);
    this.protoVersion = version >= 140000 ? 2 : 1;
    this.versions = new TableVersions(this.config, this.ctx);
    const tables = await capturedTables(db, this.filter);
    await ensurePublication(this.config, db, tables, this.ctx.log);

    let stored = parsePosition(position);
    const slot = await slotState(db, this.slot);
    if (stored && (!slot || slot.lost)) {
      const why = slot ? `replication slot "${this.slot}" was invalidated (the WAL it needs is gone)` : `replication slot "${this.slot}" is gone`;
      if (this.config.snapshot.mode !== "when_needed") {
        throw new PreconditionError(slot ? ErrorCode.PGCDC_SLOT_INVALIDATED : ErrorCode.PGCDC_SLOT_MISSING, `${why}: the changes since the stored position cannot be read`, {
          connector: this.ctx.connector,
          fix: "set snapshot.mode: when_needed to copy the tables again, or reset the connector's offsets (`liberator offsets reset`)",
        });
      }
      this.ctx.log.warn({ slot: this.slot }, `${why}: copying the tables again (snapshot.mode: when_needed)`);
      stored = null;
    }
    if (stored) this.confirmed = stored.lsn;
    const mode = this.config.snapshot.mode;
    if (!stored) {
      if (mode === "never") await this.startStreamFromSlot(slot);
      else await this.startSnapshot(tables, slot !== undefined);
    } else if (stored.phase === "snapshot") {
      await this.resumeSnapshot(stored.snapshot, stored);
    } else {
      const at = { lsn: stored.lsn, row: stored.row };
      this.phase = mode === "initial_only" ? { kind: "done", at } : { kind: "stream", stream: undefined, at };
      if (mode !== "initial_only") this.newIncremental(stored.incremental);
    }
    this.ctx.log.info({ phase: this.phase!.kind, lsn: formatLsn(this.phase!.at.lsn), slot: this.slot, publication: publicationOf(this.config), protoVersion: this.protoVersion }, "pgcdc source open");
  }

  async read(): Promise<SourceBatch | null> {
    const phase = this.phase!;
    if (phase.kind === "done") return null;
    if (phase.kind === "snapshot") return this.readSnapshot(phase);
    return this.readStream(phase);
  }

  /** The batch that ended at `position` is committed in Kafka: the slot may let the WAL before it go. */
  async ack(position: Position): Promise<void> {
    const p = parsePosition(position);
    if (!p || p.lsn <= this.confirmed) return;
    this.confirmed = p.lsn;
    const phase = this.phase;
    if (phase?.kind === "stream") phase.stream?.confirm(p.lsn);
    if (phase?.kind === "snapshot") phase.catchUp?.confirm(p.lsn);
  }

  async topics(): Promise<string[]> {
    const tables = await capturedTables(this.db!, this.filter);
    return tables.map((name) => topicOf(this.config, ...splitName(name)));
  }

  async command(name: string, args: Record<string, Json>): Promise<Json> {
    if (name !== "snapshot") throw new PreconditionError(ErrorCode.COMMAND_UNKNOWN, `the pgcdc source has no command "${name}"`, { fix: "use snapshot" });
    const tables = requestedTables(args, "schema.table");
    if (this.phase?.kind !== "stream" || !this.incremental) throw streamingRequired(this.phase?.kind);
    return { queued: await this.incremental.request(tables) };
  }

  status(): ConnectorStatus {
    const phase = this.phase;
    if (!phase) return { phase: "starting" };
    const base: Record<string, Json> = { phase: phase.kind, lsn: formatLsn(phase.at.lsn), slot: this.slot, confirmedLsn: formatLsn(this.confirmed) };
    if (this.lag) base.slotLag = { ...this.lag };
    if (phase.kind === "snapshot") {
      const p = phase.snapshot.current;
      base.snapshot = { tables: p.tables.length, tablesDone: p.done, rows: p.rows, catchingUpTo: phase.catchUp ? formatLsn(phase.point) : null };
    }
    if (phase.kind === "stream" && phase.stream) base.stream = phase.stream.status();
    if (this.incremental) base.incremental = this.incremental.status();
    return base;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const phase = this.phase;
    const stream = phase?.kind === "snapshot" ? phase.catchUp : phase?.kind === "stream" ? phase.stream : undefined;
    await stream?.stop();
    if (phase?.kind === "snapshot") await phase.snapshot.close();
    await this.incremental?.close();
    await this.db?.end().catch(() => undefined);
  }

  /** snapshot.mode never: the slot as it is (created now when missing); its confirmed position is where streaming starts. */
  private async startStreamFromSlot(slot: Awaited<ReturnType<typeof slotState>>): Promise<void> {
    let lsn = slot?.confirmedFlush ?? null;
    if (lsn === null) {
      const repl = await pgReplicationConnect(this.config.connection, this.ctx.connector);
      try {
        lsn = (await createSlot(repl, this.slot, { exportSnapshot: false })).consistentPoint;
      } finally {
        await repl.end().catch(() => undefined);
      }
    }
    this.phase = { kind: "stream", stream: undefined, at: { lsn, row: 0 } };
    this.newIncremental(null);
  }

  private newIncremental(progress: IncrementalProgress | null): void {
    this.incremental = new PgcdcIncremental(this.config, this.ctx, this.versions, this.filter, this.db!, progress);
  }

  private async startSnapshot(tables: string[], slotExists: boolean): Promise<void> {
    // a slot without a committed position was left by a start that committed nothing: made anew
    if (slotExists) await dropSlot(this.db!, this.slot);
    const repl = await pgReplicationConnect(this.config.connection, this.ctx.connector);
    try {
      const created = await createSlot(repl, this.slot, { exportSnapshot: true });
      const progress: SnapshotProgress = { tables, done: 0, lastKey: null, rows: 0 };
      const snapshot = new SnapshotReader(this.config, this.ctx, this.versions, created.consistentPoint, progress);
      await snapshot.open(created.snapshot!);
      this.confirmed = created.consistentPoint;
      this.phase = { kind: "snapshot", snapshot, point: created.consistentPoint, catchUp: undefined, at: { lsn: created.consistentPoint, row: 0 } };
      this.ctx.log.info({ tables: tables.length, slot: this.slot, consistentPoint: formatLsn(created.consistentPoint) }, "snapshot started");
    } finally {
      // the snapshot is imported: the exporting connection may go
      await repl.end().catch(() => undefined);
    }
  }

  private async resumeSnapshot(progress: SnapshotProgress, stored: At): Promise<void> {
    const repl = await pgReplicationConnect(this.config.connection, this.ctx.connector);
    let snapshot: SnapshotReader;
    let point: bigint;
    try {
      const created = await createSlot(repl, `${this.slot.slice(0, 50)}_resume`, { temporary: true, exportSnapshot: true });
      point = created.consistentPoint;
      snapshot = new SnapshotReader(this.config, this.ctx, this.versions, point, progress);
      await snapshot.open(created.snapshot!);
    } finally {
      await repl.end().catch(() => undefined);
    }
    // the watermark: a message after P1 tells the catch-up stream it has seen everything before P1
    await this.db!.query("SELECT pg_logical_emit_message(false, $1, 'watermark')", [MESSAGE_PREFIX]);
    let catchUp: WalReader | undefined;
    if (stored.lsn < point) {
      this.ctx.log.info({ from: formatLsn(stored.lsn), to: formatLsn(point) }, "snapshot resumes: streaming the changes made since the copied rows first");
      catchUp = await this.newStream(stored);
    }
    this.phase = { kind: "snapshot", snapshot, point, catchUp, at: catchUp ? stored : { lsn: point, row: 0 } };
  }

  private async newStream(at: At): Promise<WalReader> {
    const repl = await pgReplicationConnect(this.config.connection, this.ctx.connector);
    const wal = new WalStream(repl, {
      slot: this.slot,
      publication: publicationOf(this.config),
      start: at.lsn,
      confirmed: this.confirmed,
      protoVersion: this.protoVersion,
      maxQueuedBytes: this.config.maxQueuedBytes,
      statusIntervalMs: this.config.statusIntervalMs,
      connector: this.ctx.connector,
      log: this.ctx.log,
    });
    try {
      await wal.start();
    } catch (err) {
      await wal.stop();
      throw err;
    }
    return new WalReader(this.config, this.ctx, wal, this.db!, this.filter, this.versions, at);
  }

  private async readSnapshot(phase: Extract<Phase, { kind: "snapshot" }>): Promise<SourceBatch> {
    // the slot keeps the WAL written while the tables are copied: its size is worth watching then too
    await this.heartbeat(false);
    if (phase.catchUp) {
      const batch = await phase.catchUp.read(IDLE_MS, phase.point);
      phase.at = batch.at;
      if (batch.reached) {
        await phase.catchUp.stop();
        phase.catchUp = undefined;
        phase.at = { lsn: phase.point, row: 0 };
        this.ctx.log.info({ lsn: formatLsn(phase.point) }, "snapshot caught up: copying the remaining rows");
      }
      return { records: batch.records, position: toPosition({ phase: "snapshot", ...phase.at, snapshot: phase.snapshot.current }) };
    }
    if (this.ctx.signal.aborted) return { records: [], position: toPosition({ phase: "snapshot", ...phase.at, snapshot: phase.snapshot.current }) };
    const chunk = await phase.snapshot.next();
    if (chunk === null) {
      await phase.snapshot.close();
      this.ctx.log.info({ tables: phase.snapshot.current.tables.length, rows: phase.snapshot.current.rows, lsn: formatLsn(phase.at.lsn) }, "snapshot done");
      const done = this.config.snapshot.mode === "initial_only";
      this.phase = done ? { kind: "done", at: phase.at } : { kind: "stream", stream: undefined, at: phase.at };
      if (!done) this.newIncremental(null);
      return { records: [], position: toPosition({ phase: "stream", ...phase.at, incremental: null }) };
    }
    return { records: chunk.records, position: toPosition({ phase: "snapshot", ...phase.at, snapshot: chunk.progress }) };
  }

  private async readStream(phase: Extract<Phase, { kind: "stream" }>): Promise<SourceBatch> {
    const incremental = this.incremental!;
    if (!phase.stream) {
      phase.stream = await this.newStream(phase.at);
      phase.stream.observer = (xid, records, truncated) => incremental.observe(xid, records, truncated);
    }
    await this.heartbeat(true);
    const chunk = this.ctx.signal.aborted ? undefined : await incremental.next();
    const batch = await phase.stream.read(IDLE_MS, chunk?.at.lsn);
    phase.at = batch.at;
    let records = batch.records;
    if (chunk && batch.reached) {
      const rows = incremental.produce(chunk);
      records = records.length === 0 ? rows : [...records, ...rows];
    }
    return { records, position: toPosition({ phase: "stream", ...batch.at, incremental: incremental.committed }) };
  }

  /**
   * Every heartbeat.intervalMs (statusIntervalMs without heartbeats): while streaming, a logical
   * message through the slot, so its position moves while the captured tables are idle; in every
   * phase, how far behind the slot is.
   */
  private async heartbeat(streaming: boolean): Promise<void> {
    const interval = this.config.heartbeat.intervalMs;
    const now = Date.now();
    if (now < this.nextHeartbeat) return;
    this.nextHeartbeat = now + (interval > 0 ? interval : this.config.statusIntervalMs);
    if (streaming && interval > 0) await this.db!.query("SELECT pg_logical_emit_message(false, $1, 'heartbeat')", [MESSAGE_PREFIX]);
    await this.measureSlot();
  }

  /** The slot's lag and retained WAL into the metrics and the status; a warning when the retained WAL crosses the threshold, a note when it is back under. */
  private async measureSlot(): Promise<void> {
    const lag = (this.lag = await slotLag(this.db!, this.slot));
    if (!lag) return;
    this.ctx.metrics.lagSeconds(null, { bytesBehind: lag.lagBytes, retainedBytes: lag.retainedBytes });
    const limit = this.config.heartbeat.warnRetainedBytes;
    const above = limit > 0 && lag.retainedBytes > limit;
    if (above === this.retainedAbove) return;
    this.retainedAbove = above;
    const fields = { slot: this.slot, ...lag, warnRetainedBytes: limit };
    if (above) this.ctx.log.warn(fields, "the replication slot retains more WAL than heartbeat.warnRetainedBytes: the server cannot recycle it until the connector confirms further");
    else this.ctx.log.info(fields, "the replication slot's retained WAL is back under heartbeat.warnRetainedBytes");
  }
}
