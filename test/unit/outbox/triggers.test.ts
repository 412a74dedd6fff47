import { describe, expect, it } from "vitest";
import type { ColumnInfo } from "../../../src/runtime/sql-types/mapping.js";
import { objectName } from "../../../src/sources/outbox/sql.js";
import { capturedColumns, decodeImageValue } from "../../../src/sources/outbox/triggers.js";

const col = (name: string, sqlType: string, dialect: "mysql" | "postgres" = "mysql"): ColumnInfo => ({ name, sqlType, dialect, nullable: true });

describe("change-capture images", () => {
  it("read back MySQL's encodings as the driver would have read the value", () => {
    expect(decodeImageValue(col("b", "varbinary(4)"), "00FF")).toEqual(Buffer.from([0, 255]));
    expect(decodeImageValue(col("f", "bit(1)"), "01")).toEqual(Buffer.from([1]));
    expect(decodeImageValue(col("t", "timestamp(6)"), "1709251199.123456")).toBe("2024-02-29T23:59:59.123456");
    expect(decodeImageValue(col("t", "timestamp"), "0")).toBe("0000-00-00 00:00:00");
    expect(decodeImageValue(col("d", "decimal(10,2)"), "12.30")).toBe("12.30");
    expect(decodeImageValue(col("x", "bytea", "postgres"), "\\x00ff")).toBe("\\x00ff");
    expect(decodeImageValue(col("x", "text"), null)).toBe(null);
  });

  it("capture the chosen columns and always the primary key, in table order", () => {
    const table = { columns: [col("a", "int"), col("id", "int"), col("b", "text"), col("c", "text")], primaryKey: ["id"] };
    expect(capturedColumns(table, ["c", "a"], "db.t").map((c) => c.name)).toEqual(["a", "id", "c"]);
    expect(capturedColumns(table, [], "db.t")).toHaveLength(4);
    expect(() => capturedColumns(table, ["a", "nope"], "db.t")).toThrow(/db\.t has no column "nope" \(its columns: a, id, b, c\)/);
  });

  it("name their triggers within the identifier limit, distinct for long table names", () => {
    const long = "x".repeat(80);
    const [a, b] = [objectName("liberator_cdc", `${long}a`, "_ins"), objectName("liberator_cdc", `${long}b`, "_ins")];
    expect(a.length).toBeLessThanOrEqual(63);
    expect(a).not.toBe(b);
    expect(a.endsWith("_ins")).toBe(true);
  });
});
