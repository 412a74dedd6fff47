/**
 * The query source: polls tables (and a custom query) of a MySQL/MariaDB or PostgreSQL database
 * in keyset pages, never past the safe horizon (horizon.ts), one page per batch, streams in turn.
 *
 * A stream's life: on its first start an initial load reads every row up to the horizon of that
 * moment (`op: r`, the bound fixed in the position so a restart resumes it); then it polls what
 * is new (`op: c/u`, soft deletes `op: d` and a tombstone). Bulk streams re-read the whole table
 * each pollIntervalMs. With deletes.detect: checksum, a pass over the keys emitted finds rows
 * that are gone (deletes.ts).
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { ChangeRecord, ConnectorStatus, Json, Position, Source, SourceBatch, SourceContext, TaskRef } from "../../runtime/connector.js";
import { ErrorCode, PreconditionError } from "../../runtime/errors.js";
import { rowsWithin } from "../../runtime/db/row-bytes.js";
import type { Envelope } from "../../runtime/sql-types/envelope.js";
import { readsById, type QueryConfig, type StreamConfig } from "./config.js";
import type { SourceDatabase } from "./database.js";
import { openDatabase } from "./open-database.js";
import { EmittedKeys, keyIdentity, type KeyId } from "./deletes.js";
import { earliest, SafeHorizon, type Probe } from "./horizon.js";
import { parsePosition, type QueryPosition, type StreamCursor } from "./position.js";
import { isZoned } from "./sql.js";
import { PageReader, timeBound, type Bound, type PageResult, type StreamOptions } from "./stream.js";
import { BusyGuard, RateLimit } from "./throttle.js";

/** An idle read() returns an empty batch after this long, so shutdown and heartbeats keep moving. */
const IDLE_RETURN_MS = 1000;
/** How long a transaction may hold the horizon back before the log names it. */
const HELD_WARNING_MS = 30_000;
const PROGRESS_LOG_MS = 10_000;

/** A server instant (µs) for status and logs; null stays null. */
const isoOrNull = (micros: number | null | undefined): string | null => (micros === null || micros === undefined ? null : new Date(micros / 1000).toISOString());

/**
 * A task's streams: every count-th of the configured ones (tables in their order, then the custom
 * query), starting at its index. Every worker reads the same config, so all agree on who owns what.
 */
const streamsOfTask = (streams: readonly StreamConfig[], task: TaskRef): StreamConfig[] => streams.filter((_, i) => i % task.count === task.index);

interface InitialLoad {
  estimated: number;
  done: number;
  startedAt: number;
  loggedAt: number;
}

interface StreamState {
  reader: PageReader;
  /** Nested values are replaced, never changed in place: a batch's position is a shallow copy. */
  pos: StreamCursor | undefined;
  dueAt: number;
  keys?: EmittedKeys;
  /** The deletes pass in progress: next chunk, the chunk count when it began, keys found gone but not yet emitted. */
  pass?: { chunk: number; end: number; gone: KeyId[]; deleted: number };
  rows: number;
  lastPollMs: number;
  lag?: number;
  load?: InitialLoad;
}

export class QuerySource implements Source {
  private db: SourceDatabase | undefined;
  private states: StreamState[] = [];
  private readonly horizon: SafeHorizon;
  private probedAt = 0;
  private turn = 0;
  private readonly rate: RateLimit;
  private busy: BusyGuard | undefined;
  private heldWarned = false;
  /** The server clock at the first probe: an initial load reads everything committed before it. */
  private openedAtServer: number | undefined;
  private readonly streamOptions: StreamOptions;
  /** This task's share of the streams. */
  private readonly streams: StreamConfig[];

  constructor(
    private readonly config: QueryConfig,
    private readonly ctx: SourceContext,
  ) {
    this.streams = streamsOfTask(config.streams, ctx.task);
    this.horizon = new SafeHorizon(config.delayMs * 1000);
    this.rate = new RateLimit(config.maxRowsPerSecond);
    this.streamOptions = {
      connector: ctx.connector,
      database: config.connection.database ?? (config.dialect === "postgres" ? "postgres" : ""),
      log: ctx.log,
      mapping: config.mapping,
      zone: "UTC",
      gate: ctx.schemas,
    };
  }

