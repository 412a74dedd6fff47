/**
 * What the log sources' benchmarks (binlog, pgcdc) do alike: one connector in a config file of its
 * own, a fresh `liberator run` per phase (compiled as the Dockerfile builds it), its topics read
 * back through the embedded registry, and the snapshot and backlog phases timed from the
 * connector running to the last row committed.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { pino } from "pino";
import { stringify } from "yaml";
import { ensureTopics } from "../src/runtime/kafka/admin.js";
import { createSchemaService, parseSchemaRegistryConfig, type SchemaService } from "../src/runtime/schema-registry/index.js";
import { freePort } from "../test/harness/ports.js";
import type { HarnessInfo } from "../test/harness/start.js";
import { uniqueName } from "../test/harness/util.js";
import { avroKeyId, readBack, watchArrivals, type Arrivals } from "./arrivals.js";
import { buildLiberator, startLiberator, timeUntil, type Daemon, type Status } from "./daemon.js";

export interface PhaseResult {
  rowsPerS: number;
  cpuUsPerRow: number;
  rssMb: number;
  load: string;
  /** Average key and value sizes of the phase's records in Kafka. */
  keyBytes: number;
  valueBytes: number;
}

export abstract class ConnectorBench {
  readonly name: string;
  readonly kafka: Kafka;
  private readonly registryTopic: string;
  private file = "";
  private port = 0;
  private schemas: SchemaService | undefined;

  protected constructor(
    readonly info: HarnessInfo,
    kind: string,
  ) {
    this.name = uniqueName(`bench_${kind}`);
    this.registryTopic = uniqueName(`bench_${kind}_schemas`);
    this.kafka = new Kafka({ clientId: `bench-${kind}`, brokers: info.kafka.brokers, logLevel: logLevel.NOTHING });
  }

  /** The topic of one of the connector's tables. */
  abstract topic(table: string): string;

  /** Writes the config file of the connector (its `name` is this bench's) and opens the registry its records are read back with. */
  protected async configure(connector: Record<string, unknown>): Promise<void> {
    this.file = join(mkdtempSync(join(tmpdir(), "liberator-bench-")), "connectors.yaml");
    this.port = await freePort();
    writeFileSync(
      this.file,
      stringify({
        kafka: { brokers: this.info.kafka.brokers, topics: { replicationFactor: 1 } },
        schemaRegistry: { topic: this.registryTopic },
        admin: { host: "127.0.0.1", port: this.port },
        log: { level: "warn" },
        connectors: [{ name: this.name, ...connector }],
      }),
    );
    this.schemas = await createSchemaService(parseSchemaRegistryConfig({ topic: this.registryTopic }), { kafka: this.kafka, log: pino({ level: "silent" }) });
  }

  /** A fresh daemon for `work`, compiled as users run it (as the Dockerfile builds it, no tsx); its peak RSS is the phase's. */
  async daemon<T>(work: (d: Daemon) => Promise<T>): Promise<{ result: T; rssMb: number }> {
    const d = startLiberator(this.file, this.port, buildLiberator());
    try {
      const result = await work(d);
      return { result, rssMb: d.peakMb() };
    } finally {
      await d.stop();
    }
  }

  async watch(table: string, capacity: number, committedAt?: Float64Array): Promise<Arrivals> {
    await ensureTopics(this.kafka, [{ topic: this.topic(table), partitions: 1, replicationFactor: 1 }]);
    return watchArrivals(this.kafka, this.topic(table), capacity, avroKeyId(this.schemas!), committedAt);
  }

  /** A daemon until `until`; then every one of `rows` rows of the table's topic read back once. */
  protected async backlog(table: string, rows: number, until: (s: Status) => boolean): Promise<PhaseResult> {
    const { result: t, rssMb } = await this.daemon((d) => timeUntil(d, this.name, until));
    const sizes = await readBack(this.kafka, this.topic(table), rows, avroKeyId(this.schemas!));
    return { rowsPerS: (rows * 1000) / (t.ended - t.started), cpuUsPerRow: (t.cpu * 1e6) / rows, rssMb, load: t.load, ...sizes };
  }

  /** The table `snap`, `rows` rows, copied from the connector's first start until it streams. */
  snapshot(rows: number): Promise<PhaseResult> {
    return this.backlog("snap", rows, (s) => s.details?.phase === "stream" && s.records >= rows);
  }

  async close(): Promise<void> {
    await this.schemas?.close();
  }
}
