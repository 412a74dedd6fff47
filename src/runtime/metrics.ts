import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { ConnectorMetrics, TaskRef } from "./connector.js";
import { CONNECTOR_STATES, type ConnectorState } from "./connector-state.js";
import { ProgressBook, SchemaLedger, type ConnectorProgress } from "./progress.js";
import { SINGLE_TASK, taskKey } from "./tasks.js";

/** Every Prometheus series Liberator exports, defined once. */
export class Metrics {
  readonly registry = new Registry();
  readonly state = new Gauge({
    name: "liberator_connector_state",
    help: "1 for the state each connector is in",
    labelNames: ["connector", "task", "state"] as const,
    registers: [this.registry],
  });
  readonly records = new Counter({
    name: "liberator_records_total",
    help: "Records written to Kafka (out) or to a sink's target (in)",
    labelNames: ["connector", "task", "table", "direction"] as const,
    registers: [this.registry],
  });
  readonly bytes = new Counter({
    name: "liberator_bytes_total",
    help: "Serialized bytes written to Kafka (out) or read from it (in)",
    labelNames: ["connector", "task", "table", "direction"] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: "liberator_batch_seconds",
    help: "Time per stage of a batch: poll (reading the source), batch (whole batch), commit (the Kafka or target transaction)",
    labelNames: ["connector", "task", "stage"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly lag = new Gauge({
    name: "liberator_source_lag_seconds",
    help: "How far behind the source a connector is (binlog event time, newest polled row)",
    labelNames: ["connector"] as const,
    registers: [this.registry],
  });
  readonly lagBytes = new Gauge({
    name: "liberator_source_lag_bytes",
    help: "Bytes of the server's log a connector has not read (binlog) or not confirmed (a PostgreSQL slot: the server's WAL end minus the slot's confirmed flush LSN)",
    labelNames: ["connector"] as const,
    registers: [this.registry],
  });
  readonly retainedBytes = new Gauge({
    name: "liberator_source_retained_bytes",
    help: "Bytes of log the server keeps for a connector (a PostgreSQL slot: the server's WAL end minus the slot's restart LSN)",
    labelNames: ["connector"] as const,
    registers: [this.registry],
  });
  readonly snapshot = new Gauge({
    name: "liberator_snapshot_rows",
    help: "Snapshot progress per table: rows done and rows estimated",
    labelNames: ["connector", "table", "kind"] as const,
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: "liberator_errors_total",
    help: "Connector failures by stable error code",
    labelNames: ["connector", "task", "code"] as const,
    registers: [this.registry],
  });
  readonly retries = new Counter({
    name: "liberator_retries_total",
    help: "Attempts after a transient failure: a read or write tried again, or the connector started again",
    labelNames: ["connector", "task"] as const,
    registers: [this.registry],
  });
  /** When each connector that is retrying now started to, or was last counted. */
  private readonly retryingSince = new Map<string, number>();
  readonly retryingSeconds = new Counter({
    name: "liberator_connector_retrying_seconds_total",
    help: "Time each connector spent retrying (a transient fault), up to the moment of the scrape",
    labelNames: ["connector"] as const,
    registers: [this.registry],
    // a connector still retrying counts up to now, not only once it recovers
    collect: () => this.countRetrying(),
  });
  readonly consumerLag = new Gauge({
    name: "liberator_sink_consumer_lag",
    help: "Records a sink has still to write, per partition (what an autoscaler reads)",
    labelNames: ["connector", "topic", "partition"] as const,
    registers: [this.registry],
  });

  readonly workers = new Gauge({
    name: "liberator_cluster_workers",
    help: "Live workers in the cluster, as this worker last counted them",
    registers: [this.registry],
  });
  readonly releases = new Counter({
    name: "liberator_cluster_releases_total",
    help: "Connectors this worker gave up, by reason: shutdown (handed over), rebalance, lease_lost (lock not renewed in time), fenced (another copy took over), removed, finished, error",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });

  /** Each connector's progress, for its status and for removing its gauges. */
  private readonly books = new Map<string, ProgressBook>();
  /** Schema ids met by this process's serializers, per subject. */
  readonly schemas = new SchemaLedger();

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: "liberator_process_" });
  }

