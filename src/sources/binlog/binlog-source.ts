/**
 * The coordinator (Debezium's snapshot/streaming coordinator): checks the server, then runs the
 * snapshot phase and the streaming phase in turn, and writes the phase into every position.
 *
 * Resuming a snapshot after a crash opens a new consistent read at a later point P1 than the one
 * the copied rows stand at (P0). What changed between P0 and P1 is streamed first (every captured
 * table: for rows already copied these are their next changes, for rows not yet copied their
 * history up to P1), then the remaining chunks are read at P1 and streaming goes on from P1. No
 * change is lost or doubled, and each key's records stay in commit order.
 */
import type { Connection } from "mysql2/promise";
import type { ChangeRecord, ConnectorStatus, Json, Position, ReadOptions, Source, SourceBatch, SourceContext } from "../../runtime/connector.js";
import { mysqlConnect } from "../../runtime/db/mysql.js";
import { ErrorCode, PreconditionError } from "../../runtime/errors.js";
import type { BinlogConfig } from "./config.js";
import { splitTableName, tableFilter, type TableFilter } from "./filters.js";
import { requestedTables, streamingRequired, type IncrementalProgress } from "../../runtime/db/incremental-snapshot.js";
import { BinlogIncrementalReader } from "./incremental-snapshot.js";
import { compareCoordinates, describeCoordinates, parsePosition, type BinlogPosition, type SnapshotProgress } from "./position.js";
import { failedCheck, preflightChecks } from "./preflight.js";
import { SchemaHistory, topicOf } from "./schema-history.js";
import { binaryLogs, capturedTables, checkStartPoint, gtidAt, logEnd, serverInfo, type ConsistentRead, type ServerInfo } from "./server.js";
import { InitialSnapshot } from "./snapshot.js";
import { BinlogStreamReader, type StreamStart } from "./stream.js";

/** How long read() waits for a change before it hands back an empty batch (with the position it reached). */
const IDLE_MS = 1000;
/** How often the server's log size is read to say how many bytes streaming is behind. */
const BEHIND_EVERY_MS = 5000;

type Phase =
  | { kind: "snapshot"; snapshot: InitialSnapshot; point: ConsistentRead; progress: SnapshotProgress; catchUp: BinlogStreamReader | undefined; at: StreamStart }
  | { kind: "stream"; stream: BinlogStreamReader | undefined; at: StreamStart }
  | { kind: "done"; at: StreamStart };

export class BinlogSource implements Source {
  private conn: Connection | undefined;
  private server!: ServerInfo;
  private history!: SchemaHistory;
  private readonly filter: TableFilter;
  private phase: Phase | undefined;
  private incremental: BinlogIncrementalReader | undefined;
  private closed = false;
  private behindAt = 0;

  constructor(
    private readonly config: BinlogConfig,
    private readonly ctx: SourceContext,
  ) {
    this.filter = tableFilter(config.include, config.exclude);
  }

  async open(position: Position | null): Promise<void> {
    this.conn = await mysqlConnect(this.config.connection, this.ctx.connector);
    this.server = await serverInfo(this.conn);
    const checks = await preflightChecks(this.config, this.conn, this.server);
    for (const c of checks) if (!c.ok && c.severity === "warning") this.ctx.log.warn({ check: c.check, fix: c.fix }, c.message);
    const failed = failedCheck(checks, this.ctx.connector);
    if (failed) throw failed;

    let stored = parsePosition(position);
    if (stored) {
      const problem = await checkStartPoint(this.conn, stored, stored.gtid, this.server.mariadb);
      if (problem?.code === ErrorCode.BINLOG_POSITION_PURGED && this.config.snapshot.mode === "when_needed") {
        this.ctx.log.warn({ position: describeCoordinates(stored) }, `${problem.message}: copying the tables again (snapshot.mode: when_needed)`);
        stored = null;
      } else if (problem) {
        throw problem;
      }
    }
    this.history = new SchemaHistory(this.config, this.ctx, this.server.mariadb, stored?.schemas ?? {});
    const mode = this.config.snapshot.mode;
    if (!stored) {
      if (mode === "never") await this.startStreamAtEnd();
      else await this.startSnapshot(undefined, undefined);
    } else if (stored.phase === "snapshot") {
      await this.startSnapshot(stored.snapshot, { file: stored.file, pos: stored.pos, gtid: stored.gtid, row: stored.row });
    } else {
      const at = { file: stored.file, pos: stored.pos, gtid: stored.gtid, row: stored.row };
      this.phase = mode === "initial_only" ? { kind: "done", at } : { kind: "stream", stream: undefined, at };
      this.incremental = this.newIncremental(stored.incremental);
    }
    this.ctx.log.info({ phase: this.phase!.kind, at: describeCoordinates(this.phase!.at), server: this.server.version }, "binlog source open");
  }