  async open(position: Position | null): Promise<void> {
    const stored = parsePosition(position);
    const db = (this.db = await openDatabase(this.config.dialect, this.config.connection, this.ctx.connector));
    if (!db.seesTransactions) {
      this.ctx.log.warn(
        { delayMs: this.config.delayMs },
        `cannot list other sessions' open transactions: rows are read once they are delayMs (${this.config.delayMs} ms) old, and a transaction open longer than that may commit rows this source skips`,
      );
    }
    if (db.unseenIdDraws && readsById(this.config)) {
      this.ctx.log.warn({ fix: db.unseenIdDraws.fix }, db.unseenIdDraws.message);
    }
    if (this.config.busy.maxThreadsRunning > 0) {
      this.busy = new BusyGuard(this.config.busy.maxThreadsRunning, this.config.busy.pauseMs, () => db.busyness(), this.ctx.log);
    }
    for (const config of this.streams) {
      const reader = new PageReader(config, db, this.streamOptions);
      await reader.describe();
      const pos = stored.streams[config.topic];
      const state: StreamState = { reader, pos: pos ? { ...pos } : undefined, dueAt: 0, rows: 0, lastPollMs: 0 };
      if (this.config.deletes.detect === "checksum") {
        if (reader.plan.key.length === 0) {
          throw new PreconditionError(ErrorCode.QUERY_KEY_MISSING, `${reader.label} has no key: deletes.detect: checksum needs one to name the rows that are gone`, {
            fix: `set ${config.at}.keyColumns, or deletes.detect: none`,
          });
        }
        state.keys = new EmittedKeys(pos?.keys, this.config.deletes.maxStateBytes, reader.label);
      }
      // a bulk stream between passes waits for its next one, also across a restart
      if (config.mode === "bulk" && pos?.passAt !== undefined && (pos.id ?? null) === null) state.dueAt = pos.passAt + this.config.pollIntervalMs;
      this.states.push(state);
    }
    const wallClock = this.states.find((s) => s.reader.plan.timestamp && !isZoned(s.reader.plan.timestamp));
    if (wallClock) {
      this.streamOptions.zone = this.config.timeZone ?? (await db.defaultTimeZone());
      await db.checkTimeZone(this.streamOptions.zone);
    }
    this.ctx.log.info(
      {
        streams: this.states.map((s) => ({ topic: s.reader.topic, mode: s.reader.config.mode, phase: this.phase(s) })),
        horizon: db.seesTransactions ? "open transactions and delayMs" : "delayMs only",
        timeZone: wallClock ? this.streamOptions.zone : undefined,
      },
      this.ctx.task.count === 1 ? `query source open: ${this.states.length} stream(s)` : `query source task ${this.ctx.task.index} of ${this.ctx.task.count} open: ${this.states.length} stream(s)`,
    );
  }

  async topics(): Promise<string[]> {
    return this.states.map((s) => s.reader.topic);
  }

  async read(): Promise<SourceBatch | null> {
    const signal = this.ctx.signal;
    const deadline = Date.now() + IDLE_RETURN_MS;
    while (!signal.aborted) {
      const now = Date.now();
      const due = this.nextDue(now);
      if (due && !(await this.busy?.paused())) return { records: await this.work(due, now), position: this.position() };
      if (now >= deadline) break;
      // while the database is busy, look again soon; else sleep until the next stream is due
      const wakeAt = Math.min(deadline, due ? now + 200 : Math.min(...this.states.map((s) => this.dueAt(s))));
      await sleep(Math.max(wakeAt - now, 5), undefined, { signal }).catch(() => undefined);
    }
    return { records: [], position: this.position() };
  }

  async ack(): Promise<void> {}

  async close(): Promise<void> {
    const db = this.db;
    this.db = undefined;
    await db?.close();
  }

