/**
 * Change streams for sink tests: tables described as a source would describe them (tableStream),
 * their records in the Debezium envelope either as the sink pipeline hands them over (decoded
 * SinkRecords) or produced into Kafka exactly as a source does (Avro, wire format, one Kafka
 * transaction).
 */
import { pino } from "pino";
import type { Kafka } from "kafkajs";
import { afterAll, beforeAll } from "vitest";
import type { ChangeRecord, Op, SinkContext, SinkRecord } from "../../../src/runtime/connector.js";
import { TransactionalProducer } from "../../../src/runtime/kafka/producer.js";
import { envelope, tableStream, type TableStream } from "../../../src/runtime/sql-types/envelope.js";
import { createSchemaService } from "../../../src/runtime/schema-registry/index.js";
import { schemaRegistryConfig } from "../../../src/runtime/schema-registry/config.js";
import type { ColumnInfo, Dialect } from "../../../src/runtime/sql-types/mapping.js";
import { ensureTopics } from "../../../src/runtime/kafka/admin.js";
import { harness } from "../../harness/env.js";
import { createDatabase, dropDatabase, mysqlConnection, pgClient, uniqueName, waitFor } from "../../harness/index.js";
import { PG_READ_OPTIONS } from "../../../src/runtime/db/postgres.js";
import { MYSQL_READ_OPTIONS, MYSQL_SESSION_SQL } from "../../../src/runtime/db/mysql.js";
import { startDaemon, type Daemon, type DaemonOptions } from "../../support/daemon.js";
import { silentLog, testKafka } from "../../support/kafka.js";

export type Row = Record<string, unknown>;

export function sinkContext(connector: string, signal: AbortSignal = new AbortController().signal): SinkContext {
  return {
    connector,
    task: { index: 0, count: 1 },
    log: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }).child({ connector }),
    signal,
    metrics: { recordsOut() {}, recordsIn() {}, lagSeconds() {}, snapshotProgress() {}, observe() {} },
  };
}

const column = (name: string, sqlType: string, nullable = false, dialect: Dialect = "mysql"): ColumnInfo => ({ name, dialect, sqlType, nullable });

/** A MariaDB table of the usual suspects: exact decimals, microsecond times, text, bytes, a bit. */
export const ORDER_COLUMNS: ColumnInfo[] = [
  column("id", "bigint(20)"),
  column("name", "varchar(64)"),
  column("qty", "int(11)"),
  column("price", "decimal(12,4)"),
  column("created", "datetime(6)"),
  column("updated", "timestamp(6)", true),
  column("active", "tinyint(1)"),
  column("note", "text", true),
  column("data", "blob", true),
  column("day", "date"),
];

export function ordersStream(topic: string, options: { keyless?: boolean; columns?: ColumnInfo[] } = {}): TableStream {
  return tableStream({ columns: options.columns ?? ORDER_COLUMNS, primaryKey: options.keyless ? [] : ["id"] }, { topic });
}

/** The canonical row number i (values.ts forms). */
export function orderRow(i: number, version = 0): Row {
  return {
    id: BigInt(i),
    name: `order-${i}-v${version} 😀`,
    qty: i * 10 + version,
    price: `${1000 + i}.${String((i * 37 + version) % 10_000).padStart(4, "0")}`,
    created: `2024-02-29T23:59:59.${String(100_000 + i).slice(-6)}`,
    updated: i % 3 === 0 ? null : `2038-01-19T03:14:07.${String(999_000 + (i % 1000)).slice(-6)}Z`,
    active: (i + version) % 2,
    note: i % 4 === 0 ? null : `a note, "quoted" and \\ backslashed, ${version}`,
    data: i % 5 === 0 ? null : Buffer.from([0, 255, i % 256, version % 256]),
    day: "2024-02-29",
  };
}

export const SOURCE = (table: string) => ({ connector: "test", name: "test", db: "shop", table, ts_ms: Date.now() });

/** A change event as a source produces it; `before` is the row it replaces or deletes. */
export function changeEvent(stream: TableStream, table: string, op: Op, before: Row | null, after: Row | null): ChangeRecord {
  const row = after ?? before;
  return {
    topic: stream.topic,
    key: stream.keySchema && row ? stream.keyOf(row) : null,
    keySchema: stream.keySchema,
    value: envelope(op, before, after, SOURCE(table)),
    valueSchema: stream.valueSchema,
  };
}

export function tombstone(stream: TableStream, row: Row): ChangeRecord {
  return { topic: stream.topic, key: stream.keyOf(row), keySchema: stream.keySchema, value: null, valueSchema: null };
}

/** ChangeRecords as the sink pipeline hands them to a sink: decoded, at consecutive offsets. */
export function asSinkRecords(records: readonly ChangeRecord[], firstOffset = 0): SinkRecord[] {
  return records.map((r, i) => ({
    topic: r.topic,
    partition: 0,
    offset: String(firstOffset + i),
    key: r.key,
    keySchema: r.keySchema,
    value: r.value,
    valueSchema: r.valueSchema,
    headers: r.headers ?? {},
    timestamp: Date.now(),
  }));
}

/** Produces change events into Kafka as a source would: Avro in the wire format, in Kafka transactions. */
export class ChangeProducer {
  private constructor(
    private readonly kafka: Kafka,
    private readonly producer: TransactionalProducer,
    private readonly service: Awaited<ReturnType<typeof createSchemaService>>,
  ) {}

