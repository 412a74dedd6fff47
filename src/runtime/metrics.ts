import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { ConnectorMetrics } from "./connector.js";
import { CONNECTOR_STATES, type ConnectorState } from "./connector-state.js";

export interface ConnectorLag {
  /** Seconds behind the source (binlog event time, newest polled row), as the source reports it. */
  seconds?: number;
  /** A sink's records still to write, per partition. */
  partitions?: { topic: string; partition: number; lag: number }[];
}

/** What a connector's status shows of its gauges. */
export interface ConnectorProgress {
  lag: ConnectorLag | null;
  /** Per table, while a snapshot runs or after it. */
  snapshot: Record<string, { done: number; estimated: number }> | null;
}

/** Every Prometheus series Liberator exports, defined once. */
export class Metrics {
  readonly registry = new Registry();
  readonly state = new Gauge({
    name: "liberator_connector_state",
    help: "1 for the state each connector is in",
    labelNames: ["connector", "state"] as const,
    registers: [this.registry],
  });
  readonly records = new Counter({
    name: "liberator_records_total",
    help: "Records written to Kafka (out) or to a sink's target (in)",
    labelNames: ["connector", "table", "direction"] as const,
    registers: [this.registry],
  });
  readonly bytes = new Counter({
    name: "liberator_bytes_total",
    help: "Serialized bytes written to Kafka (out) or read from it (in)",
    labelNames: ["connector", "table", "direction"] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: "liberator_batch_seconds",
    help: "Time per stage of a batch: poll (reading the source), batch (whole batch), commit (the Kafka or target transaction)",
    labelNames: ["connector", "stage"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly lag = new Gauge({
    name: "liberator_source_lag_seconds",
    help: "How far behind the source a connector is (binlog event time, newest polled row)",
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
    labelNames: ["connector", "code"] as const,
    registers: [this.registry],
  });
  readonly retries = new Counter({
    name: "liberator_retries_total",
    help: "Attempts after a transient failure: a read or write tried again, or the connector started again",
    labelNames: ["connector"] as const,
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

  /** The last gauge values per connector, for the admin API's status and for removing them. */
  private readonly latest = new Map<string, { lagSeconds?: number; snapshot: Map<string, { done: number; estimated: number }>; partitions: Map<string, { topic: string; partition: number; lag: number }> }>();

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: "liberator_process_" });
  }

  setState(connector: string, state: ConnectorState): void {
    for (const s of CONNECTOR_STATES) this.state.set({ connector, state: s }, s === state ? 1 : 0);
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
    this.latestOf(connector).partitions.set(`${topic}:${partition}`, { topic, partition, lag });
  }

  /** Lag and snapshot progress of a connector, as its status shows them. */
  view(connector: string): ConnectorProgress {
    const l = this.latest.get(connector);
    if (!l) return { lag: null, snapshot: null };
    const lag = {
      ...(l.lagSeconds === undefined ? {} : { seconds: l.lagSeconds }),
      ...(l.partitions.size === 0 ? {} : { partitions: [...l.partitions.values()] }),
    };
    return {
      lag: Object.keys(lag).length === 0 ? null : lag,
      snapshot: l.snapshot.size === 0 ? null : Object.fromEntries(l.snapshot),
    };
  }

  /**
   * Drops a connector's gauges once it no longer runs here (removed, or moved to another worker),
   * so only the worker that runs a connector exports its state and lag. Counters stay: they only grow.
   */
  forget(connector: string): void {
    this.countRetrying(connector);
    this.retryingSince.delete(connector);
    for (const state of CONNECTOR_STATES) this.state.remove({ connector, state });
    this.lag.remove({ connector });
    const l = this.latest.get(connector);
    for (const table of l?.snapshot.keys() ?? []) {
      this.snapshot.remove({ connector, table, kind: "done" });
      this.snapshot.remove({ connector, table, kind: "estimated" });
    }
    for (const p of l?.partitions.values() ?? []) this.consumerLag.remove({ connector, topic: p.topic, partition: String(p.partition) });
    this.latest.delete(connector);
  }

  private latestOf(connector: string) {
    let l = this.latest.get(connector);
    if (!l) this.latest.set(connector, (l = { snapshot: new Map(), partitions: new Map() }));
    return l;
  }

  forConnector(connector: string): ConnectorMetrics {
    return {
      recordsOut: (table, n, bytes) => {
        this.records.inc({ connector, table, direction: "out" }, n);
        if (bytes) this.bytes.inc({ connector, table, direction: "out" }, bytes);
      },
      recordsIn: (table, n, bytes) => {
        this.records.inc({ connector, table, direction: "in" }, n);
        if (bytes) this.bytes.inc({ connector, table, direction: "in" }, bytes);
      },
      lagSeconds: (s) => {
        this.lag.set({ connector }, s);
        this.latestOf(connector).lagSeconds = s;
      },
      snapshotProgress: (table, done, estimated) => {
        this.snapshot.set({ connector, table, kind: "done" }, done);
        this.snapshot.set({ connector, table, kind: "estimated" }, estimated);
        this.latestOf(connector).snapshot.set(table, { done, estimated });
      },
      observe: (stage, seconds) => this.latency.observe({ connector, stage }, seconds),
    };
  }
}
