/**
 * Incremental snapshots as the log-based sources share them (binlog, pgcdc): tables copied again
 * while streaming goes on, on request (`liberator snapshot <connector> --table …`, the admin API's
 * POST /connectors/{name}/snapshot). This is the queue and its progress: which tables are left,
 * how far the current one is, and the one chunk read but not yet produced. How a chunk is read,
 * and at which point of the change stream its rows belong, is the source's business (its
 * `read`); the source produces the chunk once its stream has reached that point, then calls
 * produced().
 *
 * The progress goes into every stream position: `committed` is what the batches produced so far
 * leave, so a restart reads the chunk that was pending again, and goes on with the next one.
 */
import type { ChangeRecord, Json, SourceContext } from "../connector.js";
import { ErrorCode, PreconditionError } from "../errors.js";

/** The tables left, and how far the first of them is. */
export interface IncrementalProgress {
  tables: string[];
  /** The chunk key of the last row copied of `tables[0]`; null before its first chunk. */
  lastKey: Json[] | null;
}

/** One chunk of the current table, read at a point of the change stream the source knows. */
export interface IncrementalChunk<At> {
  records: ChangeRecord[];
  /** Where the rows belong in the change stream: they are produced once it has reached this point. */
  at: At;
  lastKey: Json[] | null;
  /** Fewer rows than asked: the table has no more. */
  last: boolean;
}

export interface PendingChunk<At> {
  /** The table the rows are of. */
  table: string;
  records: ChangeRecord[];
  at: At;
  /** The progress once the chunk is produced. */
  progress: IncrementalProgress | null;
}

export interface IncrementalOptions<At> {
  /** The tables the connector captures now, as its command names them. */
  captured(): Promise<string[]>;
  /** Reads the next chunk of `table` after `lastKey` (null: from its start). */
  read(table: string, lastKey: Json[] | null): Promise<IncrementalChunk<At>>;
  /** The code of the error that refuses a table not captured. */
  notCaptured: ErrorCode;
  /** How the connector's tables are named, for the messages ("shop.orders"). */
  example: string;
}

/** The tables a `snapshot` command names (`{ table }` or `{ tables }`); refused when none is given. */
export function requestedTables(args: Record<string, Json>, example: string): string[] {
  const raw = args.tables ?? args.table;
  const tables = (Array.isArray(raw) ? raw : [raw]).filter((t): t is string => typeof t === "string" && t.includes("."));
  if (tables.length === 0) {
    throw new PreconditionError(ErrorCode.COMMAND_INVALID, `snapshot needs { "table": "${example}" } or { "tables": [...] }`, { fix: `liberator snapshot <connector> --table ${example}` });
  }
  return tables;
}

/** Refuses a snapshot command outside the streaming phase. */
export function streamingRequired(phase: string | undefined): PreconditionError {
  return new PreconditionError(ErrorCode.COMMAND_UNAVAILABLE, `an incremental snapshot needs the connector streaming (it is in its ${phase ?? "start"} phase)`, {
    fix: "wait until the initial snapshot is done",
  });
}

export class IncrementalSnapshot<At> {
  private pending: PendingChunk<At> | undefined;

  constructor(
    private readonly options: IncrementalOptions<At>,
    private readonly ctx: SourceContext,
    /** What is committed: the tables left and the current one's last key. */
    private progress: IncrementalProgress | null,
  ) {}

  /** The progress to store with a batch that does not produce the pending chunk. */
  get committed(): IncrementalProgress | null {
    return this.progress;
  }

  /** The table being copied, if any. */
  get current(): string | undefined {
    return this.progress?.tables[0];
  }

  /** Queues tables; the ones already queued stay where they are. Returns the queue. */
  async request(tables: string[]): Promise<string[]> {
    const existing = new Set(await this.options.captured());
    const unknown = tables.filter((t) => !existing.has(t));
    if (unknown.length > 0) {
      throw new PreconditionError(this.options.notCaptured, `${unknown.join(", ")}: no such table, or not captured by this connector (include/exclude)`, {
        fix: `name captured tables as ${this.options.example}, e.g. ${[...existing].slice(0, 3).join(", ") || this.options.example}`,
      });
    }
    const queue = this.pending?.progress?.tables ?? this.progress?.tables ?? [];
    const added = tables.filter((t) => !queue.includes(t));
    if (added.length === 0) return queue;
    // the pending chunk's successor state learns of the new tables too
    if (this.pending) this.pending.progress = { tables: [...(this.pending.progress?.tables ?? []), ...added], lastKey: this.pending.progress?.lastKey ?? null };
    this.progress = { tables: [...(this.progress?.tables ?? []), ...added], lastKey: this.progress?.lastKey ?? null };
    this.ctx.log.info({ tables: added }, "incremental snapshot requested");
    return this.progress.tables;
  }

  /** The chunk to produce at its point, read now if none is waiting; undefined when there is no work. */
  async next(): Promise<PendingChunk<At> | undefined> {
    if (this.pending || !this.progress || this.progress.tables.length === 0) return this.pending;
    const [name, ...rest] = this.progress.tables as [string, ...string[]];
    const chunk = await this.options.read(name, this.progress.lastKey);
    const progress = chunk.last ? (rest.length > 0 ? { tables: rest, lastKey: null } : null) : { tables: this.progress.tables, lastKey: chunk.lastKey };
    if (chunk.last) this.ctx.log.info({ table: name }, "incremental snapshot of table done");
    this.pending = { table: name, records: chunk.records, at: chunk.at, progress };
    return this.pending;
  }

  /** The pending chunk was produced (it is in the batch being committed). */
  produced(): void {
    if (!this.pending) return;
    this.progress = this.pending.progress;
    this.pending = undefined;
  }

  status() {
    return this.progress ? { tables: this.progress.tables, lastKey: this.progress.lastKey } : null;
  }
}
