/**
 * The query source's initial load as users run it: `liberator run` compiled to JavaScript (as the
 * Dockerfile runs it) in a child process, a 1,000,000-row 6-column MariaDB table (int pk,
 * varchar(64), int, decimal(10,2), datetime(6), tinyint), Avro through the embedded registry,
 * exactly-once Kafka transactions, default settings (batches of 10,000 rows, delayMs 1000), on the
 * harness MariaDB and Kafka (same 2 cores), beside its ceilings measured in the same run:
 *
 * - rows/s: from the first batch committed to the last (the load itself);
 * - the plain read: the same rows in the same pages (`WHERE id > ? ORDER BY id LIMIT 10,000`),
 *   prepared as the source reads them, with the same driver options, nothing done with them;
 * - the bare producer: as many records of the same sizes in transactions of 10,000;
 * - the topic read back: every row exactly once, or the run fails;
 * - CPU of the liberator process per row over the load (user + system), RSS before the load and
 *   its peak (VmHWM), the load average.
 *
 * Scale: BENCH_SCALE multiplies the row count.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import mysql from "mysql2/promise";
import { pino } from "pino";
import { stringify } from "yaml";
import { createSchemaService, parseSchemaRegistryConfig } from "../src/runtime/schema-registry/index.js";
import { freePort } from "../test/harness/ports.js";
import { uniqueName } from "../test/harness/util.js";
import { avroKeyId, readBack } from "./arrivals.js";
import { bareProducer } from "./parts/bare-producer.js";
import { mysqlReader, plainMysqlRead } from "./parts/plain-read.js";
import { buildLiberator, connectorStatus, loadAverage, ratio, round, scaled, sleep, startLiberator } from "./daemon.js";
import { memoryOf } from "./proc.js";
import type { BenchContext, BenchResult } from "./report.js";

const BATCH = 10_000;
const GOAL_RSS_MB = 256;

export async function run(context: BenchContext): Promise<BenchResult> {
  const rows = scaled(1_000_000, BATCH);
  const info = await context.servers();
  const database = uniqueName("bench_query");
  const name = uniqueName("bench_query");
  const registryTopic = uniqueName("bench_query_schemas");
  const conn = await mysql.createConnection({ ...info.mariadb });
  await conn.query(`CREATE DATABASE ${database}`);
  await conn.query(`USE ${database}`);
  try {
    await conn.query(
      `CREATE TABLE ${database}.orders (id INT PRIMARY KEY, name VARCHAR(64) NOT NULL, qty INT NOT NULL, price DECIMAL(10,2) NOT NULL, created DATETIME(6) NOT NULL, active TINYINT NOT NULL)`,
    );
    for (let start = 1; start <= rows; start += 100_000) {
      await conn.query(
        `INSERT INTO ${database}.orders SELECT seq, CONCAT('name ', seq), seq % 1000, seq / 100, NOW(6), seq % 2 FROM seq_${start}_to_${Math.min(rows, start + 99_999)}`,
      );
    }

    const file = join(mkdtempSync(join(tmpdir(), "liberator-bench-query-")), "connectors.yaml");
    const port = await freePort();
    writeFileSync(
      file,
      stringify({
        kafka: { brokers: info.kafka.brokers, topics: { replicationFactor: 1 } },
        schemaRegistry: { topic: registryTopic },
        admin: { host: "127.0.0.1", port },
        log: { level: "warn" },
        connectors: [{ name, type: "query", dialect: "mariadb", connection: { ...info.mariadb }, tables: [`${database}.orders`], mode: "incrementing" }],
      }),
    );

    const d = startLiberator(file, port, buildLiberator());
    let running = 0;
    let first = 0;
    let last = 0;
    let rssBeforeKb = 0;
    let cpuAtFirst = 0;
    let cpuAtLast = 0;
    let load = "";
    try {
      const deadline = Date.now() + 900_000;
      for (;;) {
        if (d.child.exitCode !== null) throw new Error(`liberator exited with ${d.child.exitCode}: ${d.stderr()}`);
        if (Date.now() > deadline) throw new Error("the initial load did not finish in 15 minutes");
        const s = await connectorStatus(d, name);
        const now = Date.now();
        if (s?.state === "running" && !running) {
          running = now;
          rssBeforeKb = memoryOf(d.child.pid!).rssKb;
        }
        if (s && s.records > 0 && !first) {
          first = now;
          cpuAtFirst = d.cpuSeconds();
        }
        if (s && s.records >= rows) {
          last = now;
          cpuAtLast = d.cpuSeconds();
          load = loadAverage();
          break;
        }
        await sleep(10);
      }
    } finally {
      await d.stop();
    }
    const rssMb = d.peakMb();

    const kafka = new Kafka({ clientId: "bench-query", brokers: info.kafka.brokers, logLevel: logLevel.NOTHING });
    const schemas = await createSchemaService(parseSchemaRegistryConfig({ topic: registryTopic }), { kafka, log: pino({ level: "silent" }) });
    const sizes = await readBack(kafka, `${name}.${database}.orders`, rows, avroKeyId(schemas)).finally(() => schemas.close());

    const reader = await mysqlReader(info.mariadb, database);
    const plain = await plainMysqlRead(reader, "orders", BATCH, "execute").finally(() => reader.end());
    if (plain.rows !== rows) throw new Error(`the plain read got ${plain.rows} rows, not ${rows}`);
    const bare = await bareProducer(info.kafka.brokers, { records: rows, ...sizes, perTransaction: BATCH });

    // the load's rate: the first batch's rows count from when it was committed, so count the rest
    const rowsPerS = ((rows - BATCH) * 1000) / (last - first);
    const endToEnd = (rows * 1000) / (last - running);
    const cpuUsPerRow = ((cpuAtLast - cpuAtFirst) * 1e6) / (rows - BATCH);
    return {
      figures: [
        { name: "initial load, first batch to last", value: rowsPerS, unit: "rows/s", reference: { value: plain.rowsPerS, label: "plain read of the same rows" } },
        { name: "initial load, first batch to last", value: rowsPerS, unit: "rows/s", reference: { value: bare.rowsPerS, label: "bare transactional producer" } },
        { name: "initial load, connector start to last", value: endToEnd, unit: "rows/s" },
        { name: "liberator CPU per row (user + system)", value: cpuUsPerRow, unit: "µs", reference: { value: plain.cpuUsPerRow + bare.cpuUsPerRow, label: "plain read + bare producer" } },
        { name: "RSS of liberator before the load", value: rssBeforeKb / 1024, unit: "MB" },
        { name: "peak RSS of liberator", value: rssMb, unit: "MB", reference: { value: GOAL_RSS_MB, label: "goal: below" } },
      ],
      fields: {
        rows_per_s: Math.round(rowsPerS),
        rss_mb: Math.round(rssMb),
        cpu_us_per_row: round(cpuUsPerRow),
        read_ceiling_ratio: ratio(rowsPerS, plain.rowsPerS),
        producer_ceiling_ratio: ratio(rowsPerS, bare.rowsPerS),
      },
      notes: [
        `${rows.toLocaleString("en-US")} rows of (int pk, varchar(64), int, decimal(10,2), datetime(6), tinyint) from MariaDB, mode incrementing, default batchSize and delayMs; the topic read back: each row arrived exactly once`,
        "liberator run (compiled, node dist/cli.js) in a child process: Avro with the embedded registry, one Kafka transaction per 10,000-row batch, all on these 2 cores",
        `load took ${((last - first) / 1000).toFixed(1)} s after the first batch; ${((first - running) / 1000).toFixed(1)} s from the connector running to its first batch (delayMs, first page); load average at its end: ${load}`,
        `plain read (mysql2 execute, pages of ${BATCH.toLocaleString("en-US")}, in this process): ${Math.round(plain.rowsPerS).toLocaleString("en-US")} rows/s at ${plain.cpuUsPerRow.toFixed(1)} µs CPU/row`,
        `bare producer (kafkajs, transactions of ${BATCH.toLocaleString("en-US")}, ${Math.round(sizes.keyBytes)}-byte keys, ${Math.round(sizes.valueBytes)}-byte values): ${Math.round(bare.rowsPerS).toLocaleString("en-US")} rows/s at ${bare.cpuUsPerRow.toFixed(1)} µs CPU/row`,
        `one free core at ${cpuUsPerRow.toFixed(1)} µs/row would give ${Math.round(1e6 / cpuUsPerRow).toLocaleString("en-US")} rows/s`,
      ],
    };
  } finally {
    await conn.query(`DROP DATABASE IF EXISTS ${database}`);
    await conn.end();
  }
}
