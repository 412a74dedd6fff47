import type { FieldPacket } from "mysql2/promise";
import { describe, expect, it } from "vitest";
import { resultColumnInfo, resultShape } from "../../../src/sources/query/mysql-columns.js";

const field = (name: string, columnType: number, extra: Record<string, unknown> = {}): FieldPacket =>
  ({ name, columnType, flags: 1, columnLength: 11, decimals: 0, characterSet: 33, ...extra }) as unknown as FieldPacket;

describe("MySQL result columns of a custom query", () => {
  it("spells each type as information_schema would, for the mapping", () => {
    const types = [
      field("a", 3, { flags: 1 | 32 }),
      field("b", 8),
      field("c", 246, { columnLength: 12, decimals: 2 }),
      field("d", 246, { columnLength: 10, decimals: 0, flags: 1 | 32 }),
      field("e", 12, { decimals: 6 }),
      field("f", 7, { decimals: 0 }),
      field("g", 11, { decimals: 31 }),
      field("h", 253, { characterSet: 63 }),
      field("i", 253),
      field("j", 254, { flags: 1 | 256 }),
      field("k", 252),
      field("l", 252, { characterSet: 63 }),
      field("m", 16, { columnLength: 10 }),
      field("n", 254, { extendedTypeName: "uuid" }),
      field("o", 252, { extendedFormat: "json" }),
      field("p", 4),
    ].map((f) => resultColumnInfo(f).sqlType);
    expect(types).toEqual([
      "int unsigned",
      "bigint",
      "decimal(10,2)",
      "decimal(10,0) unsigned",
      "datetime(6)",
      "timestamp",
      "time(6)",
      "varbinary",
      "varchar",
      "enum",
      "text",
      "blob",
      "bit(10)",
      "uuid",
      "json",
      "float",
    ]);
  });

  it("takes nullability from the result's flag, which outer joins set", () => {
    expect(resultColumnInfo(field("x", 3, { flags: 0 })).nullable).toBe(true);
    expect(resultColumnInfo(field("x", 3, { flags: 1 })).nullable).toBe(false);
  });

  it("fingerprints names and types, so a DDL changes the shape", () => {
    const before = resultShape([field("id", 3), field("qty", 3)]);
    expect(resultShape([field("id", 3), field("qty", 3)])).toBe(before);
    expect(resultShape([field("id", 3), field("qty", 8)])).not.toBe(before);
    expect(resultShape([field("id", 3), field("qty", 3), field("color", 253)])).not.toBe(before);
    expect(resultShape([field("id", 3), field("qty", 3, { flags: 0 })])).not.toBe(before);
  });
});
