import { afterAll, describe, expect, it } from "vitest";
import { verifyTables, type SourceSide } from "../../../src/commands/verify.js";
import type { Sink } from "../../../src/runtime/connector.js";
import { envelope, tableStream } from "../../../src/runtime/sql-types/envelope.js";
import { describePgTable } from "../../../src/runtime/db/introspect.js";
import { sqlSinkSpec } from "../../../src/sinks/sql/index.js";
import { uniqueName } from "../../harness/index.js";
import { kafkaClient, produce, schemaService } from "../sql-types/round-trip.js";
import { asSinkRecords, sinkContext, targetDatabase, type TargetDatabase } from "./support.js";

const TABLE = `CREATE TABLE items (
  id bigint PRIMARY KEY, label varchar(40) NOT NULL, price numeric(12,4), at timestamp(6) with time zone,
  day date, tags text[], doc jsonb, flag boolean, raw bytea, code uuid)`;

const sourceSideOf = (db: TargetDatabase, dialect: "postgres" | "mysql", tables: string[], extra: Partial<SourceSide> = {}): SourceSide => ({
  dialect,
  connection: { ...db.connection, connectTimeoutMs: 10_000 },
  topicPrefix: uniqueName("verify"),
  tables,
  hidden: () => new Set(),
  keyColumns: () => undefined,
  ...extra,
});

