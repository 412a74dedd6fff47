import { describe, expect, it } from "vitest";
import { describeDiff, diffSchemas } from "../../../src/runtime/governance/schema-diff.js";
import { tableStream } from "../../../src/runtime/sql-types/envelope.js";
import type { ColumnInfo } from "../../../src/runtime/sql-types/mapping.js";

const column = (name: string, sqlType: string, nullable = false): ColumnInfo => ({ name, dialect: "mysql", sqlType, nullable });
const envelopeOf = (columns: ColumnInfo[]) => tableStream({ columns, primaryKey: ["id"] }, { topic: "demo.shop.orders" }).valueSchema;

describe("schema diff for change notices", () => {
  it("names the columns of an envelope's row that were added, removed and changed", () => {
    const before = envelopeOf([column("id", "int(11)"), column("amount", "decimal(10,2)"), column("fax", "varchar(20)", true)]);
    const after = envelopeOf([column("id", "int(11)"), column("amount", "decimal(12,2)"), column("note", "varchar(200)", true)]);
    const diff = diffSchemas(before, after);
    expect(diff.added).toEqual([{ field: "note", type: '["null",{"type":"string","connect.parameters":{"liberator.sql.dialect":"mysql","liberator.sql.type":"varchar(200)"}}]' }]);
    expect(diff.removed.map((f) => f.field)).toEqual(["fax"]);
    expect(diff.changed.map((f) => f.field)).toEqual(["amount"]);
    expect(diff.changed[0]!.from).toContain('"precision":10');
    expect(diff.changed[0]!.to).toContain('"precision":12');
    expect(describeDiff(diff)).toBe("added note; removed fax; changed amount");
  });

  it("treats every field as added for a new subject, and sees a PII handling change as a change", () => {
    const plain = { type: "record", name: "E", fields: [{ name: "email", type: "string" }] };
    expect(diffSchemas(null, plain).added.map((f) => f.field)).toEqual(["email"]);
    const hashed = { ...plain, fields: [{ name: "email", type: "string", "liberator.pii": "hashed" }] };
    expect(diffSchemas(plain, hashed).changed.map((f) => f.field)).toEqual(["email"]);
    expect(describeDiff(diffSchemas(plain, { ...plain, doc: "x" }))).toBe("no field changed (metadata or record properties only)");
  });
});
