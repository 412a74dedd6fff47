/**
 * The snapshot phase the log-based sources share (binlog, pgcdc): their tables as `op: "r"`
 * records, one table after the other, in primary-key chunks read inside one consistent read that
 * the source opened. Each chunk is a batch (one Kafka transaction) with the progress in its
 * position, so a restart goes on with the next chunk. How a table is described and a chunk read
 * is the source's business (a ChunkReader).
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { ChangeRecord, Json, SourceContext } from "../connector.js";
import { pushChange } from "../sql-types/change-records.js";
import type { SourceInfo, TableStream } from "../sql-types/envelope.js";
import type { TableEstimate } from "./introspect.js";
import { ChunkSize } from "./row-bytes.js";
import { TableProgress } from "./table-progress.js";

export interface SnapshotProgress {
  /** Every table to copy, in order. */
  tables: string[];
  /** How many of them are copied completely. */
  done: number;
  /** The chunk key of the last row copied of `tables[done]`; null before its first chunk. */
  lastKey: Json[] | null;
  /** Rows copied so far, all tables. */
  rows: number;
}

export interface Chunk {
  rows: Record<string, unknown>[];
  /** The key of the last row (or, without a primary key, the rows read so far as [n]); null when empty. */
  lastKey: Json[] | null;
  /** Fewer rows than asked: the table has no more. */
  last: boolean;
}

export interface SnapshotTable {
  name: string;
  stream: TableStream;
}

/** What a source tells about one table to copy; undefined when it is gone. */
export interface StartedTable<T extends SnapshotTable> {
  captured: T;
  keyless: boolean;
  /** The server's guess of its rows and a row's size, and the range of an integer first key column that refines it. */
  estimate: TableEstimate & { keyRange?: { min: number; max: number } | undefined };
}

export interface ChunkReader<T extends SnapshotTable> {
  /** Describes the table (and checks its schema against the registry's rule). */
  start(name: string): Promise<StartedTable<T> | undefined>;
  read(captured: T, lastKey: Json[] | null, rows: number): Promise<Chunk>;
  source(captured: T): SourceInfo;
  /** Before each chunk: waits while the database is busy or the rate limit says so. */
  pace?(): Promise<void>;
  /** After each chunk, with the rows it read. */
  afterChunk?(rows: number): void;
}

const PROGRESS_LOG_MS = 10_000;

/** `snapshot.maxRowsPerSecond` (0: no limit): before each read, waits until the rows read so far are within the rate. */
export class RowRate {
  private readonly startedAt = Date.now();
  private rows = 0;

  constructor(
    private readonly perSecond: number,
    private readonly signal: AbortSignal,
  ) {}

  async before(): Promise<void> {
    if (this.perSecond <= 0) return;
    const due = this.startedAt + (this.rows / this.perSecond) * 1000 - Date.now();
    if (due > 0) await sleep(due, undefined, { signal: this.signal }).catch(() => undefined);
  }

  read(rows: number): void {
    this.rows += rows;
  }
}

interface TableRun<T> {
  captured: T;
  size: ChunkSize;
  progress: TableProgress;
}

export class ChunkedSnapshot<T extends SnapshotTable> {
  private run: TableRun<T> | undefined;
  private lastLog = 0;

  constructor(
    private readonly reader: ChunkReader<T>,
    private readonly ctx: SourceContext,
    private readonly chunkSize: number,
    private progress: SnapshotProgress,
  ) {}

  get current(): SnapshotProgress {
    return this.progress;
  }

  /** The next chunk, or null when every table is copied. */
  async next(): Promise<{ records: ChangeRecord[]; progress: SnapshotProgress } | null> {
    for (;;) {
      const name = this.progress.tables[this.progress.done];
      if (name === undefined) return null;
      const run = this.run ?? (this.run = await this.startTable(name));
      if (!run) {
        this.ctx.log.warn({ table: name }, "table to copy is gone: skipped");
        this.progress = { ...this.progress, done: this.progress.done + 1, lastKey: null };
        continue;
      }
      await this.reader.pace?.();
      const chunk = await this.reader.read(run.captured, this.progress.lastKey, run.size.rows());
      run.size.read(chunk.rows);
      this.reader.afterChunk?.(chunk.rows.length);
      const records: ChangeRecord[] = [];
      const source = this.reader.source(run.captured);
      const meta = () => ({ source, transaction: null });
      const now = Date.now();
      for (const row of chunk.rows) pushChange(records, run.captured, "r", null, row, now, meta);
      run.progress.read(chunk);
      const rows = this.progress.rows + chunk.rows.length;
      this.progress = chunk.last ? { ...this.progress, done: this.progress.done + 1, lastKey: null, rows } : { ...this.progress, lastKey: chunk.lastKey, rows };
      this.report(run, chunk.last);
      if (chunk.last) this.run = undefined;
      if (records.length > 0 || chunk.last) return { records, progress: this.progress };
    }
  }

  private async startTable(name: string): Promise<TableRun<T> | undefined> {
    const started = await this.reader.start(name);
    if (!started) return undefined;
    if (started.keyless && this.progress.lastKey) {
      this.ctx.log.warn({ table: name }, "table without a primary key: copied again from its start after the restart");
      this.progress = { ...this.progress, lastKey: null };
    }
    const progress = new TableProgress(this.ctx, name, "initial", started.estimate, this.progress.lastKey);
    this.ctx.log.info({ table: name, estimatedRows: progress.estimatedRows, topic: started.captured.stream.topic }, "snapshot of table started");
    const size = new ChunkSize(this.chunkSize, this.ctx.limits.maxBatchBytes, progress.rowBytes);
    return { captured: started.captured, size, progress };
  }

  private report(run: TableRun<T>, finished: boolean): void {
    const now = Date.now();
    if (!finished && now - this.lastLog < PROGRESS_LOG_MS) return;
    this.lastLog = now;
    this.ctx.log.info(
      { ...run.progress.summary(finished), tablesDone: this.progress.done, tables: this.progress.tables.length },
      finished ? "snapshot of table done" : "snapshot progress",
    );
  }
}
