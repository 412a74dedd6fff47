/**
 * The serializer against raw avsc on the same 10-column row: our wire-format encoding
 * (schema-object cache, 5-byte header, batch buffer) in batches of 500, beside `type.toBuffer` of
 * the very same compiled avsc type. Schemas are registered once in the embedded registry on the
 * harness Kafka before the clock starts; the measured loop makes no registry call.
 */
import { Kafka, logLevel } from "kafkajs";
import pino from "pino";
import type { AvroSchema, ChangeRecord } from "../src/runtime/connector.js";
import { tableStream } from "../src/runtime/sql-types/envelope.js";
import { createSchemaService, parseSchemaRegistryConfig } from "../src/runtime/schema-registry/index.js";
import type { ColumnInfo } from "../src/runtime/sql-types/mapping.js";
import { uniqueName } from "../test/harness/util.js";
import type { BenchContext, BenchResult } from "./report.js";

const BATCH = 500;
const ROUNDS = 5;
const ROUND_MS = 1500;

const COLUMNS: [string, string, boolean][] = [
  ["id", "bigint(20)", false],
  ["name", "varchar(64)", false],
  ["qty", "int(11)", false],
  ["price", "decimal(10,2)", false],
  ["created", "datetime(6)", false],
  ["updated", "timestamp(6)", true],
  ["active", "tinyint(1)", false],
  ["note", "text", true],
  ["score", "double", false],
  ["day", "date", false],
];

function rows(n: number): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => ({
    id: 1_000_000_000n + BigInt(i),
    name: `widget-${i}`,
    qty: i % 1000,
    price: `${1000 + (i % 9000)}.${String(i % 100).padStart(2, "0")}`,
    created: `2024-02-29T23:59:${String(i % 60).padStart(2, "0")}.123456`,
    updated: i % 7 === 0 ? null : "2024-03-01T00:00:00.000001Z",
    active: i % 2,
    note: i % 3 === 0 ? null : "a short note about this row",
    score: i / 7,
    day: "2024-02-29",
  }));
}

/** The best rate of `rounds` timed rounds of `step` (records per call), after a warm-up. */
async function rate(step: () => number | Promise<number>): Promise<number> {
  for (let t = Date.now(); Date.now() - t < 500; ) await step();
  let best = 0;
  for (let r = 0; r < ROUNDS; r++) {
    let n = 0;
    const start = process.hrtime.bigint();
    let elapsed = 0;
    while (elapsed < ROUND_MS) {
      n += await step();
      elapsed = Number(process.hrtime.bigint() - start) / 1e6;
    }
    best = Math.max(best, (n * 1000) / elapsed);
  }
  return best;
}

export async function run(context: BenchContext): Promise<BenchResult> {
  const { kafka: brokers } = await context.servers();
  const kafka = new Kafka({ clientId: "bench-serializer", brokers: brokers.brokers, logLevel: logLevel.NOTHING });
  const service = await createSchemaService(parseSchemaRegistryConfig({ topic: uniqueName("bench_schemas") }), { kafka, log: pino({ level: "silent" }) });
  try {
    const columns: ColumnInfo[] = COLUMNS.map(([name, sqlType, nullable]) => ({ name, dialect: "mysql", sqlType, nullable }));
    const stream = tableStream({ columns, primaryKey: ["id"] }, { topic: "bench.shop.orders" });
    const schema: AvroSchema = stream.rowSchema;
    const values = rows(BATCH);
    const batch: ChangeRecord[] = values.map((value) => ({ topic: stream.topic, key: null, keySchema: null, value, valueSchema: schema }));
    const type = service.catalog.parsed(schema).type;
    await service.serializer.serialize(batch); // registers the subject, before the clock

    const raw = await rate(() => {
      for (const v of values) type.toBuffer(v);
      return values.length;
    });
    const ours = await rate(async () => (await service.serializer.serialize(batch)).length);
    return {
      figures: [{ name: "serializer, 10-column row", value: ours, unit: "records/s", reference: { value: raw, label: "raw avsc toBuffer, same row and type" } }],
      fields: { records_per_s: Math.round(ours), raw_avsc_per_s: Math.round(raw), ratio: Number((ours / raw).toFixed(3)) },
      notes: [
        `one core, batches of ${BATCH}, best of ${ROUNDS} rounds of ${ROUND_MS} ms each; the row: ${COLUMNS.map(([n, t]) => `${n} ${t}`).join(", ")}`,
        "ours = Confluent wire format (magic byte, schema id, Avro body) with the id from the cache; raw = the Avro body alone",
      ],
    };
  } finally {
    await service.close();
  }
}
