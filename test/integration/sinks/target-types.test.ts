/**
 * Target column types that hold every value a source can send, and the check that names a column
 * which cannot, before the first write rather than at the first unlucky row.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sink } from "../../../src/runtime/connector.js";
import { LiberatorError } from "../../../src/runtime/errors.js";
import { describeMysqlTable } from "../../../src/runtime/db/introspect.js";
import { envelope, tableStream, type TableStream } from "../../../src/runtime/sql-types/envelope.js";
import type { Dialect } from "../../../src/runtime/sql-types/mapping.js";
import { sqlSinkSpec } from "../../../src/sinks/sql/index.js";
import { uniqueName } from "../../harness/index.js";
import { asSinkRecords, sinkContext, targetDatabase, type Row, type TargetDatabase } from "./support.js";

/** MariaDB TIME is a duration: both ends of its range, past a day, below zero, a microsecond. */
const DURATIONS = ["838:59:59.999999", "-838:59:59.999999", "517:51:04.77", "-00:00:00.000001", "-23:45:56.7", "24:00:00", "23:59:59.999999", "00:00:00", "-01:00:00"];

describe("sql sink target types", () => {
  let source: TargetDatabase;
  let stream: TableStream;
  let rows: Row[];
  const dbs: TargetDatabase[] = [];
  const sinks: Sink[] = [];

  beforeAll(async () => {
    source = await targetDatabase("mysql");
    await source.rows("CREATE TABLE spans (id INT PRIMARY KEY, d TIME(6) NOT NULL)");
    await source.rowsWith(`INSERT INTO spans VALUES ${DURATIONS.map(() => "(?, ?)").join(", ")}`, DURATIONS.flatMap((d, i) => [i + 1, d]));
    const table = await describeMysqlTable({ query: async (sql, values) => [await source.rowsWith(sql, values), undefined] }, source.name, "spans");
    stream = tableStream(table, { topic: "legacy.shop.spans" });
    rows = (await source.rows("SELECT * FROM spans ORDER BY id")).map((r) => stream.row(r));
  });
  afterAll(async () => {
    for (const s of sinks) await s.close();
    for (const d of [source, ...dbs]) await d?.drop();
  });

  it("reads a MariaDB JSON column as json, and a LONGTEXT with another check as text", async () => {
    await source.rows("CREATE TABLE docs (id INT PRIMARY KEY, doc JSON, note LONGTEXT CHECK (CHAR_LENGTH(note) < 100))");
    const table = await describeMysqlTable({ query: async (sql, values) => [await source.rowsWith(sql, values), undefined] }, source.name, "docs");
    expect(table.columns.map((c) => [c.name, c.sqlType])).toEqual([
      ["id", "int(11)"],
      ["doc", "json"],
      ["note", "longtext"],
    ]);
  });

  async function sinkInto(dialect: Dialect, into?: TargetDatabase): Promise<{ sink: Sink; db: TargetDatabase; write: () => Promise<void> }> {
    const db = into ?? (await targetDatabase(dialect));
    if (!into) dbs.push(db);
    const name = uniqueName("types");
    const sink = sqlSinkSpec.create(sqlSinkSpec.config.parse({ name, type: "sql", dialect, connection: db.connection, topics: [stream.topic] }), sinkContext(name));
    sinks.push(sink);
    await sink.open();
    await sink.claim([{ topic: stream.topic, partition: 0 }]);
    const origin = { connector: "binlog", name: "legacy", db: "shop", table: "spans", ts_ms: 0 };
    const records = rows.map((row) => ({ topic: stream.topic, key: stream.keyOf(row), keySchema: stream.keySchema, value: envelope("r", null, row, origin), valueSchema: stream.valueSchema }));
    const write = () => sink.write({ records: asSinkRecords(records), offsets: [{ topic: stream.topic, partition: 0, offset: String(records.length) }] });
    return { sink, db, write };
  }

  /** Microseconds as each database computes them from its own column, exactly (numeric, not float). */
  const sourceMicros = async () => (await source.rows("SELECT CAST(TIME_TO_SEC(d) * 1000000 AS DECIMAL(20,0)) AS us FROM spans ORDER BY id")).map((r) => String(r.us));

  it.each<Dialect>(["postgres", "mysql"])("creates a %s column that holds every MariaDB TIME value: 838:59:59.999999, 517:51:04.77, -00:00:00.000001, -23:45:56.7", async (dialect) => {
    const { db, write } = await sinkInto(dialect);
    await write();
    const micros =
      dialect === "postgres"
        ? (await db.rows("SELECT (extract(epoch FROM d) * 1000000)::numeric(20,0) AS us FROM spans ORDER BY id")).map((r) => String(r.us))
        : (await db.rows("SELECT CAST(TIME_TO_SEC(d) * 1000000 AS DECIMAL(20,0)) AS us FROM spans ORDER BY id")).map((r) => String(r.us));
    expect(micros).toEqual(await sourceMicros());
  });

  it("refuses an existing PostgreSQL time column for MariaDB TIME before the first write, naming the column and the values it cannot hold", async () => {
    const { db, write } = await sinkInto("postgres");
    await db.rows("CREATE TABLE spans (id integer PRIMARY KEY, d time(6) NOT NULL)");
    const failure = await write().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(LiberatorError);
    const err = failure as LiberatorError;
    expect(err.code).toBe("SINK_TABLE_TOO_NARROW");
    expect(err.retriable).toBe(false);
    expect(err.message).toContain('column "d" (time(6) without time zone): negative durations, durations past 24:00:00');
    expect(err.fix).toMatch(/ALTER TABLE .*"d" TYPE interval/);
    // nothing was written, not even the rows it could hold
    expect(await db.rows("SELECT * FROM spans")).toEqual([]);
  });

  it("names such a column at start, from the schema the topic has now, before any record is read", async () => {
    const { sink, db } = await sinkInto("postgres");
    await db.rows("CREATE TABLE spans (id integer PRIMARY KEY, d time(6) NOT NULL)");
    await expect(sink.check!([{ topic: stream.topic, valueSchema: stream.valueSchema }])).rejects.toMatchObject({
      code: "SINK_TABLE_TOO_NARROW",
      message: expect.stringContaining('column "d" (time(6) without time zone): negative durations'),
    });
    // once the column holds them all, the sink (restarted) starts
    await db.rows("ALTER TABLE spans ALTER COLUMN d TYPE interval");
    const { sink: again } = await sinkInto("postgres", db);
    await again.check!([{ topic: stream.topic, valueSchema: stream.valueSchema }]);
  });
});