  static async open(registryTopic = "_liberator_schemas"): Promise<ChangeProducer> {
    const kafka = testKafka();
    const service = await createSchemaService(schemaRegistryConfig.parse({ topic: registryTopic }), { kafka, log: silentLog });
    const producer = new TransactionalProducer(kafka, { transactionalId: uniqueName("test_producer"), connector: "test", transactionTimeoutMs: 60_000 });
    await producer.connect();
    return new ChangeProducer(kafka, producer, service);
  }

  async createTopics(...topics: string[]): Promise<void> {
    await ensureTopics(this.kafka, topics.map((topic) => ({ topic, partitions: 1, replicationFactor: 1 })));
  }

  /** One Kafka transaction per call. */
  async send(records: readonly ChangeRecord[]): Promise<void> {
    const encoded = await this.service.serializer.serialize(records);
    await this.producer.commit(records.map((r, i) => ({ topic: r.topic, key: encoded[i]!.key, value: encoded[i]!.value, ...(r.headers ? { headers: r.headers } : {}) })));
  }

  /** Raw bytes (a poison record that no schema decodes). */
  async sendRaw(topic: string, key: Buffer | null, value: Buffer | null): Promise<void> {
    await this.producer.commit([{ topic, key, value }]);
  }

  async close(): Promise<void> {
    await this.producer.disconnect();
    await this.service.close();
  }
}

/** Connection blocks for a sink config pointing at the harness servers. */
export function pgConnection(database: string) {
  const { host, port, user, password } = harness().postgres;
  return { host, port, user, password, database };
}

export function mariadbConnection(database: string) {
  const { host, port, user, password } = harness().mariadb;
  return { host, port, user, password, database };
}

/** A fresh database on the harness server of this dialect, and a client to look into it. */
export interface TargetDatabase {
  name: string;
  connection: ReturnType<typeof pgConnection>;
  rows(sql: string): Promise<Row[]>;
  rowsWith(sql: string, values?: unknown[]): Promise<Row[]>;
  drop(): Promise<void>;
}

export async function targetDatabase(dialect: Dialect): Promise<TargetDatabase> {
  const kind = dialect === "postgres" ? "postgres" : "mariadb";
  const name = await createDatabase(kind);
  if (dialect === "postgres") {
    const client = await pgClient(harness(), name, { ...PG_READ_OPTIONS });
    return {
      name,
      connection: pgConnection(name),
      rows: async (sql) => (await client.query<Row>(sql)).rows,
      rowsWith: async (sql, values) => (await client.query<Row>(sql, values)).rows,
      drop: async () => {
        await client.end();
        await dropDatabase(kind, name);
      },
    };
  }
  const conn = await mysqlConnection(harness(), name, { ...MYSQL_READ_OPTIONS, timezone: "Z" });
  await conn.query(MYSQL_SESSION_SQL);
  return {
    name,
    connection: mariadbConnection(name),
    rows: async (sql) => (await conn.query(sql))[0] as Row[],
    rowsWith: async (sql, values) => (await conn.query(sql, values))[0] as Row[],
    drop: async () => {
      await conn.end();
      await dropDatabase(kind, name);
    },
  };
}

/**
 * SIGKILLs the daemon `times` times, each time a moment after `progress()` has grown (the sink is
 * writing), and starts it again on the same config; returns the last instance, ready.
 */
export async function killRepeatedly(first: Daemon, times: number, progress: () => Promise<number>, started: (d: Daemon) => void): Promise<Daemon> {
  let d = first;
  for (let kill = 0; kill < times; kill++) {
    await d.waitReady();
    const before = await progress();
    await waitFor(async () => (await progress()) > before, { timeoutMs: 30_000, message: "the sink to write again" });
    await new Promise((r) => setTimeout(r, 50 + Math.random() * 250));
    await d.kill();
    d = await d.restart();
    started(d);
  }
  await d.waitReady();
  return d;
}

/** What a test file of sql sinks under `liberator run` shares: its producer, its PostgreSQL target, its daemons. */
export interface DaemonRig {
  readonly producer: ChangeProducer;
  readonly db: TargetDatabase;
  /** A daemon on these options, killed after the file if a test leaves it running. */
  daemon(options: DaemonOptions): Promise<Daemon>;
  /** Another instance to kill after the file (a restart). */
  track(daemon: Daemon): void;
}

/** Opens the rig before the file's tests and closes it after them. */
export function daemonRig(): DaemonRig {
  let producer: ChangeProducer | undefined;
  let db: TargetDatabase | undefined;
  const daemons: Daemon[] = [];
  beforeAll(async () => {
    producer = await ChangeProducer.open();
    db = await targetDatabase("postgres");
  });
  afterAll(async () => {
    for (const d of daemons) if (d.child.exitCode === null && d.child.signalCode === null) await d.stop("SIGKILL");
    await producer?.close();
    await db?.drop();
  });
  return {
    get producer() {
      return producer!;
    },
    get db() {
      return db!;
    },
    async daemon(options) {
      const d = await startDaemon(options);
      daemons.push(d);
      return d;
    },
    track: (d) => void daemons.push(d),
  };
}
