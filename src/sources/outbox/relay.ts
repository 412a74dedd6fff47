/**
 * The outbox relay: the table itself is the cursor.
 *
 * Ids are handed out at INSERT and become visible at COMMIT, so they become visible out of order:
 * a transaction that took id 10 may commit after the one that took id 11. A cursor `id > last`
 * would pass 10 while it is invisible and never come back for it. Here nothing is skipped for
 * good, because a row stays in the table until it is published: every batch is the lowest
 * unpublished ids, and a late row with a low id is simply among them on the next read.
 *
 * The rule that keeps order: a batch is a prefix, by id, of the unpublished rows visible in ONE
 * snapshot (cut by count, bytes, or a bad row, always at its end). Batches commit in order, and
 * key = aggregate id keeps one aggregate on one partition. So if an event is published, every
 * event with a lower id that was committed before it is published in the same batch or earlier.
 * For the events of one aggregate, lower id means committed earlier when the application
 * serializes its transactions on the aggregate before it writes the event: updating (locking)
 * the aggregate's row first, as a state change does. Then events of one aggregate arrive in the
 * order their transactions committed. What the relay cannot know is commit order between
 * transactions that took their ids in the other order without serializing: two transactions that
 * insert events for one aggregate without locking it publish in id order, whatever order they
 * committed in (docs/outbox.md, "Order").
 *
 * Rows in flight. The runtime reads batch k+1 while it commits batch k, and cleans up k (ack)
 * only after the commit. Read k+1 therefore reads ahead only ids above k's highest (none of k's
 * rows can be there) and converts them while k commits; once k is acked and gone it takes the
 * first unpublished ids of a fresh snapshot, which is the batch: the rows read ahead are reused,
 * the others (committed late below k, or meanwhile) are read by id. Two snapshots stitched
 * together would not do: a row that commits between them inside the read-ahead range would be
 * missing while a later event of its aggregate above that range got in.
 *
 * Exactly once. A batch's records and its position (the ids it published, as runs) commit in one
 * Kafka transaction; the rows are deleted (or marked) after it. A crash before the commit leaves
 * the rows to be read again; a crash after it leaves a position naming them, and open() finishes
 * their cleanup before it reads anything.
 */
import type { Position, Source, SourceBatch, SourceContext } from "../../runtime/connector.js";
import { ChangeEvents } from "./changes.js";
import type { OutboxConfig } from "./config.js";
import { notifyNames } from "./ddl.js";
import { EventSchemas } from "./event-schemas.js";
import { NotifyWaker } from "./notify.js";
import { outboxTableName } from "./sql.js";
import { EMPTY_POSITION, idsOf, parsePosition, sameRuns, toRuns, type IdRuns, type OutboxPosition } from "./position.js";
import { EventRecords, type ConvertedRow } from "./records.js";
import { eventTime, Router } from "./routing.js";
import type { OutboxTable } from "./table.js";
import { MysqlOutboxTable } from "./table-mysql.js";
import { PostgresOutboxTable } from "./table-postgres.js";
import { AdaptivePoll, type Waker } from "./wake.js";

interface InFlight {
  /** The highest id of the batch. */
  maxId: number;
  rows: number;
  runs: IdRuns;
  acked: Promise<void>;
  resolve(): void;
}

export class OutboxRelay implements Source {
  private readonly router: Router;
  private readonly schemas: EventSchemas;
  private readonly closing = new AbortController();
  /** Aborted when the connector stops or the relay closes: every wait ends. */
  private readonly signal: AbortSignal;
  private table: OutboxTable | undefined;
  private waker: Waker | undefined;
  private records: EventRecords | undefined;
  /** The batch handed out and not acked yet. */
  private inFlight: InFlight | undefined;
  /** What the last batch handed out published. */
  private position: OutboxPosition = EMPTY_POSITION;
  private cleaned: IdRuns = [];
  private published = 0;
  private deadLettered = 0;

  constructor(
    private readonly config: OutboxConfig,
    private readonly ctx: SourceContext,
  ) {
    this.router = new Router(config);
    this.schemas = new EventSchemas(config, ctx.schemas);
    this.signal = AbortSignal.any([ctx.signal, this.closing.signal]);
  }