describe("liberator verify", () => {
  const dbs: TargetDatabase[] = [];
  const sinks: Sink[] = [];
  afterAll(async () => {
    for (const s of sinks) await s.close();
    for (const d of dbs) await d.drop();
  });

  it("compares a PostgreSQL table with its MariaDB copy value by value, and names the keys that differ", async () => {
    const source = await targetDatabase("postgres");
    const target = await targetDatabase("mysql");
    dbs.push(source, target);
    await source.rows(TABLE);
    await source.rows(`INSERT INTO items SELECT g, 'item ' || g || ' ü', g * 1.2345, '2024-02-29 23:59:59.123456+00'::timestamptz + g * interval '1 second',
      '2024-01-01'::date + g, ARRAY['a', 'b"' || g], jsonb_build_object('n', g, 'list', jsonb_build_array(1, 2)), g % 2 = 0, decode(lpad(to_hex(g), 4, '0'), 'hex'),
      md5(g::text)::uuid FROM generate_series(1, 250) g`);

    // the copy, written by the sql sink from the table's own stream
    const stream = tableStream(await describePgTable({ query: async (sql, values) => ({ rows: await source.rowsWith(sql, values) }) }, "public", "items"), { topic: "pg.public.items" });
    const rows = (await source.rows("SELECT * FROM items ORDER BY id")).map((r) => stream.row(r));
    const name = uniqueName("verify");
    const config = sqlSinkSpec.config.parse({ name, type: "sql", dialect: "mariadb", connection: target.connection, topics: [stream.topic] });
    const sink = sqlSinkSpec.create(config, sinkContext(name));
    sinks.push(sink);
    await sink.open();
    await sink.claim([{ topic: stream.topic, partition: 0 }]);
    const origin = { connector: "query", name: "pg", db: "public", table: "items", ts_ms: 0 };
    const records = rows.map((row) => ({ topic: stream.topic, key: stream.keyOf(row), keySchema: stream.keySchema, value: envelope("r", null, row, origin), valueSchema: stream.valueSchema }));
    await sink.write({ records: asSinkRecords(records), offsets: [{ topic: stream.topic, partition: 0, offset: String(records.length) }] });

    const side = sourceSideOf(source, "postgres", ["items"], { topicPrefix: "pg" });
    const [same] = await verifyTables(side, config, { chunk: 100 });
    expect(same).toMatchObject({ sourceRows: 250, sinkRows: 250, ranges: 3, diffs: [] });
    expect(same!.columns).toHaveLength(10);

    await target.rows("DELETE FROM items WHERE id = 7");
    await target.rows("UPDATE items SET price = price + 1 WHERE id = 150");
    await target.rows("INSERT INTO items (id, label) VALUES (1000, 'stray')");
    const [diff] = await verifyTables(side, config, { chunk: 100 });
    expect(diff!.diffs).toEqual([
      { from: null, to: "100", sourceRows: 100, sinkRows: 99, missing: ["7"], extra: [], different: [] },
      { from: "100", to: "200", sourceRows: 100, sinkRows: 100, missing: [], extra: [], different: ["150"] },
      { from: "200", to: null, sourceRows: 50, sinkRows: 51, missing: [], extra: ["1000"], different: [] },
    ]);
  });

  it("reads DOUBLE exactly on both sides: 10,000 values of n / 7 give no false difference (issue 15, Found 8)", async () => {
    const source = await targetDatabase("mysql");
    const target = await targetDatabase("postgres");
    dbs.push(source, target);
    // both databases divide in IEEE doubles, correctly rounded: the two tables hold the same values
    await source.rows("CREATE TABLE d (id INT PRIMARY KEY, v DOUBLE NOT NULL)");
    await source.rows("INSERT INTO d SELECT seq, CAST(660000 + seq AS DOUBLE) / 7 FROM seq_1_to_10000");
    await target.rows("CREATE TABLE d (id int PRIMARY KEY, v double precision NOT NULL)");
    await target.rows("INSERT INTO d SELECT g, (660000 + g)::double precision / 7 FROM generate_series(1, 10000) g");
    const config = sqlSinkSpec.config.parse({ name: "d", type: "sql", dialect: "postgres", connection: target.connection, topics: ["d"] });
    const [report] = await verifyTables(sourceSideOf(source, "mysql", ["d"]), config, {});
    expect(report).toMatchObject({ sourceRows: 10_000, sinkRows: 10_000, diffs: [] });
    expect(report!.error).toBeUndefined();
  });

  it("finishes a run holding a zero-date table and a keyless table, each reported for itself, keyless rows compared as multisets", async () => {
    const source = await targetDatabase("mysql");
    const target = await targetDatabase("mysql");
    dbs.push(source, target);
    await source.rows("SET SESSION sql_mode = ''");
    await source.rows("CREATE TABLE zd (id INT PRIMARY KEY, d DATE NULL)");
    await source.rows("INSERT INTO zd VALUES (1, '0000-00-00'), (2, '2024-02-29')");
    await source.rows("CREATE TABLE bag (label VARCHAR(20) NOT NULL, n INT NULL)");
    await source.rows("INSERT INTO bag VALUES ('a', 1), ('a', 1), ('b', NULL), ('c', 3)");
    await source.rows("CREATE TABLE plain (id INT PRIMARY KEY, v VARCHAR(20))");
    await source.rows("INSERT INTO plain VALUES (1, 'x'), (2, 'y')");
    // the sink as the source with zeroDates: null writes it; one copy of ('a', 1) lost, ('c', 3) became ('c', 4)
    await target.rows("CREATE TABLE zd (id INT PRIMARY KEY, d DATE NULL)");
    await target.rows("INSERT INTO zd VALUES (1, NULL), (2, '2024-02-29')");
    await target.rows("CREATE TABLE bag (label VARCHAR(20) NOT NULL, n INT NULL)");
    await target.rows("INSERT INTO bag VALUES ('a', 1), ('b', NULL), ('c', 4)");
    await target.rows("CREATE TABLE plain (id INT PRIMARY KEY, v VARCHAR(20))");
    await target.rows("INSERT INTO plain VALUES (1, 'x'), (2, 'y')");
    const config = sqlSinkSpec.config.parse({ name: "zd", type: "sql", dialect: "mariadb", connection: target.connection, topics: ["zd"] });
    const tables = ["zd", "bag", "plain"];

    const nulled = await verifyTables(sourceSideOf(source, "mysql", tables, { mapOptions: { zeroDates: "null" } }), config, {});
    expect(nulled.map((r) => [r.error, r.diffs.length])).toEqual([
      [undefined, 0],
      [undefined, 1],
      [undefined, 0],
    ]);
    expect(nulled[1]).toMatchObject({ keyless: true, sourceRows: 4, sinkRows: 3, diffs: [{ missing: ['("a", "1")', '("c", "3")'], extra: ['("c", "4")'], different: [] }] });
    expect(nulled[1]!.first).toEqual({ key: '("a", "1")', column: null, source: "2 row(s)", sink: "1 row(s)" });

    const refused = await verifyTables(sourceSideOf(source, "mysql", tables), config, {});
    expect(refused[0]!.error).toBe('column "d" (date): "0000-00-00" is the zero date, which no calendar has — set zeroDates: null to read such values as null, or fix the rows');
    expect(refused.slice(1).map((r) => [r.error, r.diffs.length])).toEqual([
      [undefined, 1],
      [undefined, 0],
    ]);
  });

  it("--through-kafka compares source, Kafka and sink, and names the key and column of a value changed only in Kafka", async () => {
    const source = await targetDatabase("postgres");
    const target = await targetDatabase("postgres");
    dbs.push(source, target);
    await source.rows("CREATE TABLE items (id bigint PRIMARY KEY, label text NOT NULL, price numeric(12,4))");
    await source.rows("INSERT INTO items SELECT g, 'item ' || g, g * 1.5 FROM generate_series(1, 120) g");
    const side = sourceSideOf(source, "postgres", ["items"]);
    const stream = tableStream(await describePgTable({ query: async (sql, values) => ({ rows: await source.rowsWith(sql, values) }) }, "public", "items"), {
      topic: `${side.topicPrefix}.public.items`,
    });
    const rows = (await source.rows("SELECT * FROM items ORDER BY id")).map((r) => stream.row(r));
    const origin = { connector: "query", name: "pg", db: "public", table: "items", ts_ms: 0 };
    const record = (row: Record<string, unknown>, op = "r", before: Record<string, unknown> | null = null) => ({
      topic: stream.topic,
      key: stream.keyOf(row),
      keySchema: stream.keySchema,
      value: envelope(op as "r", before, row, origin),
      valueSchema: stream.valueSchema,
    });
    const name = uniqueName("verify");
    const config = sqlSinkSpec.config.parse({ name, type: "sql", dialect: "postgres", connection: target.connection, topics: [stream.topic] });
    const sink = sqlSinkSpec.create(config, sinkContext(name));
    sinks.push(sink);
    await sink.open();
    await sink.claim([{ topic: stream.topic, partition: 0 }]);
    await sink.write({ records: asSinkRecords(rows.map((r) => record(r))), offsets: [{ topic: stream.topic, partition: 0, offset: String(rows.length) }] });

    const kafka = kafkaClient();
    const service = await schemaService(kafka);
    try {
      // the topic as the source wrote it, then one update made by hand: only Kafka holds it
      await produce(kafka, service, rows.map((r) => record(r)));
      const side3 = { kafka, deserializer: service.deserializer, timeoutMs: 60_000 };
      const [agree] = await verifyTables(side, config, { chunk: 50 }, side3);
      expect(agree).toMatchObject({ sourceRows: 120, kafkaRows: 120, sinkRows: 120, ranges: 3, diffs: [], kafkaOnly: [] });
      expect(agree!.first).toBeUndefined();

      const before = rows[41]!;
      await produce(kafka, service, [record({ ...before, label: "changed in Kafka" }, "u", before)]);
      const [withoutKafka] = await verifyTables(side, config, { chunk: 50 });
      expect(withoutKafka!.diffs).toEqual([]);
      const [report] = await verifyTables(side, config, { chunk: 50 }, side3);
      expect(report!.diffs).toEqual([{ from: null, to: "50", sourceRows: 50, sinkRows: 50, missing: [], extra: [], different: [], kafkaMissing: [], kafkaDifferent: ["42"] }]);
      expect(report!.first).toEqual({ key: "42", column: "label", source: '"item 42"', kafka: '"changed in Kafka"', sink: '"item 42"' });
    } finally {
      await service.close();
    }
  });
});
