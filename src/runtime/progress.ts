/**
 * Progress as data: what a connector has done and how fast, as the admin API's `/status`, the
 * status page and `liberator status` show it. Connectors report counts through ConnectorMetrics;
 * rates and ETAs are worked out here, once, so every connector's figures mean the same.
 */
import type { Json, SnapshotDetail, StreamDetail } from "./connector.js";

/** Rates are measured over this much of the recent past: long enough to smooth chunks out, short enough to follow a change of pace. */
const RATE_WINDOW_MS = 30_000;
/** Schema versions a connector's status keeps (the newest). */
const SCHEMAS_KEPT = 20;

export interface SnapshotTableProgress {
  kind: "initial" | "incremental";
  done: number;
  /** The database's statistics at first, then refined from the chunks read (never below `done`). */
  estimated: number;
  /** Null until two chunks are known. */
  rowsPerSecond: number | null;
  /** Seconds left at the current rate; null when the rate is not known yet, 0 when finished. */
  etaSeconds: number | null;
  /** Where the table stands: the last key read. */
  chunk: Json;
  startedAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

export interface StreamProgress {
  /** Seconds behind the server's head: 0 when caught up. */
  secondsBehind: number | null;
  /** Bytes of the server's log not read yet, where the source can tell. */
  bytesBehind: number | null;
  /** Bytes of log the server keeps for the connector (a replication slot's retained WAL), where the source can tell. */
  retainedBytes: number | null;
  lastEventAt: string | null;
}

export interface SchemaVersionSeen {
  subject: string;
  id: number;
  /** The id this subject had before in this process; null for the first one seen. */
  previousId: number | null;
  /** True when this process registered it (a new version), false when it found it registered. */
  registered: boolean;
  at: string;
}

export interface ConnectorLag {
  /** Seconds behind the source (binlog event time, newest polled row), as the source reports it. */
  seconds?: number;
  /** A sink's records still to write, per partition. */
  partitions?: { topic: string; partition: number; lag: number }[];
}

/** What a connector's status shows of its progress. */
export interface ConnectorProgress {
  lag: ConnectorLag | null;
  /** Per table, while a snapshot runs or after it. */
  snapshot: Record<string, SnapshotTableProgress> | null;
  /** A source past its snapshot, following the server's log. */
  stream: StreamProgress | null;
  /** Records written to Kafka (a source) or to the target (a sink) per second, lately. */
  rowsPerSecond: number;
  /** The schema of each subject its records use, newest first. */
  schemas: SchemaVersionSeen[];
}

/** A rate over a sliding window of (time, running total) samples. */
export class Rate {
  private readonly samples: { at: number; total: number }[] = [];

  constructor(private readonly windowMs = RATE_WINDOW_MS) {}

  add(at: number, total: number): void {
    this.samples.push({ at, total });
    // keep one sample from before the window, so the span covers the whole window
    while (this.samples.length > 2 && this.samples[1]!.at <= at - this.windowMs) this.samples.shift();
  }

  /** Per second between the oldest sample kept and `until` (the newest sample by default); null without two points. */
  perSecond(until?: number): number | null {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (!first || !last) return null;
    const end = until ?? last.at;
    if (end <= first.at || (until === undefined && this.samples.length < 2)) return null;
    return ((last.total - first.total) * 1000) / (end - first.at);
  }
}

interface TableState {
  kind: "initial" | "incremental";
  done: number;
  estimated: number;
  chunk: Json;
  startedAt: number;
  updatedAt: number;
  finishedAt: number | null;
  rate: Rate;
}

/** One connector's progress, fed by its ConnectorMetrics. */
export class ProgressBook {
  private readonly tables = new Map<string, TableState>();
  /** What a source that follows a log last told of it; the seconds behind are the connector's latest. */
  private stream: { bytesBehind: number | null; retainedBytes: number | null; lastEventAt: number | null } | undefined;
  private secondsBehind: number | undefined;
  private readonly partitions = new Map<string, { topic: string; partition: number; lag: number }>();
  private readonly throughput = new Rate();
  private records = 0;
  /** Topics its records went to or came from, so the schemas of their subjects are its own. */
  readonly topics = new Set<string>();

  constructor(private readonly now: () => number = Date.now) {
    this.throughput.add(this.now(), 0);
  }

