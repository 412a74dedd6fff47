import type { TableMapEvent } from "@vlasky/zongji";
import { describe, expect, it } from "vitest";
import { parseSqlType, quoteMysqlLabels } from "../../../src/runtime/sql-types/mapping.js";
import { binlogSpelling, columnsOf, layoutFromInfoSchema, layoutFromTableMap, liveOverrides } from "../../../src/sources/binlog/table-map.js";

describe("one spelling for the binlog's and information_schema's column types", () => {
  it.each([
    ["int(11)", "int"],
    ["int(10) unsigned", "int unsigned"],
    ["bigint(20) unsigned zerofill", "bigint unsigned"],
    ["tinyint(1)", "tinyint"],
    ["year(4)", "year"],
    ["decimal(10,2) unsigned", "decimal(10,2) unsigned"],
    ["decimal", "decimal(10,0)"],
    ["numeric(5)", "decimal(5,0)"],
    ["float(7,4)", "float"],
    ["double precision", "double"],
    ["uuid", "binary(16)"],
    ["inet6", "binary(16)"],
    ["inet4", "binary(4)"],
    ["bit", "bit(1)"],
    ["char", "char(1)"],
    ["datetime(0)", "datetime"],
    ["timestamp(6)", "timestamp(6)"],
    ["varchar(100)", "varchar(100)"],
    ["enum('a','it''s')", "enum('a','it''s')"],
    ["set('x','y')", "set('x','y')"],
    ["longtext", "longtext"],
  ])("%s is %s", (info, binlog) => {
    expect(binlogSpelling(info, true)).toBe(binlogSpelling(binlog, true));
    expect(binlogSpelling(info, true)).toBe(binlog);
  });

  it("spells ENUM/SET labels as information_schema does, and reads them back exactly, whatever they hold", () => {
    const labels = ["a,b", "it's", "back\\slash", "line\nbreak", "cr\r", "nul\0", "tab\t", "sub\x1a", "😀", "?", ""];
    const spelled = `enum(${quoteMysqlLabels(labels)})`;
    // MariaDB's COLUMN_TYPE: quotes doubled; NUL, newline, carriage return and backslash escaped
    expect(spelled).toBe("enum('a,b','it''s','back\\\\slash','line\\nbreak','cr\\r','nul\\0','tab\t','sub\x1a','😀','?','')");
    expect(parseSqlType(spelled, "mysql").args).toEqual(labels);
    expect(binlogSpelling(spelled, true)).toBe(spelled);
    // the table map's labels, as zongji decodes them, give the same spelling
    const event = { columnNullability: [true], primaryKey: [] } as unknown as TableMapEvent;
    expect(layoutFromTableMap(event, [{ COLUMN_NAME: "e", COLUMN_TYPE: "enum(unescaped)", ENUM_VALUES: labels }], true).columns[0]!.sqlType).toBe(spelled);
  });

  it("spells MariaDB's JSON as the longtext the binlog says, MySQL's as json", () => {
    expect(binlogSpelling("json", true)).toBe("longtext");
    expect(binlogSpelling("json", false)).toBe("json");
  });

  it("keeps what only information_schema knows as overrides, which lapse when the column's binlog type changes", () => {
    const { layout, overrides } = layoutFromInfoSchema(
      {
        columns: [
          { name: "id", dialect: "mysql", sqlType: "int(11)", nullable: false },
          { name: "u", dialect: "mysql", sqlType: "uuid", nullable: true },
          { name: "j", dialect: "mysql", sqlType: "json", nullable: true },
          { name: "status", dialect: "mysql", sqlType: "varchar(10)", nullable: false, defaultValue: "new" },
          { name: "note", dialect: "mysql", sqlType: "text", nullable: true, defaultValue: "ignored: nullable" },
        ],
        primaryKey: ["id"],
      },
      true,
    );
    expect(overrides).toEqual({ u: { for: "binary(16)", type: "uuid" }, j: { for: "longtext", type: "json" }, status: { for: "varchar(10)", default: "new" } });
    expect(columnsOf(layout, overrides).map((c) => [c.name, c.sqlType, c.nullable, c.defaultValue])).toEqual([
      ["id", "int", false, undefined],
      ["u", "uuid", true, undefined],
      ["j", "json", true, undefined],
      ["status", "varchar(10)", false, "new"],
      ["note", "text", true, undefined],
    ]);
    const retyped = { ...layout, columns: layout.columns.map((c) => (c.name === "u" ? { ...c, sqlType: "varbinary(16)" } : c)) };
    expect(Object.keys(liveOverrides(retyped, overrides))).toEqual(["j", "status"]);
    expect(columnsOf(retyped, overrides).find((c) => c.name === "u")?.sqlType).toBe("varbinary(16)");
  });
});

const schemas = [
  { COLUMN_NAME: "id", COLUMN_TYPE: "int(11)" },
  { COLUMN_NAME: "note", COLUMN_TYPE: "varchar(20)" },
];

describe("the layout of a table map", () => {
  it("takes each column's nullability from the table map", () => {
    const layout = layoutFromTableMap({ columnNullability: [false, true], primaryKey: [0] } as unknown as TableMapEvent, schemas, false);
    expect(layout).toEqual({
      columns: [
        { name: "id", sqlType: "int", nullable: false },
        { name: "note", sqlType: "varchar(20)", nullable: true },
      ],
      primaryKey: ["id"],
    });
  });

  it("stops with PATCH_MISSING, not every column nullable, when zongji is unpatched", () => {
    expect(() => layoutFromTableMap({ primaryKey: [0] } as unknown as TableMapEvent, schemas, false)).toThrow(
      expect.objectContaining({ code: "PATCH_MISSING", fix: expect.stringContaining("patch-package") }),
    );
  });
});