  async open(position: Position | null): Promise<void> {
    const start = parsePosition(position);
    const name = outboxTableName(this.config);
    const options = { name, columns: this.config.columns, extra: this.router.extraColumns, cleanup: this.config.cleanup, connector: this.ctx.connector };
    const table = (this.table =
      this.config.dialect === "postgres" ? await PostgresOutboxTable.open(this.config.connection, options) : await MysqlOutboxTable.open(this.config.connection, options));
    await this.schemas.load();
    this.records = new EventRecords(this.config, this.ctx, this.schemas, this.router, new ChangeEvents(table, this.config, this.ctx.connector), `${name.schema}.${name.table}`);
    // the last committed batch is in Kafka: finish its cleanup before reading, or it goes out twice
    await table.cleanup(idsOf(start.published));
    this.position = start;
    this.cleaned = start.published;
    const poll = { min: this.config.minPollIntervalMs, max: this.config.pollIntervalMs };
    const notify =
      this.config.dialect === "postgres" && this.config.notify
        ? await NotifyWaker.start(this.config.connection, name, notifyNames(this.config, name), poll, this.ctx.log, this.ctx.connector)
        : undefined;
    this.waker = notify ?? new AdaptivePoll(poll.min, poll.max);
    this.ctx.log.info({ table: `${name.schema}.${name.table}`, wake: this.waker.mode, cleanup: this.config.cleanup }, "outbox relay open");
  }

  async read(): Promise<SourceBatch> {
    const table = this.table!;
    const records = this.records!;
    const waker = this.waker!;
    const limit = Math.min(this.ctx.limits.maxBatchRecords, this.config.batch.maxRecords);
    const started = Date.now();
    const previous = this.inFlight;
    let converted: ConvertedRow[];
    waker.polling();
    if (previous) {
      // read and converted while the previous batch commits: the event loop waits on Kafka meanwhile
      const ahead = table.fetch(limit, previous.maxId).then((rows) => records.convert(rows));
      ahead.catch(() => undefined); // awaited below, unless we stop first
      if (!(await this.until(previous.acked))) return this.idle();
      // the previous batch is gone now: the batch is the first unpublished ids of one snapshot
      const [ids, first] = await Promise.all([table.firstIds(limit), ahead]);
      const byId = new Map(first.map((c) => [c.row.id, c]));
      const missing = ids.filter((id) => !byId.has(id));
      if (missing.length > 0) for (const c of await records.convert(await table.rows(missing))) byId.set(c.row.id, c);
      converted = ids.flatMap((id) => byId.get(id) ?? []);
    } else {
      converted = await records.convert(await table.fetch(limit));
    }
    // nothing unpublished: the relay is at the table's head, however old its last event was
    if (converted.length === 0) this.ctx.metrics.lagSeconds(0);
    while (converted.length === 0) {
      if (this.signal.aborted || Date.now() - started >= this.config.pollIntervalMs) return this.idle();
      await waker.wait(this.signal);
      if (this.signal.aborted) return this.idle();
      waker.polling();
      converted = await records.convert(await table.fetch(limit));
    }
    waker.busy();
    return this.batch(converted);
  }

  async ack(position: Position): Promise<void> {
    const { published } = parsePosition(position);
    if (!sameRuns(published, this.cleaned)) {
      await this.table!.cleanup(idsOf(published));
      this.cleaned = published;
    }
    const flight = this.inFlight;
    if (flight && sameRuns(flight.runs, published)) {
      this.inFlight = undefined;
      flight.resolve();
    }
  }

  async close(): Promise<void> {
    this.closing.abort();
    const { waker, table } = this;
    this.waker = undefined;
    this.table = undefined;
    await Promise.all([waker?.close(), table?.close()]);
  }

  status() {
    return {
      wake: this.waker?.mode ?? "closed",
      published: this.published,
      deadLettered: this.deadLettered,
      inFlight: this.inFlight?.rows ?? 0,
    };
  }

  /** Rows as records, cut by bytes; they are in flight until their position is acked. */
  private batch(converted: ConvertedRow[]): SourceBatch {
    const maxBytes = Math.min(this.ctx.limits.maxBatchBytes, this.config.batch.maxBytes);
    let bytes = 0;
    let n = 0;
    while (n < converted.length && (n === 0 || bytes + converted[n]!.row.bytes <= maxBytes)) bytes += converted[n++]!.row.bytes;
    const { records, rows, deadLetters } = this.records!.batch(n < converted.length ? converted.slice(0, n) : converted);
    const runs = toRuns(rows.map((r) => r.id));
    let resolve!: () => void;
    const acked = new Promise<void>((r) => (resolve = r));
    this.inFlight = { maxId: rows.at(-1)!.id, rows: rows.length, runs, acked, resolve };
    this.position = { published: runs };
    this.published += rows.length - deadLetters;
    this.deadLettered += deadLetters;
    this.ctx.metrics.lagSeconds(Math.max(0, Date.now() - eventTime(rows.at(-1)!)) / 1000);
    return { records, position: this.position };
  }

  /** Nothing new: the last position again (the runtime commits nothing for it). */
  private idle(): SourceBatch {
    return { records: [], position: this.position };
  }

  /** True once `promise` resolved; false when the relay is stopped first. */
  private until(promise: Promise<void>): Promise<boolean> {
    if (this.signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const stop = () => resolve(false);
      this.signal.addEventListener("abort", stop, { once: true });
      void promise.then(() => {
        this.signal.removeEventListener("abort", stop);
        resolve(true);
      });
    });
  }
}