  counted(topic: string, n: number): void {
    this.topics.add(topic);
    this.records += n;
    this.throughput.add(this.now(), this.records);
  }

  lag(seconds: number | null, detail?: StreamDetail): void {
    if (seconds !== null) this.secondsBehind = seconds;
    if (!detail) return;
    const before = this.stream;
    this.stream = {
      bytesBehind: detail.bytesBehind ?? before?.bytesBehind ?? null,
      retainedBytes: detail.retainedBytes ?? before?.retainedBytes ?? null,
      lastEventAt: detail.lastEventAt ?? before?.lastEventAt ?? null,
    };
  }

  consumerLag(topic: string, partition: number, lag: number): void {
    this.partitions.set(`${topic}:${partition}`, { topic, partition, lag });
  }

  snapshot(table: string, done: number, estimated: number, detail: SnapshotDetail = {}): void {
    const now = this.now();
    const kind = detail.kind ?? "initial";
    let t = this.tables.get(table);
    // a table copied again (an incremental snapshot of it, a restart from its start) begins a new run
    if (!t || t.kind !== kind || done < t.done || (t.finishedAt !== null && !detail.finished)) {
      t = { kind, done: 0, estimated, chunk: null, startedAt: now, updatedAt: now, finishedAt: null, rate: new Rate() };
      t.rate.add(now, done);
      this.tables.set(table, t);
    }
    t.done = done;
    t.estimated = detail.finished ? done : Math.max(estimated, done);
    t.chunk = detail.chunk ?? t.chunk;
    t.updatedAt = now;
    if (detail.finished) t.finishedAt = now;
    t.rate.add(now, done);
  }

  view(schemas: readonly SchemaVersionSeen[]): ConnectorProgress {
    const lag = {
      ...(this.secondsBehind === undefined ? {} : { seconds: this.secondsBehind }),
      ...(this.partitions.size === 0 ? {} : { partitions: [...this.partitions.values()] }),
    };
    return {
      lag: Object.keys(lag).length === 0 ? null : lag,
      snapshot: this.tables.size === 0 ? null : Object.fromEntries([...this.tables].map(([name, t]) => [name, tableView(t)])),
      stream: this.stream
        ? {
            secondsBehind: this.secondsBehind ?? null,
            ...this.stream,
            lastEventAt: this.stream.lastEventAt === null ? null : new Date(this.stream.lastEventAt).toISOString(),
          }
        : null,
      rowsPerSecond: round(this.throughput.perSecond(this.now()) ?? 0),
      schemas: schemas.filter((s) => [...this.topics].some((topic) => s.subject.startsWith(`${topic}-`))).slice(0, SCHEMAS_KEPT),
    };
  }

  partitionKeys(): { topic: string; partition: number }[] {
    return [...this.partitions.values()];
  }

  tableNames(): string[] {
    return [...this.tables.keys()];
  }
}

function tableView(t: TableState): SnapshotTableProgress {
  const rate = t.rate.perSecond();
  const left = Math.max(0, t.estimated - t.done);
  return {
    kind: t.kind,
    done: t.done,
    estimated: t.estimated,
    rowsPerSecond: rate === null ? null : round(rate),
    etaSeconds: t.finishedAt !== null ? 0 : rate && rate > 0 ? round(left / rate) : null,
    chunk: t.chunk,
    startedAt: new Date(t.startedAt).toISOString(),
    updatedAt: new Date(t.updatedAt).toISOString(),
    finishedAt: t.finishedAt === null ? null : new Date(t.finishedAt).toISOString(),
  };
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

/** The schema ids this process met per subject, newest first; a new id for a known subject is a schema change. */
export class SchemaLedger {
  private readonly seen: SchemaVersionSeen[] = [];
  private readonly current = new Map<string, number>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly keep = 200,
  ) {}

  add(subject: string, id: number, registered: boolean): void {
    const previous = this.current.get(subject);
    if (previous === id) return;
    this.current.set(subject, id);
    this.seen.unshift({ subject, id, previousId: previous ?? null, registered, at: new Date(this.now()).toISOString() });
    if (this.seen.length > this.keep) this.seen.pop();
  }

  list(): readonly SchemaVersionSeen[] {
    return this.seen;
  }
}
