import { describe, expect, it } from "vitest";
import { rowRanges } from "../../../src/sinks/sql/chunks.js";
import { sqlSinkConfig } from "../../../src/sinks/sql/config.js";
import { castType, pgArray, pgText } from "../../../src/sinks/sql/postgres.js";
import { tableRefOf, resolveTable } from "../../../src/sinks/sql/table-name.js";

describe("sql sink config", () => {
  const base = { name: "s", type: "sql", topics: "a.b.c, a.b.d" };
  it("takes the port from the dialect, and mariadb as a name of mysql", () => {
    expect(sqlSinkConfig.parse({ ...base, dialect: "postgres", connection: { user: "u" } }).connection.port).toBe(5432);
    const my = sqlSinkConfig.parse({ ...base, dialect: "mariadb", connection: { user: "u", database: "d" } });
    expect([my.dialect, my.connection.port, my.topics]).toEqual(["mysql", 3306, ["a.b.c", "a.b.d"]]);
  });
  it("needs the database for MySQL/MariaDB, and defaults to upsert with deletes into {table}", () => {
    expect(sqlSinkConfig.safeParse({ ...base, dialect: "mysql", connection: { user: "u" } }).error?.issues[0]?.path).toEqual(["connection", "database"]);
    expect(sqlSinkConfig.parse({ ...base, dialect: "postgres", connection: { user: "u" } })).toMatchObject({ mode: "upsert", deletes: true, table: "{table}", autoCreate: true, autoEvolve: true });
  });
});

describe("target table names", () => {
  it("fills {table} and {db} from the envelope's source, else from the topic's last segments", () => {
    for (const dialect of ["postgres", "mysql"] as const) {
      expect(resolveTable("{table}", "app.shop.orders", { db: "legacy", table: "Orders" }, dialect)).toEqual({ name: "Orders" });
      expect(resolveTable("{db}.{table}", "app.shop.orders", undefined, dialect)).toEqual({ schema: "shop", name: "orders" });
      expect(resolveTable("raw_{topic}", "app.shop.orders-v2", undefined, dialect)).toEqual({ name: "raw_app_shop_orders_v2" });
    }
  });
  it("keeps the PostgreSQL schema a query source names its tables with for a PostgreSQL target, and leaves it out on MySQL/MariaDB, where it would be a database", () => {
    const origin = { db: "shop", table: "sales.orders" };
    expect(resolveTable("{table}", "app.sales.orders", origin, "postgres")).toEqual({ schema: "sales", name: "orders" });
    expect(resolveTable("{table}", "app.sales.orders", origin, "mysql")).toEqual({ name: "orders" });
    expect(resolveTable("{db}.{table}", "app.sales.orders", origin, "mysql")).toEqual({ schema: "shop", name: "orders" });
    expect(resolveTable("copy_{table}", "app.sales.orders", origin, "mysql")).toEqual({ name: "copy_orders" });
  });
  it("reads an optional schema before the first dot", () => {
    expect(tableRefOf("analytics.orders")).toEqual({ schema: "analytics", name: "orders" });
    expect(tableRefOf("orders")).toEqual({ name: "orders" });
  });
});

describe("PostgreSQL array parameters", () => {
  it("casts to the column's type without modifiers, which would cut values silently", () => {
    expect(castType("character varying(64)")).toBe("character varying");
    expect(castType("numeric(10,2)")).toBe("numeric");
    expect(castType("timestamp(6) with time zone")).toBe("timestamp with time zone");
    expect(castType("bit(3)")).toBe("bit varying");
    expect(castType("character(10)[]")).toBe("bpchar[]");
    expect(castType('"Mood"')).toBe('"Mood"');
  });
  it("writes every value as the exact text of an array element", () => {
    expect([pgText(null), pgText(9007199254740993n), pgText(true), pgText(Buffer.from([0, 255])), pgText(Number.NaN), pgText(-0), pgText(["a", null])]).toEqual([
      null,
      "9007199254740993",
      "t",
      "\\x00ff",
      "NaN",
      "-0",
      '{"a",NULL}',
    ]);
    expect(pgArray(['say "hi"', "back\\slash", null, ""])).toBe('{"say \\"hi\\"","back\\\\slash",NULL,""}');
  });
});

describe("statement ranges", () => {
  it("cuts rows by count and by bytes, never splitting a row", () => {
    const params = ["aaaa", 1, "bbbb", 2, "cccc", 3, "dddd", 4, "eeee", 5];
    expect(rowRanges(params, 2, 2, 1_000)).toEqual([
      [0, 2],
      [2, 4],
      [4, 5],
    ]);
    expect(rowRanges(params, 2, 100, 20)).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
      [3, 4],
      [4, 5],
    ]);
    expect(rowRanges([], 3, 10, 10)).toEqual([]);
  });
});
