import { afterAll, describe, expect, it } from "vitest";
import { verifyTables, type SourceSide } from "../../../src/commands/verify.js";
import type { Sink } from "../../../src/runtime/connector.js";
import { envelope, tableStream } from "../../../src/runtime/sql-types/envelope.js";
import { describePgTable } from "../../../src/runtime/db/introspect.js";
import { sqlSinkSpec } from "../../../src/sinks/sql/index.js";
import { uniqueName } from "../../harness/index.js";
import { asSinkRecords, sinkContext, targetDatabase, type TargetDatabase } from "./support.js";

const TABLE = `CREATE TABLE items (
  id bigint PRIMARY KEY, label varchar(40) NOT NULL, price numeric(12,4), at timestamp(6) with time zone,
  day date, tags text[], doc jsonb, flag boolean, raw bytea, code uuid)`;

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
    const origin = { connector: "query", name: "pg", db: "public", table: "items", ts_ms: 0 };
    const records = rows.map((row) => ({ topic: stream.topic, key: stream.keyOf(row), keySchema: stream.keySchema, value: envelope("r", null, row, origin), valueSchema: stream.valueSchema }));
    await sink.write({ records: asSinkRecords(records), offsets: [{ topic: stream.topic, partition: 0, offset: String(records.length) }] });

    const side: SourceSide = {
      dialect: "postgres",
      connection: { ...source.connection, connectTimeoutMs: 10_000 },
      topicPrefix: "pg",
      tables: ["items"],
      hidden: () => new Set(),
      keyColumns: () => undefined,
    };
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
});
