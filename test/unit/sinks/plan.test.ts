import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { ChangeRecord, SinkRecord } from "../../../src/runtime/connector.js";
import { DataError } from "../../../src/runtime/errors.js";
import { envelope, tableStream } from "../../../src/runtime/sql-types/envelope.js";
import type { ColumnInfo } from "../../../src/runtime/sql-types/mapping.js";
import { changeOf } from "../../../src/sinks/sql/changes.js";
import { sqlSinkConfig, type SqlSinkConfig } from "../../../src/sinks/sql/config.js";
import { applyWrites, Planner } from "../../../src/sinks/sql/plan.js";
import { Tables } from "../../../src/sinks/sql/tables.js";
import type { KeySet, RowSet, SqlTarget, TargetTable } from "../../../src/sinks/sql/target.js";

const columns: ColumnInfo[] = [
  { name: "id", dialect: "postgres", sqlType: "bigint", nullable: false },
  { name: "name", dialect: "postgres", sqlType: "text", nullable: true },
];
const stream = tableStream({ columns, primaryKey: ["id"] }, { topic: "app.shop.items" });
const source = { connector: "binlog", name: "app", db: "shop", table: "items", ts_ms: 0 };
const row = (id: number, name: string) => ({ id: BigInt(id), name });

const event = (op: "c" | "u" | "d", r: ReturnType<typeof row>): ChangeRecord => ({
  topic: stream.topic,
  key: { id: r.id },
  keySchema: stream.keySchema,
  value: envelope(op, op === "c" ? null : r, op === "d" ? null : r, source),
  valueSchema: stream.valueSchema,
});
const tombstone = (id: number): ChangeRecord => ({ topic: stream.topic, key: { id: BigInt(id) }, keySchema: stream.keySchema, value: null, valueSchema: null });
const sinkRecords = (records: ChangeRecord[]): SinkRecord[] =>
  records.map((r, i) => ({ ...r, partition: 0, offset: String(i), headers: {}, timestamp: 0 }));

/** A target that already has the table and records the statements it is asked for. */
function recordingTarget() {
  const table: TargetTable = { ref: { schema: "public", name: "items" }, columns, primaryKey: ["id"], uniqueKeys: [["id"]] };
  const calls: string[] = [];
  const target = {
    dialect: "postgres",
    where: "test",
    describe: async () => table,
    quoteTable: (ref: { name: string }) => ref.name,
    columnType: () => "text",
    addColumnSql: () => "",
    alterColumnTypeSql: () => "",
    addPrimaryKeySql: () => "",
    insert: async (set: RowSet, conflict: string) => void calls.push(`insert(${conflict}) ${JSON.stringify(set.params)}`),
    update: async (set: RowSet) => void calls.push(`update ${JSON.stringify(set.params)}`),
    delete: async (set: KeySet) => void calls.push(`delete ${JSON.stringify(set.params)}`),
    deleteAll: async () => void calls.push("delete all"),
  } as unknown as SqlTarget;
  return { target, calls };
}

async function statements(records: ChangeRecord[], overrides: Partial<SqlSinkConfig> = {}): Promise<string[]> {
  const config = { ...sqlSinkConfig.parse({ name: "s", type: "sql", dialect: "postgres", connection: { user: "u" }, topics: [stream.topic] }), ...overrides };
  const { target, calls } = recordingTarget();
  const planner = new Planner(new Tables(target, config, pino({ level: "silent" })), config);
  for (const w of await planner.plan(sinkRecords(records))) await applyWrites(target, w, config.mode);
  return calls;
}

describe("folding a batch into statements", () => {
  it("writes each key once, its last version, in one multi-row upsert", async () => {
    expect(await statements([event("c", row(1, "a")), event("c", row(2, "b")), event("u", row(1, "a2")), event("u", row(1, "a3"))])).toEqual([
      'insert(update) ["2","b","1","a3"]',
    ]);
  });

  it("keeps a delete before a new row of the same key, so an insert never meets the row it replaces", async () => {
    expect(await statements([event("c", row(1, "a")), event("d", row(1, "a")), tombstone(1), event("c", row(1, "again"))], { mode: "insert" })).toEqual([
      'delete ["1"]',
      'insert(error) ["1","again"]',
    ]);
  });

  it("deletes by the row before the change, and by a tombstone's key", async () => {
    expect(await statements([event("d", row(7, "x")), tombstone(8), event("u", row(9, "y"))])).toEqual(['delete ["7","8"]', 'insert(update) ["9","y"]']);
  });

  it("skips deletes and tombstones when deletes: false, and updates only in update mode", async () => {
    expect(await statements([event("d", row(7, "x")), tombstone(8), event("u", row(9, "y"))], { deletes: false, mode: "update" })).toEqual(['update ["9","y"]']);
  });

  it("empties the table at a truncate and writes what follows it, when truncates: true", async () => {
    const truncate: ChangeRecord = { ...event("c", row(1, "a")), key: null, value: envelope("t", null, null, source) };
    expect(await statements([event("c", row(1, "a")), truncate, event("c", row(2, "b"))], { truncates: true })).toEqual(["delete all", 'insert(update) ["2","b"]']);
    expect(await statements([event("c", row(1, "a")), truncate], { truncates: false })).toEqual(['insert(update) ["1","a"]']);
  });
});

describe("what a record asks", () => {
  it("unwraps an envelope, treats a plain record as a row, and a null value as a delete", () => {
    const [c, plain, tomb] = sinkRecords([event("c", row(1, "a")), { ...event("c", row(1, "a")), value: row(2, "p"), valueSchema: stream.rowSchema }, tombstone(3)]);
    expect(changeOf(c!)).toMatchObject({ op: "upsert", row: row(1, "a"), origin: { db: "shop", table: "items" } });
    expect(changeOf(plain!)).toMatchObject({ op: "upsert", row: row(2, "p"), origin: undefined });
    expect(changeOf(tomb!)).toMatchObject({ op: "delete", row: undefined });
  });
  it("refuses a value that is no row and an envelope with an unknown op, as the record's fault", () => {
    const [r] = sinkRecords([event("c", row(1, "a"))]);
    expect(() => changeOf({ ...r!, value: "text", valueSchema: "string" })).toThrow(DataError);
    expect(() => changeOf({ ...r!, value: { ...(r!.value as object), op: "x" } })).toThrow(/op "x"/);
  });
});