  status(): ConnectorStatus {
    const probe = this.horizon.lastProbe;
    const streams: Record<string, Json> = {};
    for (const s of this.states) {
      const entry: Record<string, Json> = {
        source: s.reader.label,
        mode: s.reader.config.mode,
        phase: this.phase(s),
        rowsPolled: s.rows,
        lastPollMs: s.lastPollMs,
        cursor: s.pos ? { ts: s.pos.ts ?? null, id: s.pos.id ?? null } : null,
      };
      if (s.lag !== undefined) entry.lagSeconds = s.lag;
      if (s.keys) entry.keysTracked = s.keys.size;
      streams[s.reader.topic] = entry;
    }
    return {
      horizon: {
        seesTransactions: this.db?.seesTransactions ?? false,
        delayMs: this.config.delayMs,
        serverNow: probe ? new Date(probe.now / 1000).toISOString() : null,
        oldestOpenTransaction: isoOrNull(probe && this.heldSince(probe)),
        frozenBy: probe?.frozenBy ?? null,
      },
      busy: this.busy?.status().busy ?? false,
      // this task's share, as the config names it (the custom query by its name)
      tables: this.streams.map((s) => (s.sql ? s.table : `${s.schema}.${s.table}`)),
      streams,
    };
  }

  private phase(s: StreamState): string {
    if (s.reader.config.mode === "bulk") return "bulk";
    if (!s.pos) return "waiting for the horizon";
    return s.pos.snapshot ? "initial load" : "live";
  }

  /** The next stream with work, round-robin so one busy table does not starve the others. */
  private nextDue(now: number): StreamState | undefined {
    for (let i = 0; i < this.states.length; i++) {
      const s = this.states[(this.turn + i) % this.states.length]!;
      if (this.dueAt(s) <= now) {
        this.turn = (this.turn + i + 1) % this.states.length;
        return s;
      }
    }
    return undefined;
  }

  /** When a stream next has work: its next poll, or its next hard-delete pass (or now, while one runs). */
  private dueAt(s: StreamState): number {
    if (!s.keys || !s.pos || s.pos.snapshot || s.keys.size === 0) return s.dueAt;
    if (s.pass) return 0;
    return Math.min(s.dueAt, (s.pos.deletesAt ?? 0) + this.config.deletes.intervalMs);
  }

  /** A copy that later reads cannot change: the runtime commits it while the next batch is read. */
  private position(): Position {
    const streams: Record<string, StreamCursor> = {};
    for (const s of this.states) {
      if (!s.pos) continue;
      streams[s.reader.topic] = s.keys ? { ...s.pos, keys: s.keys.encode() } : { ...s.pos };
    }
    const position: QueryPosition = { streams };
    return position as unknown as Position;
  }

  private async work(s: StreamState, now: number): Promise<ChangeRecord[]> {
    const t0 = performance.now();
    try {
      // a due poll goes first: a pass then also sees what it emitted
      if (s.dueAt > now) return await this.deletesPass(s);
      return await this.poll(s, now);
    } finally {
      s.lastPollMs = Math.round(performance.now() - t0);
    }
  }

  /** Rows for the next page: batchSize, within the batch caps (records, and bytes as the last page's rows measured). */
  private pageLimit(s: StreamState): number {
    // a soft delete is two records: a page never makes more than the batch cap
    const byRecords = Math.floor(this.ctx.limits.maxBatchRecords / (s.reader.plan.softDelete ? 2 : 1));
    const limit = Math.min(this.config.batchSize, byRecords);
    return this.rate.pageLimit(Math.max(1, rowsWithin(limit, this.ctx.limits.maxBatchBytes, s.reader.rowBytes)));
  }

