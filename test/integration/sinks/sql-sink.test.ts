import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChangeRecord, Sink } from "../../../src/runtime/connector.js";
import { ConnectionError, DataError, PreconditionError } from "../../../src/runtime/errors.js";
import { describeMysqlTable, describePgTable } from "../../../src/runtime/db/introspect.js";
import { mapColumn, type ColumnInfo, type Dialect } from "../../../src/runtime/sql-types/mapping.js";
import { sqlSinkSpec } from "../../../src/sinks/sql/index.js";
import { uniqueName } from "../../harness/index.js";
import {
  ORDER_COLUMNS,
  asSinkRecords,
  changeEvent,
  orderRow,
  ordersStream,
  sinkContext,
  targetDatabase,
  tombstone,
  type Row,
} from "./support.js";

type Db = Awaited<ReturnType<typeof targetDatabase>>;

describe.each<Dialect>(["postgres", "mysql"])("sql sink into %s", (dialect) => {
  let db: Db;
  const sinks: Sink[] = [];
  let offset = 0;

  beforeAll(async () => {
    db = await targetDatabase(dialect);
  });
  afterAll(async () => {
    for (const s of sinks) await s.close();
    await db.drop();
  });

  async function openSink(overrides: Record<string, unknown> = {}): Promise<Sink & { topic: string }> {
    const name = uniqueName("sql");
    const config = sqlSinkSpec.config.parse({ name, type: "sql", dialect, connection: db.connection, topics: ["t"], ...overrides });
    const sink = sqlSinkSpec.create(config, sinkContext(name));
    sinks.push(sink);
    await sink.open();
    await sink.claim([{ topic: "t", partition: 0 }]);
    return Object.assign(sink, { topic: "t" });
  }

  /** The topics each sink has claimed partition 0 of: a sink writes only the partitions it claimed. */
  const claimed = new WeakMap<Sink, Set<string>>();

  /** Writes change records as one batch at the next offsets, claiming their topic's partition first. */
  async function write(sink: Sink, records: ChangeRecord[]): Promise<void> {
    const topic = records[0]?.topic ?? "t";
    const mine = claimed.get(sink) ?? new Set<string>();
    claimed.set(sink, mine);
    if (!mine.has(topic)) {
      await sink.claim([{ topic, partition: 0 }]);
      mine.add(topic);
    }
    const batch = asSinkRecords(records, offset);
    offset += records.length;
    await sink.write({ records: batch, offsets: [{ topic, partition: 0, offset: String(offset) }] });
  }

  /** The table's rows in canonical form, read through the mapping of the target's own columns. */
  async function canonicalRows(table: string): Promise<Row[]> {
    const described =
      dialect === "postgres"
        ? await describePgTable({ query: async (sql, values) => ({ rows: await db.rowsWith(sql, values) }) }, "public", table)
        : await describeMysqlTable({ query: async (sql, values) => [await db.rowsWith(sql, values), undefined] }, db.name, table);
    const columns = described.columns.map((c) => mapColumn(c));
    const rows = await db.rows(`SELECT * FROM ${table} ORDER BY id`);
    return rows.map((r) => Object.fromEntries(columns.map((c) => [c.field.name, c.fromDriver(r[c.column])])));
  }

  it("creates the table from the stream and writes every value exactly: decimals, microseconds, emoji, bytes", async () => {
    const table = uniqueName("exact");
    const stream = ordersStream(`shop.${table}`);
    const sink = await openSink();
    const rows = Array.from({ length: 30 }, (_, i) => orderRow(i + 1));
    await write(sink, rows.map((r) => changeEvent(stream, table, "r", null, r)));
    const stored = await canonicalRows(table);
    // integers of the target's own types compare by value: an Avro int may become a bigint column
    const normal = (r: Row) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === "bigint" ? Number(v) : v]));
    expect(stored.map(normal)).toEqual(rows.map(normal));
  });

  it("folds several changes to one key in a batch into the last one, and deletes by key (events and tombstones)", async () => {
    const table = uniqueName("fold");
    const stream = ordersStream(`shop.${table}`);
    const sink = await openSink();
    await write(sink, [1, 2, 3, 4].map((i) => changeEvent(stream, table, "c", null, orderRow(i))));
    await write(sink, [
      changeEvent(stream, table, "u", orderRow(1), orderRow(1, 1)),
      changeEvent(stream, table, "u", orderRow(1, 1), orderRow(1, 2)),
      changeEvent(stream, table, "d", orderRow(2), null),
      tombstone(stream, orderRow(2)),
      changeEvent(stream, table, "d", orderRow(3), null),
      changeEvent(stream, table, "c", null, orderRow(3, 7)),
      tombstone(stream, orderRow(4)),
      changeEvent(stream, table, "c", null, orderRow(5)),
      changeEvent(stream, table, "d", orderRow(5), null),
    ]);
    const stored = await db.rows(`SELECT id, name FROM ${table} ORDER BY id`);
    expect(stored.map((r) => [String(r.id), r.name])).toEqual([
      ["1", orderRow(1, 2).name],
      ["3", orderRow(3, 7).name],
    ]);
  });

  it("in insert mode writes every row of a table without a key, and a delete stops the sink", async () => {
    const table = uniqueName("keyless");
    const stream = ordersStream(`shop.${table}`, { keyless: true });
    const sink = await openSink({ mode: "insert" });
    await write(sink, [changeEvent(stream, table, "c", null, orderRow(1)), changeEvent(stream, table, "c", null, orderRow(1))]);
    expect(await db.rows(`SELECT id FROM ${table}`)).toHaveLength(2);
    await expect(write(sink, [changeEvent(stream, table, "d", orderRow(1), null)])).rejects.toThrow(/no key columns to delete by/);
  });

  it("in update mode changes existing rows and inserts none", async () => {
    const table = uniqueName("upd");
    const stream = ordersStream(`shop.${table}`);
    await write(await openSink(), [changeEvent(stream, table, "c", null, orderRow(1))]);
    const sink = await openSink({ mode: "update" });
    await write(sink, [changeEvent(stream, table, "u", orderRow(1), orderRow(1, 3)), changeEvent(stream, table, "c", null, orderRow(2))]);
    const stored = await db.rows(`SELECT id, name FROM ${table} ORDER BY id`);
    expect(stored.map((r) => [String(r.id), r.name])).toEqual([["1", orderRow(1, 3).name]]);
  });

  it("adds a column the stream gained (autoEvolve), nullable, keeping the rows it has", async () => {
    const table = uniqueName("evolve");
    const sink = await openSink();
    const v1 = ordersStream(`shop.${table}`);
    await write(sink, [changeEvent(v1, table, "c", null, orderRow(1))]);
    const v2 = ordersStream(`shop.${table}`, { columns: [...ORDER_COLUMNS, { name: "coupon", dialect: "mysql", sqlType: "varchar(20)", nullable: true }] });
    await write(sink, [changeEvent(v2, table, "c", null, { ...orderRow(2), coupon: "SPRING-24" })]);
    const stored = await db.rows(`SELECT id, coupon FROM ${table} ORDER BY id`);
    expect(stored.map((r) => [String(r.id), r.coupon])).toEqual([
      ["1", null],
      ["2", "SPRING-24"],
    ]);
  });

  it("stops with the statement to run when it may not create or evolve the table", async () => {
    const table = uniqueName("manual");
    const stream = ordersStream(`shop.${table}`);
    const noCreate = await openSink({ autoCreate: false });
    const missing = write(noCreate, [changeEvent(stream, table, "c", null, orderRow(1))]);
    await expect(missing).rejects.toBeInstanceOf(PreconditionError);
    await expect(missing).rejects.toMatchObject({ code: "SINK_TABLE_MISSING", fix: expect.stringMatching(/CREATE TABLE .*PRIMARY KEY/) });

    await write(await openSink(), [changeEvent(stream, table, "c", null, orderRow(1))]);
    const noEvolve = await openSink({ autoEvolve: false });
    const v2 = ordersStream(`shop.${table}`, { columns: [...ORDER_COLUMNS, { name: "coupon", dialect: "mysql", sqlType: "varchar(20)", nullable: true }] });
    await expect(write(noEvolve, [changeEvent(v2, table, "c", null, { ...orderRow(2), coupon: "x" })])).rejects.toMatchObject({
      code: "SINK_TABLE_COLUMNS_MISSING",
      fix: expect.stringMatching(/ALTER TABLE .* ADD COLUMN .*coupon/),
    });
  });

  it("stops with the ALTER statement when a column is narrower than the stream's type", async () => {
    const table = uniqueName("narrow");
    await db.rows(`CREATE TABLE ${table} (id BIGINT PRIMARY KEY, price DECIMAL(6,2))`);
    const columns: ColumnInfo[] = [ORDER_COLUMNS[0]!, ORDER_COLUMNS[3]!];
    const stream = ordersStream(`shop.${table}`, { columns });
    const sink = await openSink();
    await expect(write(sink, [changeEvent(stream, table, "c", null, { id: 1n, price: "1.5000" })])).rejects.toMatchObject({
      code: "SINK_TABLE_TOO_NARROW",
      fix: expect.stringMatching(dialect === "postgres" ? /ALTER COLUMN "price" TYPE numeric\(12,4\)/ : /MODIFY COLUMN `price` (DECIMAL|decimal)\(12,4\)/),
    });
  });

  it("refuses to upsert into a table whose key has no unique index, naming the ADD PRIMARY KEY", async () => {
    const table = uniqueName("nokey");
    await db.rows(`CREATE TABLE ${table} (id BIGINT NOT NULL, name VARCHAR(64))`);
    const stream = ordersStream(`shop.${table}`, { columns: [ORDER_COLUMNS[0]!, ORDER_COLUMNS[1]!] });
    const sink = await openSink();
    await expect(write(sink, [changeEvent(stream, table, "c", null, { id: 1n, name: "a" })])).rejects.toMatchObject({
      code: "SINK_KEY_NOT_UNIQUE",
      fix: expect.stringMatching(/ADD PRIMARY KEY/),
    });
  });

  it("empties the table on a truncate when truncates: true, keeping the rows after it", async () => {
    const table = uniqueName("trunc");
    const stream = ordersStream(`shop.${table}`);
    const sink = await openSink({ truncates: true });
    await write(sink, [1, 2, 3].map((i) => changeEvent(stream, table, "c", null, orderRow(i))));
    const truncate: ChangeRecord = { ...changeEvent(stream, table, "t", null, null), key: null };
    await write(sink, [changeEvent(stream, table, "c", null, orderRow(4)), truncate, changeEvent(stream, table, "c", null, orderRow(5))]);
    expect((await db.rows(`SELECT id FROM ${table}`)).map((r) => String(r.id))).toEqual(["5"]);
  });

  it("refuses a row the column cannot hold as a DataError, and writes nothing of its batch", async () => {
    const table = uniqueName("refuse");
    const stream = ordersStream(`shop.${table}`);
    const sink = await openSink();
    await write(sink, [changeEvent(stream, table, "c", null, orderRow(1))]);
    const bad = write(sink, [changeEvent(stream, table, "c", null, orderRow(2)), changeEvent(stream, table, "c", null, { ...orderRow(3), price: "123456789.0000" })]);
    await expect(bad).rejects.toBeInstanceOf(DataError);
    await expect(bad).rejects.toThrow(new RegExp(table));
    expect(await db.rows(`SELECT id FROM ${table}`)).toHaveLength(1);
  });

  it("deletes exactly the key given, even past 2^53", async () => {
    const table = uniqueName("bigkey");
    const stream = ordersStream(`shop.${table}`);
    const sink = await openSink();
    const near = (n: bigint) => ({ ...orderRow(1), id: n });
    await write(sink, [changeEvent(stream, table, "c", null, near(9007199254740992n)), changeEvent(stream, table, "c", null, near(9007199254740993n))]);
    await write(sink, [changeEvent(stream, table, "d", near(9007199254740993n), null)]);
    expect((await db.rows(`SELECT id FROM ${table}`)).map((r) => String(r.id))).toEqual(["9007199254740992"]);
  });

  it("opens several sinks at once on a target whose offsets table does not exist yet", async () => {
    const offsetsTable = uniqueName("offsets");
    const opened = await Promise.allSettled(Array.from({ length: 4 }, () => openSink({ offsetsTable })));
    expect(opened.filter((o) => o.status === "rejected")).toEqual([]);
    // each sink has its row, and one per partition it claimed
    expect(await db.rows(`SELECT DISTINCT connector FROM ${offsetsTable}`)).toHaveLength(4);
  });

  it("writes a batch whose commit answer was lost only once: the next attempt finds its offsets stored", async () => {
    const table = uniqueName("lost");
    const stream = ordersStream(`shop.${table}`, { keyless: true });
    const sink = await openSink({ mode: "insert" });
    // the COMMIT goes through, then the connection drops before its answer arrives
    const target = (sink as unknown as { target: { transaction: (fn: () => Promise<unknown>) => Promise<unknown> } }).target;
    const transaction = target.transaction.bind(target);
    target.transaction = async (fn) => {
      await transaction(fn);
      target.transaction = transaction;
      throw new ConnectionError("connection lost after COMMIT");
    };
    const records = [changeEvent(stream, table, "c", null, orderRow(1)), changeEvent(stream, table, "c", null, orderRow(2))];
    await expect(write(sink, records)).rejects.toBeInstanceOf(ConnectionError);
    offset -= records.length;
    await write(sink, records);
    expect(await db.rows(`SELECT id FROM ${table}`)).toHaveLength(2);
  });

  it("after its connection is killed, retries the batch on a new one and lands it once", async () => {
    const table = uniqueName("killed");
    const stream = ordersStream(`shop.${table}`);
    const sink = await openSink({ mode: "insert" });
    await write(sink, [changeEvent(stream, table, "c", null, orderRow(1))]);
    const kill =
      dialect === "postgres"
        ? `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'liberator' AND datname = '${db.name}' AND pid <> pg_backend_pid()`
        : undefined;
    if (kill) await db.rows(kill);
    else for (const p of await db.rows(`SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = '${db.name}' AND ID <> CONNECTION_ID()`)) await db.rows(`KILL ${String(p.id)}`);
    const records = [changeEvent(stream, table, "c", null, orderRow(2))];
    const retried = write(sink, records);
    await expect(retried).rejects.toBeInstanceOf(ConnectionError);
    offset -= records.length;
    await write(sink, records);
    expect((await db.rows(`SELECT id FROM ${table} ORDER BY id`)).map((r) => String(r.id))).toEqual(["1", "2"]);
  });
});