describe("the statement SINK_TABLE_TOO_NARROW suggests", () => {
  const amounts = tableStream(
    {
      columns: [
        { name: "id", dialect: "mysql", sqlType: "int(11)", nullable: false },
        { name: "amount", dialect: "mysql", sqlType: "decimal(14,3)", nullable: false },
        { name: "refund", dialect: "mysql", sqlType: "decimal(14,3)", nullable: true },
      ],
      primaryKey: ["id"],
    },
    { topic: "legacy.shop.amounts" },
  );
  const rows = [
    { id: 1, amount: "12345678901.125", refund: null },
    { id: 2, amount: "-99999999999.999", refund: "0.001" },
  ];
  const dbs: TargetDatabase[] = [];
  const sinks: Sink[] = [];
  afterAll(async () => {
    for (const s of sinks) await s.close();
    for (const d of dbs) await d.drop();
  });

  async function openSink(dialect: Dialect, db: TargetDatabase): Promise<Sink> {
    const name = uniqueName("narrow");
    const sink = sqlSinkSpec.create(sqlSinkSpec.config.parse({ name, type: "sql", dialect, connection: db.connection, topics: [amounts.topic] }), sinkContext(name));
    sinks.push(sink);
    await sink.open();
    await sink.claim([{ topic: amounts.topic, partition: 0 }]);
    return sink;
  }

  it.each<[Dialect, string]>([
    ["postgres", "CREATE TABLE amounts (id integer PRIMARY KEY, amount numeric(10,2) NOT NULL, refund numeric(10,2))"],
    ["mysql", "CREATE TABLE amounts (id INT PRIMARY KEY, amount DECIMAL(10,2) NOT NULL, refund DECIMAL(10,2) NULL)"],
  ])("runs as given on %s, keeps each column's NULL / NOT NULL, and lets the sink start and write", async (dialect, create) => {
    const db = await targetDatabase(dialect);
    dbs.push(db);
    await db.rows(create);
    const failure = await (await openSink(dialect, db)).check!([{ topic: amounts.topic, valueSchema: amounts.valueSchema }]).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toMatchObject({ code: "SINK_TABLE_TOO_NARROW" });
    const fix = (failure as LiberatorError).fix!;
    expect(fix).toMatch(/^review and run: /);
    const statements = fix.replace(/^review and run: /, "").split("; ");
    expect(statements).toHaveLength(2);
    for (const sql of statements) await db.rows(sql);

    const nullable =
      dialect === "postgres"
        ? await db.rows("SELECT column_name AS c, is_nullable AS n FROM information_schema.columns WHERE table_name = 'amounts' ORDER BY ordinal_position")
        : await db.rows(`SELECT COLUMN_NAME AS c, IS_NULLABLE AS n FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '${db.name}' AND TABLE_NAME = 'amounts' ORDER BY ORDINAL_POSITION`);
    expect(nullable).toEqual([
      { c: "id", n: "NO" },
      { c: "amount", n: "NO" },
      { c: "refund", n: "YES" },
    ]);

    const sink = await openSink(dialect, db);
    await sink.check!([{ topic: amounts.topic, valueSchema: amounts.valueSchema }]);
    const origin = { connector: "binlog", name: "legacy", db: "shop", table: "amounts", ts_ms: 0 };
    const records = rows.map((row) => ({ topic: amounts.topic, key: amounts.keyOf(row), keySchema: amounts.keySchema, value: envelope("r", null, row, origin), valueSchema: amounts.valueSchema }));
    await sink.write({ records: asSinkRecords(records), offsets: [{ topic: amounts.topic, partition: 0, offset: String(records.length) }] });
    const written = await db.rows(
      dialect === "postgres" ? "SELECT id, amount::text AS amount, refund::text AS refund FROM amounts ORDER BY id" : "SELECT id, CAST(amount AS CHAR) AS amount, CAST(refund AS CHAR) AS refund FROM amounts ORDER BY id",
    );
    expect(written.map((r) => ({ id: Number(r.id), amount: r.amount, refund: r.refund }))).toEqual(rows);
  });
});