  private async poll(s: StreamState, now: number): Promise<ChangeRecord[]> {
    const limit = this.pageLimit(s);
    const mode = s.reader.config.mode;
    let result: PageResult;
    let full: boolean;
    if (mode === "bulk") {
      const pos = (s.pos ??= {});
      result = await s.reader.page(pos, null, limit, true);
      full = result.rows >= limit;
      if (!full) {
        // the pass is complete: the next one starts from the beginning after pollIntervalMs
        Object.assign(pos, { pass: (pos.pass ?? 0) + 1, passAt: Date.now(), id: null });
      }
    } else {
      if (!s.pos || !s.pos.snapshot) await this.refreshHorizon();
      if (!s.pos) {
        const bound = this.loadBound(s);
        if (bound === null) {
          s.dueAt = now + Math.min(this.config.pollIntervalMs, 200);
          return [];
        }
        s.pos = { snapshot: { until: "id" in bound ? bound.id : bound.before } };
        await this.startLoad(s);
      }
      const snapshot = s.pos.snapshot;
      const bound: Bound = snapshot ? (s.reader.plan.timestamp ? { before: snapshot.until as string } : { id: snapshot.until }) : this.liveBound(s);
      if (bound === null) {
        s.dueAt = now + this.config.pollIntervalMs;
        return [];
      }
      result = await s.reader.page(s.pos, bound, limit, snapshot !== undefined);
      full = result.rows >= limit;
      if (snapshot) this.loadProgress(s, result.rows, full);
      else this.reportLag(s, result, bound);
    }
    s.rows += result.rows;
    s.dueAt = full ? 0 : now + this.config.pollIntervalMs;
    if (s.keys) this.trackKeys(s, result.records);
    await this.rate.take(result.rows, this.ctx.signal);
    return result.records;
  }

  /** The bound a live page may read up to now; null while nothing new is known to be safe. */
  private liveBound(s: StreamState): Bound {
    const plan = s.reader.plan;
    if (plan.config.mode === "incrementing") {
      const id = this.horizon.idBound(s.reader.topic);
      return id === null ? null : { id };
    }
    const micros = this.horizon.timeBound();
    return micros === null ? null : timeBound(micros, plan);
  }

  /** The bound of an initial load: the first horizon that covers the moment the source opened; null until then. */
  private loadBound(s: StreamState): Bound {
    const opened = this.openedAtServer;
    if (opened === undefined) return null;
    const reached = s.reader.config.mode === "incrementing" ? this.horizon.idBoundAt(s.reader.topic) : this.horizon.timeBound();
    return reached !== null && reached >= opened ? this.liveBound(s) : null;
  }

  /** Samples visible ids, then asks the clock and the open transactions (horizon.ts says why in this order). */
  private async refreshHorizon(): Promise<void> {
    if (Date.now() - this.probedAt < Math.min(this.config.pollIntervalMs, 1000)) return;
    const db = this.db!;
    const visible = new Map<string, Json>();
    for (const s of this.states) {
      if (s.reader.config.mode === "incrementing" && !s.pos?.snapshot) visible.set(s.reader.topic, await s.reader.visibleMax(s.pos ?? {}));
    }
    const probe = await db.probe();
    this.openedAtServer ??= probe.now;
    this.horizon.update(probe, visible);
    this.probedAt = Date.now();
    await this.watchHeld(probe);
  }

  /** The start of the oldest open transaction that holds some stream back: one that may hold ids counts only where a stream reads by id. */
  private heldSince(probe: Probe): number | null {
    return readsById(this.config) ? earliest(probe.oldest, probe.oldestWriter) : probe.oldest;
  }

  /** One log line when an open transaction (or a prepared one) starts holding rows back, one when it stops. */
  private async watchHeld(probe: Probe): Promise<void> {
    const since = this.heldSince(probe);
    const held = probe.frozenBy !== undefined || (since !== null && probe.now - since > HELD_WARNING_MS * 1000);
    if (held === this.heldWarned) return;
    this.heldWarned = held;
    if (!held) {
      this.ctx.log.info("the horizon moves again: no old transaction holds rows back");
      return;
    }
    const by = probe.frozenBy ?? (await this.db!.oldestTransaction()) ?? "an open transaction";
    this.ctx.log.warn(
      { oldest: isoOrNull(since) },
      `rows written after ${isoOrNull(since) ?? "now"} wait: ${by} may still commit older rows (commit or end it to let them through)`,
    );
  }

  private async startLoad(s: StreamState): Promise<void> {
    const c = s.reader.config;
    const estimated = c.sql ? 0 : (await this.db!.estimate(c.schema, c.table)).rows;
    const now = Date.now();
    s.load = { estimated, done: 0, startedAt: now, loggedAt: now };
    this.ctx.log.info({ topic: c.topic, estimated: s.load.estimated, until: s.pos?.snapshot?.until }, `initial load of ${s.reader.label} starts`);
  }