  async read(options?: ReadOptions): Promise<SourceBatch | null> {
    const phase = this.phase!;
    if (phase.kind === "done") return null;
    if (phase.kind === "snapshot") return this.readSnapshot(phase);
    return this.readStream(phase, options?.previousCommitted);
  }

  async ack(): Promise<void> {}

  /** Every table the filter captures now; tables created later get their topic with their first change. */
  async topics(): Promise<string[]> {
    const tables = await capturedTables(this.conn!, (db, t) => this.filter.captures(db, t));
    return tables.map((name) => topicOf(this.config, ...splitTableName(name)));
  }

  async command(name: string, args: Record<string, Json>): Promise<Json> {
    if (name !== "snapshot") throw new PreconditionError(ErrorCode.COMMAND_UNKNOWN, `the binlog source has no command "${name}"`, { fix: "use snapshot" });
    const tables = requestedTables(args, "database.table");
    if (this.phase?.kind !== "stream" || !this.incremental) throw streamingRequired(this.phase?.kind);
    return { queued: await this.incremental.request(tables) };
  }

  status(): ConnectorStatus {
    const phase = this.phase;
    if (!phase) return { phase: "starting" };
    const base: Record<string, Json> = { phase: phase.kind, position: describeCoordinates(phase.at), gtid: phase.at.gtid };
    if (phase.kind === "snapshot") {
      base.snapshot = { tables: phase.progress.tables.length, tablesDone: phase.progress.done, rows: phase.progress.rows, catchingUpTo: phase.catchUp ? describeCoordinates(phase.point.at) : null };
    }
    if (phase.kind === "stream" && phase.stream) base.stream = phase.stream.status();
    if (this.incremental) base.incremental = this.incremental.queue.status();
    return base;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const phase = this.phase;
    if (phase?.kind === "snapshot") {
      await phase.catchUp?.stop();
      await phase.snapshot.close();
    }
    if (phase?.kind === "stream") await phase.stream?.stop();
    await this.incremental?.close();
    await this.conn?.end().catch(() => undefined);
  }

  private newIncremental(progress: IncrementalProgress | null): BinlogIncrementalReader {
    return new BinlogIncrementalReader(this.config, this.ctx, this.history, this.filter, this.server.mariadb, this.conn!, progress);
  }

  private async startStreamAtEnd(): Promise<void> {
    const conn = this.conn!;
    const end = await logEnd(conn);
    // the columns' overrides as they are now: the stream starts now
    for (const name of await capturedTables(conn, (db, t) => this.filter.captures(db, t))) {
      const [database, table] = splitTableName(name);
      await this.history.learn(conn, name, database, table);
    }
    this.phase = { kind: "stream", stream: undefined, at: { ...end, gtid: await gtidAt(conn, end, this.server.mariadb), row: 0 } };
    this.incremental = this.newIncremental(null);
  }

  private async startSnapshot(progress: SnapshotProgress | undefined, resumeAt: StreamStart | undefined): Promise<void> {
    const tables = progress ? progress.tables : await capturedTables(this.conn!, (db, t) => this.filter.captures(db, t));
    const start = progress ?? { tables, done: 0, lastKey: null, rows: 0 };
    const snapshot = new InitialSnapshot(this.config, this.ctx, this.history, this.server.mariadb, start);
    const point = await snapshot.open();
    const pointAt = { ...point.at, gtid: point.gtid, row: 0 };
    let catchUp: BinlogStreamReader | undefined;
    if (resumeAt && compareCoordinates(resumeAt, point.at) < 0) {
      this.ctx.log.info({ from: describeCoordinates(resumeAt), to: describeCoordinates(point.at) }, "snapshot resumes: streaming the changes made since the copied rows first");
      catchUp = this.newStream(resumeAt);
      await catchUp.start();
    }
    this.phase = { kind: "snapshot", snapshot, point, progress: start, catchUp, at: catchUp ? resumeAt! : pointAt };
    this.ctx.log.info({ tables: tables.length, at: describeCoordinates(point.at), resumed: progress !== undefined }, "snapshot started");
  }

