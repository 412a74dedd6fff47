import { describe, expect, it } from "vitest";
import type { TableDescription } from "../../../src/runtime/db/introspect.js";
import type { ColumnInfo } from "../../../src/runtime/sql-types/mapping.js";
import type { StreamConfig } from "../../../src/sources/query/config.js";
import { planStream } from "../../../src/sources/query/plan.js";

const col = (name: string, sqlType: string, nullable = false): ColumnInfo => ({ name, dialect: "mysql", sqlType, nullable });
const orders: TableDescription = {
  columns: [col("id", "int(11)"), col("item", "varchar(40)"), col("updated_at", "timestamp(6)"), col("note", "text", true), col("code", "varchar(10)", true)],
  primaryKey: ["id"],
};
const stream = (fields: Partial<StreamConfig>): StreamConfig => ({ topic: "t", schema: "shop", table: "orders", at: "tables[0]", mode: "incrementing", ...fields });
const problems = (fields: Partial<StreamConfig>, table = orders) => planStream(stream(fields), table).problems.map((p) => `${p.code}: ${p.message}`);

describe("a stream's plan", () => {
  it("orders by the right columns in each mode, the incrementing column defaulting to an integer primary key", () => {
    const cursor = (fields: Partial<StreamConfig>) => planStream(stream(fields), orders).plan!.cursor.map((c) => c.name);
    expect(cursor({ mode: "incrementing" })).toEqual(["id"]);
    expect(cursor({ mode: "timestamp", timestampColumn: "updated_at" })).toEqual(["updated_at", "id"]);
    expect(cursor({ mode: "timestamp+incrementing", timestampColumn: "updated_at" })).toEqual(["updated_at", "id"]);
    expect(cursor({ mode: "bulk" })).toEqual(["id"]);
  });

  it("names every column that is missing, left out, or of the wrong type", () => {
    expect(problems({ mode: "timestamp", timestampColumn: "changed" })).toEqual([
      'QUERY_COLUMN_MISSING: table shop.orders has no column "changed" (timestampColumn); its columns are: id, item, updated_at, note, code',
    ]);
    expect(problems({ mode: "timestamp+incrementing", timestampColumn: "item", incrementingColumn: "note" })).toEqual([
      'QUERY_COLUMN_TYPE: table shop.orders: incrementingColumn "note" is text, not an integer: mode timestamp+incrementing needs an ever-growing integer (AUTO_INCREMENT, a sequence)',
      'QUERY_COLUMN_TYPE: table shop.orders: timestampColumn "item" is varchar(40), not a date-time: it needs DATETIME or TIMESTAMP',
      'QUERY_COLUMN_NULLABLE: table shop.orders: column "note" orders the rows but allows NULL; rows with NULL there would never be read',
    ]);
    expect(problems({ mode: "incrementing", columns: { exclude: ["id"] } })).toEqual([
      'QUERY_COLUMN_EXCLUDED: table shop.orders: column "id" is the key but is left out by tables[0].columns',
      'QUERY_COLUMN_EXCLUDED: table shop.orders: column "id" is the incrementing column but is left out by tables[0].columns',
    ]);
  });

  it("refuses a table without a key where rows must be ordered, and a nullable ordering column", () => {
    const heap: TableDescription = { columns: orders.columns, primaryKey: [] };
    expect(problems({ mode: "bulk" }, heap)).toEqual([expect.stringContaining("QUERY_KEY_MISSING: table shop.orders has no primary key: mode bulk needs one (or keyColumns)")]);
    expect(problems({ mode: "incrementing" }, heap)).toEqual([expect.stringContaining("has no one-column integer primary key")]);
    expect(problems({ mode: "bulk", keyColumns: ["code"] }, heap)).toEqual([expect.stringContaining('QUERY_COLUMN_NULLABLE: table shop.orders: column "code" orders the rows but allows NULL')]);
  });

  it("reads an include list in its own order, or all columns but the excluded ones", () => {
    expect(planStream(stream({ columns: { include: ["item", "id"] } }), orders).plan).toMatchObject({ explicit: true, columns: [{ name: "item" }, { name: "id" }] });
    expect(planStream(stream({ columns: { exclude: ["note"] } }), orders).plan!.columns.map((c) => c.name)).toEqual(["id", "item", "updated_at", "code"]);
  });
});