  private loadProgress(s: StreamState, rows: number, full: boolean): void {
    const load = (s.load ??= { estimated: 0, done: 0, startedAt: Date.now(), loggedAt: Date.now() });
    load.done += rows;
    const now = Date.now();
    const seconds = Math.max((now - load.startedAt) / 1000, 0.001);
    const rate = Math.round(load.done / seconds);
    this.ctx.metrics.snapshotProgress(s.reader.topic, load.done, Math.max(load.estimated, load.done), { kind: "initial", finished: !full, chunk: (s.pos?.snapshot ?? null) as Json });
    if (!full) {
      delete s.pos!.snapshot;
      s.load = undefined;
      this.ctx.log.info({ topic: s.reader.topic, rows: load.done, seconds: Math.round(seconds), rowsPerSecond: rate }, `initial load of ${s.reader.label} done`);
    } else if (now - load.loggedAt >= PROGRESS_LOG_MS) {
      load.loggedAt = now;
      const left = Math.max(load.estimated - load.done, 0);
      this.ctx.log.info(
        { topic: s.reader.topic, rows: load.done, estimated: load.estimated, rowsPerSecond: rate, etaSeconds: rate > 0 ? Math.round(left / rate) : null },
        `initial load of ${s.reader.label}: ${load.done} of ~${load.estimated} rows`,
      );
    }
  }

  private reportLag(s: StreamState, result: PageResult, bound: Bound): void {
    const probe = this.horizon.lastProbe;
    if (!probe || bound === null) return;
    const reached = result.newestMs !== undefined ? result.newestMs * 1000 : "before" in bound ? this.horizon.timeBound() : this.horizon.idBoundAt(s.reader.topic);
    if (reached === null) return;
    s.lag = Math.max(0, (probe.now - reached) / 1e6);
    this.ctx.metrics.lagSeconds(Math.max(...this.states.map((x) => x.lag ?? 0)));
  }

  /** Keys of what was emitted join the set; a delete leaves it; a row back again is no longer gone. */
  private trackKeys(s: StreamState, records: readonly ChangeRecord[]): void {
    const keys = s.keys!;
    const gone = s.pass?.gone;
    for (const r of records) {
      if (r.value === null) continue;
      const id = keyIdentity(r.key as Record<string, unknown>);
      if ((r.value as Envelope).op === "d") {
        keys.remove(id);
        continue;
      }
      keys.add(id);
      if (gone && gone.length > 0) {
        const at = gone.indexOf(id);
        if (at >= 0) gone.splice(at, 1);
      }
    }
  }

  /**
   * One chunk of emitted keys checked against the table per call (its deletes spread over several
   * batches when they would not fit batch.maxRecords); the pass ends with a compaction.
   */
  private async deletesPass(s: StreamState): Promise<ChangeRecord[]> {
    const keys = s.keys!;
    const pass = (s.pass ??= { chunk: 0, end: keys.chunkCount, gone: [], deleted: 0 });
    if (pass.gone.length === 0) {
      const ids = [...keys.chunk(pass.chunk)];
      const present = ids.length > 0 ? await s.reader.existingKeys(ids) : new Set();
      pass.gone = ids.filter((id) => !present.has(id));
      pass.chunk++;
    }
    const records: ChangeRecord[] = [];
    for (const id of pass.gone.splice(0, Math.max(1, Math.floor(this.ctx.limits.maxBatchRecords / 2)))) {
      records.push(...s.reader.deleteRecords(id));
      keys.remove(id);
      pass.deleted++;
    }
    if (pass.gone.length === 0 && pass.chunk >= pass.end) {
      keys.compact();
      s.pass = undefined;
      s.pos!.deletesAt = Date.now();
      this.ctx.log.info({ topic: s.reader.topic, keys: keys.size, deleted: pass.deleted }, `hard-delete pass over ${s.reader.label} done: ${pass.deleted} row(s) gone`);
    }
    return records;
  }
}