  /** The state of one task of a connector (the `task` label is its index). */
  setState(connector: string, state: ConnectorState, task: TaskRef = SINGLE_TASK): void {
    const labels = { connector, task: String(task.index) };
    for (const s of CONNECTOR_STATES) this.state.set({ ...labels, state: s }, s === state ? 1 : 0);
    this.countRetrying(connector);
    if (state === "retrying") {
      if (!this.retryingSince.has(connector)) this.retryingSince.set(connector, Date.now());
      // seen at once, not only at the first scrape after the connector recovered
      this.retryingSeconds.inc({ connector }, 0);
    } else {
      this.retryingSince.delete(connector);
    }
  }

  /** Adds the time retrying since it was last counted, of one connector or of all. */
  private countRetrying(only?: string): void {
    const now = Date.now();
    for (const [connector, since] of this.retryingSince) {
      if (only !== undefined && connector !== only) continue;
      this.retryingSeconds.inc({ connector }, (now - since) / 1000);
      this.retryingSince.set(connector, now);
    }
  }

  setConsumerLag(connector: string, topic: string, partition: number, lag: number): void {
    this.consumerLag.set({ connector, topic, partition: String(partition) }, lag);
    this.book(connector).consumerLag(topic, partition, lag);
  }

  /** Lag, snapshot progress, rates and schemas of a connector (of one of its tasks), as its status shows them. */
  view(connector: string, task: TaskRef = SINGLE_TASK): ConnectorProgress {
    return (this.books.get(taskKey(connector, task)) ?? this.books.get(connector) ?? new ProgressBook()).view(this.schemas.list());
  }

  /**
   * Drops a task's gauges once it no longer runs here (removed, or moved to another worker), and
   * with its connector's `last` task the connector's own, so only the worker that runs a task
   * exports its state and lag. Counters stay: they only grow.
   */
  forget(connector: string, task: TaskRef = SINGLE_TASK, last = true): void {
    for (const state of CONNECTOR_STATES) this.state.remove({ connector, task: String(task.index), state });
    const key = taskKey(connector, task);
    const book = this.books.get(key);
    for (const table of book?.tableNames() ?? []) {
      this.snapshot.remove({ connector, table, kind: "done" });
      this.snapshot.remove({ connector, table, kind: "estimated" });
    }
    this.books.delete(key);
    if (!last) return;
    this.countRetrying(connector);
    this.retryingSince.delete(connector);
    this.lag.remove({ connector });
    this.lagBytes.remove({ connector });
    this.retainedBytes.remove({ connector });
    const own = this.books.get(connector) ?? book;
    for (const p of own?.partitionKeys() ?? []) this.consumerLag.remove({ connector, topic: p.topic, partition: String(p.partition) });
    this.books.delete(connector);
  }

  private book(connector: string): ProgressBook {
    let book = this.books.get(connector);
    if (!book) this.books.set(connector, (book = new ProgressBook()));
    return book;
  }

  forConnector(connector: string, task: TaskRef = SINGLE_TASK): ConnectorMetrics {
    const t = String(task.index);
    // a task's own progress (its rows, its partitions' rates); lag and snapshots are the connector's
    const own = () => this.book(taskKey(connector, task));
    return {
      recordsOut: (table, n, bytes) => {
        this.records.inc({ connector, task: t, table, direction: "out" }, n);
        if (bytes) this.bytes.inc({ connector, task: t, table, direction: "out" }, bytes);
        own().counted(table, n);
      },
      recordsIn: (table, n, bytes) => {
        this.records.inc({ connector, task: t, table, direction: "in" }, n);
        if (bytes) this.bytes.inc({ connector, task: t, table, direction: "in" }, bytes);
        own().counted(table, n);
      },
      lagSeconds: (s, detail) => {
        if (s !== null) this.lag.set({ connector }, s);
        if (detail?.bytesBehind !== undefined) this.lagBytes.set({ connector }, detail.bytesBehind);
        if (detail?.retainedBytes !== undefined) this.retainedBytes.set({ connector }, detail.retainedBytes);
        own().lag(s, detail);
      },
      snapshotProgress: (table, done, estimated, detail) => {
        this.snapshot.set({ connector, table, kind: "done" }, done);
        this.snapshot.set({ connector, table, kind: "estimated" }, estimated);
        own().snapshot(table, done, estimated, detail);
      },
      observe: (stage, seconds) => this.latency.observe({ connector, task: t, stage }, seconds),
    };
  }
}