  private newStream(at: StreamStart): BinlogStreamReader {
    return new BinlogStreamReader(this.config, this.ctx, this.conn!, this.filter, this.history, this.server.mariadb, at);
  }

  private async readSnapshot(phase: Extract<Phase, { kind: "snapshot" }>): Promise<SourceBatch> {
    if (phase.catchUp) {
      const batch = await phase.catchUp.read(IDLE_MS, phase.point.at);
      phase.at = batch.at;
      if (batch.reached) {
        await phase.catchUp.stop();
        phase.catchUp = undefined;
        phase.at = { ...phase.point.at, gtid: phase.point.gtid, row: 0 };
        this.ctx.log.info({ at: describeCoordinates(phase.at) }, "snapshot caught up: copying the remaining rows");
      }
      return { records: batch.records, position: this.snapshotPosition(phase) };
    }
    if (this.ctx.signal.aborted) return { records: [], position: this.snapshotPosition(phase) };
    const chunk = await phase.snapshot.next();
    if (chunk === null) {
      await phase.snapshot.close();
      this.ctx.log.info({ tables: phase.progress.tables.length, rows: phase.progress.rows, at: describeCoordinates(phase.at) }, "snapshot done");
      const done = this.config.snapshot.mode === "initial_only";
      this.phase = done ? { kind: "done", at: phase.at } : { kind: "stream", stream: undefined, at: phase.at };
      if (!done) this.incremental = this.newIncremental(null);
      return { records: [], position: this.streamPosition(phase.at) };
    }
    phase.progress = chunk.progress;
    return { records: chunk.records, position: this.snapshotPosition(phase) };
  }

  private async readStream(phase: Extract<Phase, { kind: "stream" }>, previousCommitted: Promise<void> | undefined): Promise<SourceBatch> {
    if (!phase.stream) {
      phase.stream = this.newStream(phase.at);
      await phase.stream.start();
    }
    const chunk = this.ctx.signal.aborted ? undefined : await this.incremental!.queue.next();
    const batch = await phase.stream.read(IDLE_MS, chunk?.at, previousCommitted);
    phase.at = batch.at;
    let records: ChangeRecord[] = batch.records;
    if (chunk && batch.reached) {
      records = records.length === 0 ? chunk.records : [...records, ...chunk.records];
      this.incremental!.queue.produced();
    }
    await this.reportBehind(phase.stream, phase.at);
    return { records, position: this.streamPosition(phase.at) };
  }

  /** Bytes of binary log between where streaming stands and the server's head, now and then. */
  private async reportBehind(stream: BinlogStreamReader, at: StreamStart): Promise<void> {
    const seconds = stream.secondsBehind();
    if (seconds === null || Date.now() - this.behindAt < BEHIND_EVERY_MS) return;
    this.behindAt = Date.now();
    try {
      const logs = await binaryLogs(this.conn!);
      const i = logs.findIndex((l) => l.file === at.file);
      if (i < 0) return;
      const bytesBehind = Math.max(0, logs[i]!.size - at.pos) + logs.slice(i + 1).reduce((n, l) => n + l.size, 0);
      this.ctx.metrics.lagSeconds(seconds, { bytesBehind });
    } catch (err) {
      // a figure for the status only: streaming goes on without it
      this.ctx.log.debug({ err }, "cannot read the binary logs' sizes");
    }
  }

  private snapshotPosition(phase: Extract<Phase, { kind: "snapshot" }>): Position {
    const p: BinlogPosition = { phase: "snapshot", file: phase.at.file, pos: phase.at.pos, gtid: phase.at.gtid, row: phase.at.row, snapshot: phase.progress, schemas: this.history.forPosition() };
    return p as unknown as Position;
  }

  private streamPosition(at: StreamStart): Position {
    const p: BinlogPosition = { phase: "stream", file: at.file, pos: at.pos, gtid: at.gtid, row: at.row, incremental: this.incremental?.queue.committed ?? null, schemas: this.history.forPosition() };
    return p as unknown as Position;
  }
}
