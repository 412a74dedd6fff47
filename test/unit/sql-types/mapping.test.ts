import { describe, expect, it } from "vitest";
import type { AvroSchema } from "../../../src/runtime/connector.js";
import { tableStream } from "../../../src/runtime/sql-types/envelope.js";
import { avroType } from "../../../src/runtime/avro/logical-types.js";
import { mappingMarkdown } from "../../../src/runtime/sql-types/mapping-doc.js";
import { mapColumn, parseSqlType, type ColumnInfo, type Dialect } from "../../../src/runtime/sql-types/mapping.js";
import { avroToSqlType, toSqlParam } from "../../../src/runtime/sql-types/to-sql.js";

const column = (dialect: Dialect, sqlType: string, extra: Partial<ColumnInfo> = {}): ColumnInfo => ({ name: "c", dialect, sqlType, nullable: false, ...extra });

/** The branch beside PostgreSQL's dates and times for what their logical types cannot hold. */
const TEXT = { type: "string", "connect.name": "io.liberator.time.Text" };

/** The field's Avro type without the source-type parameters every field carries. */

function bare(type: unknown): unknown {
  if (Array.isArray(type)) return type.map(bare);
  if (typeof type !== "object" || type === null) return type;
  const { "connect.parameters": parameters, ...rest } = type as Record<string, unknown>;
  const { "liberator.sql.dialect": _d, "liberator.sql.type": _t, ...own } = (parameters ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = Object.keys(own).length > 0 ? { ...rest, "connect.parameters": own } : rest;
  if (out.items) out.items = bare(out.items);
  return Object.keys(out).length === 1 && typeof out.type === "string" ? out.type : out;
}

describe("the SQL → Avro mapping table", () => {
  it.each([
    ["tinyint(4)", "int", -128, -128],
    ["mediumint(8) unsigned", "int", 16777215, 16777215],
    ["int(10) unsigned", "long", 4294967295, 4294967295n],
    ["bigint(20)", "long", "-9223372036854775808", -9223372036854775808n],
    ["bigint(20) unsigned", { type: "bytes", logicalType: "decimal", precision: 20, scale: 0 }, "18446744073709551615", "18446744073709551615"],
    ["bigint(20) unsigned", { type: "bytes", logicalType: "decimal", precision: 20, scale: 0 }, 42, "42"],
    ["decimal(65,30)", { type: "bytes", logicalType: "decimal", precision: 65, scale: 30 }, "-1.5", `-1.5${"0".repeat(29)}`],
    ["decimal(10,2) unsigned zerofill", { type: "bytes", logicalType: "decimal", precision: 10, scale: 2 }, "00012.30", "12.30"],
    ["float", "float", 3.4028234663852886e38, 3.4028234663852886e38],
    ["double", "double", "5e-324", 5e-324],
    ["bit(1)", "boolean", Buffer.from([1]), true],
    ["bit(64)", "bytes", Buffer.alloc(8, 0xff), Buffer.alloc(8, 0xff)],
    ["bit(10)", "bytes", Buffer.from([0x03]), Buffer.from([0x00, 0x03])],
    ["varchar(20)", "string", "😀", "😀"],
    ["longblob", "bytes", Buffer.from([0, 255]), Buffer.from([0, 255])],
    ["json", { type: "string", "connect.name": "io.debezium.data.Json" }, '{"a": "é"}', '{"a": "é"}'],
    ["enum('a,b','it''s')", { type: "string", "connect.name": "io.debezium.data.Enum", "connect.parameters": { allowed: "a,b,it's", "liberator.enum.labels": '["a,b","it\'s"]' } }, "it's", "it's"],
    ["set('a','b','c')", { type: "array", items: "string" }, "a,c", ["a", "c"]],
    ["set('a','b')", { type: "array", items: "string" }, "", []],
    ["year(4)", "int", 2155, 2155],
    ["date", { type: "int", logicalType: "date" }, "1000-01-01", "1000-01-01"],
    ["datetime(6)", { type: "long", logicalType: "local-timestamp-micros" }, "9999-12-31 23:59:59.999999", "9999-12-31T23:59:59.999999"],
    ["timestamp(6)", { type: "long", logicalType: "timestamp-micros" }, "2038-01-19 03:14:07.999999", "2038-01-19T03:14:07.999999Z"],
    ["time(6)", { type: "long", "connect.name": "io.debezium.time.MicroTime" }, "-838:59:59", "-838:59:59.000000"],
    ["uuid", { type: "string", logicalType: "uuid" }, Buffer.from("123e4567e89b12d3a456426614174000", "hex"), "123e4567-e89b-12d3-a456-426614174000"],
    ["inet6", "string", Buffer.from("00000000000000000000ffff01020304", "hex"), "::ffff:1.2.3.4"],
    ["inet4", "string", Buffer.from([10, 0, 0, 1]), "10.0.0.1"],
  ])("maps MySQL %s to %j and reads %s as %s", (sqlType, avro, driver, canonical) => {
    const mapped = mapColumn(column("mysql", sqlType));
    expect(bare(mapped.field.type)).toEqual(avro);
    expect(mapped.fromDriver(driver)).toEqual(canonical);
  });

  it.each([
    ["integer", "int", "-2147483648", -2147483648],
    ["bigint", "long", "9223372036854775807", 9223372036854775807n],
    ["numeric(10,2)", { type: "bytes", logicalType: "decimal", precision: 10, scale: 2 }, "-12.30", "-12.30"],
    ["numeric", { type: "string", "connect.name": "io.liberator.data.Numeric" }, "NaN", "NaN"],
    ["real", "float", "-Infinity", -Infinity],
    ["double precision", "double", "1.7976931348623157e+308", 1.7976931348623157e308],
    ["boolean", "boolean", "t", true],
    ["character(5)", "string", "ab   ", "ab   "],
    ["bytea", "bytes", "\\x00ff", Buffer.from([0, 255])],
    ["jsonb", { type: "string", "connect.name": "io.debezium.data.Json" }, '{"a": 1}', '{"a": 1}'],
    ["uuid", { type: "string", logicalType: "uuid" }, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"],
    ["inet", "string", "::ffff:1.2.3.4", "::ffff:1.2.3.4"],
    ["date", [{ type: "int", logicalType: "date" }, TEXT], "4713-01-01 BC", "-004712-01-01"],
    ["timestamp(6) without time zone", [{ type: "long", logicalType: "local-timestamp-micros" }, TEXT], "infinity", "infinity"],
    ["timestamp with time zone", [{ type: "long", logicalType: "timestamp-micros" }, TEXT], "1970-01-01 00:00:00.000001+00", "1970-01-01T00:00:00.000001Z"],
    ["time without time zone", [{ type: "long", logicalType: "time-micros" }, TEXT], "24:00:00", "24:00:00.000000"],
    ["time with time zone", "string", "23:59:59.999999+14:59", "23:59:59.999999+14:59"],
    ["interval", { type: "string", "connect.name": "io.debezium.time.Interval" }, "P10M3DT-4H-5M-6.789012S", "P10M3DT-4H-5M-6.789012S"],
    ["bit(1)", "boolean", "1", true],
    ["bit(5)", "string", "10101", "10101"],
    ["integer[]", { type: "array", items: ["null", "int"] }, "{1,NULL,3}", [1, null, 3]],
    ["bytea[]", { type: "array", items: ["null", "bytes"] }, '{"\\\\x00ff"}', [Buffer.from([0, 255])]],
  ])("maps PostgreSQL %s to %j and reads %s as %s", (sqlType, avro, driver, canonical) => {
    const mapped = mapColumn(column("postgres", sqlType));
    expect(bare(mapped.field.type)).toEqual(avro);
    expect(mapped.fromDriver(driver)).toEqual(canonical);
  });

  it("maps a PostgreSQL enum type, and arrays of it, to strings with their labels", () => {
    const mapped = mapColumn(column("postgres", "mood", { enumValues: ["sad", "ok"] }));
    expect(bare(mapped.field.type)).toEqual({ type: "string", "connect.name": "io.debezium.data.Enum", "connect.parameters": { allowed: "sad,ok", "liberator.enum.labels": '["sad","ok"]' } });
    expect(mapColumn(column("postgres", "mood[]", { enumValues: ["sad", "ok"] })).fromDriver("{sad,ok}")).toEqual(["sad", "ok"]);
  });

  it("makes a nullable column a union with null, default null", () => {
    const field = mapColumn(column("mysql", "int(11)", { nullable: true, defaultValue: "5" })).field;
    expect(bare(field.type)).toEqual(["null", "int"]);
    expect(field.default).toBe(null);
  });

  it("carries a NOT NULL column's literal default in Avro's JSON encoding of the type", () => {
    const def = (sqlType: string, defaultValue: string, dialect: Dialect = "mysql") => mapColumn(column(dialect, sqlType, { defaultValue })).field.default;
    expect(def("int(11)", "-5")).toBe(-5);
    expect(def("varchar(20)", "it's")).toBe("it's");
    expect(def("bigint(20)", "9007199254740993")).toBeUndefined(); // past 2^53: JSON cannot hold it exactly
    expect(def("decimal(10,2)", "1.5")).toBe("\u0000\u0096");
    expect(def("datetime(6)", "2000-01-01 00:00:00.000000")).toBe(946684800000000);
    expect(def("date", "1970-01-02")).toBe(1);
    expect(def("set('a','b')", "a,b")).toEqual(["a", "b"]);
    expect(def("boolean", "true", "postgres")).toBe(true);
    expect(def("date", "0000-00-00")).toBeUndefined();
    // the default really is valid for the field: avsc accepts the schema
    const field = mapColumn(column("mysql", "decimal(10,2)", { defaultValue: "1.5" })).field;
    const reader = avroType({ type: "record", name: "R", fields: [field] } as unknown as AvroSchema);
    const writer = avroType({ type: "record", name: "R", fields: [] } as unknown as AvroSchema);
    expect(reader.fromBuffer(writer.toBuffer({}), reader.createResolver(writer))).toEqual({ c: "1.50" });
  });

  it("refuses MySQL's zero dates unless zeroDates is null, which makes the field nullable", () => {
    const strict = mapColumn(column("mysql", "datetime"));
    expect(() => strict.fromDriver("0000-00-00 00:00:00")).toThrow(/column "c" \(datetime\): "0000-00-00 00:00:00" is the zero date/);
    const lenient = mapColumn(column("mysql", "date"), { zeroDates: "null" });
    expect(lenient.fromDriver("0000-00-00")).toBe(null);
    expect(bare(lenient.field.type)).toEqual(["null", { type: "int", logicalType: "date" }]);
    expect(lenient.zeroDatesAsNull).toBe(true);
  });

  // issue 15, Found 5: zeroDates: "null" also turned 2020-00-15 into null
  it("leaves dates with a zero month, day or year to partialZeroDates, so zeroDates: null never nulls them unasked", () => {
    const zeroOnly = mapColumn(column("mysql", "datetime(1)"), { zeroDates: "null" });
    expect(zeroOnly.fromDriver("0000-00-00 00:00:00.0")).toBe(null);
    for (const partial of ["2020-00-15 00:00:00.0", "2020-01-00 10:00:00.5", "0000-01-01 00:00:00.0", "0000-00-00 10:00:00.0"]) {
      expect(() => zeroOnly.fromDriver(partial), partial).toThrow(expect.objectContaining({ code: "SCHEMA_ZERO_DATE", fix: expect.stringContaining("partialZeroDates: null") }));
    }
    const both = mapColumn(column("mysql", "date"), { partialZeroDates: "null" });
    expect(both.fromDriver("2020-00-15")).toBe(null);
    expect(() => both.fromDriver("0000-00-00")).toThrow(expect.objectContaining({ fix: expect.stringContaining("zeroDates: null") }));
  });

  // issue 15, Found 5: a zero date in a primary-key column became a NULL key, which sinks refuse
  it("refuses at start a key column that a zero-date policy would read as null, naming table, column and fix", () => {
    const table = { columns: [column("mysql", "date", { name: "day" }), column("mysql", "int", { name: "n" })], primaryKey: ["day"] };
    for (const mapping of [{ zeroDates: "null" as const }, { partialZeroDates: "null" as const }]) {
      expect(() => tableStream(table, { topic: "t", table: "shop.days", mapping })).toThrow(
        expect.objectContaining({ code: "SCHEMA_ZERO_DATE_KEY", message: expect.stringMatching(/^shop\.days: key column "day"/), fix: expect.stringContaining("keyColumns") }),
      );
    }
    expect(tableStream(table, { topic: "t" }).keySchema).toBeTruthy();
    expect(tableStream({ ...table, primaryKey: ["n"] }, { topic: "t", mapping: { zeroDates: "null" } }).keySchema).toBeTruthy();
  });

  it("refuses dates read as JS Dates, which lost the microseconds", () => {
    expect(() => mapColumn(column("mysql", "datetime(6)")).fromDriver(new Date())).toThrow(/dateStrings/);
  });

  it("reads FLOAT through an exact CAST, since the text protocol prints 6 digits", () => {
    expect(mapColumn(column("mysql", "float")).select("`f`")).toBe("CAST(`f` AS DOUBLE)");
    expect(mapColumn(column("mysql", "double")).select("`d`")).toBe("`d`");
  });

  it("names the column and type it cannot map", () => {
    expect(() => mapColumn({ name: "shape", dialect: "mysql", sqlType: "geometry", nullable: true })).toThrow(
      expect.objectContaining({ code: "SCHEMA_TYPE_UNSUPPORTED", message: expect.stringContaining('column "shape" has type geometry') }),
    );
  });

  it("renames columns that are no valid Avro names and remembers the SQL name", () => {
    const field = mapColumn({ name: "order-id", dialect: "mysql", sqlType: "int", nullable: false }).field;
    expect(field.name).toBe("order_id");
    expect(field["liberator.column"]).toBe("order-id");
    expect(mapColumn({ name: "1st", dialect: "mysql", sqlType: "int", nullable: false }).field.name).toBe("_1st");
  });

  it("records the source column type, so a sink on the same dialect recreates it exactly", () => {
    const field = mapColumn(column("mysql", "enum('a','b')", { nullable: true })).field;
    expect(avroToSqlType(field, "mysql")).toBe("enum('a','b')");
    expect(avroToSqlType(field, "postgres")).toBe("text");
    expect(avroToSqlType(mapColumn(column("mysql", "bigint(20) unsigned")).field, "postgres")).toBe("numeric(20,0) NOT NULL");
    expect(avroToSqlType(mapColumn(column("postgres", "mood", { enumValues: ["a"] })).field, "postgres")).toBe("text NOT NULL");
    expect(avroToSqlType(mapColumn(column("postgres", "timestamp(6) with time zone")).field, "mysql")).toBe("DATETIME(6) NOT NULL");
    expect(avroToSqlType(mapColumn(column("postgres", "numeric(70,40)")).field, "mysql")).toBe("LONGTEXT NOT NULL");
  });

  it("writes values back in each dialect's own spelling", () => {
    const field = (dialect: Dialect, sqlType: string) => mapColumn(column(dialect, sqlType)).field;
    expect(toSqlParam("2038-01-19T03:14:07.999999Z", field("mysql", "timestamp(6)"), "mysql")).toBe("2038-01-19 03:14:07.999999");
    expect(toSqlParam("-004712-01-01T00:00:00.000000", field("postgres", "timestamp"), "postgres")).toBe("4713-01-01T00:00:00.000000 BC");
    expect(toSqlParam("0000-01-01", field("postgres", "date"), "postgres")).toBe("0001-01-01 BC");
    expect(toSqlParam(["a", "c"], field("mysql", "set('a','b','c')"), "mysql")).toBe("a,c");
    expect(toSqlParam([1n, null], field("postgres", "bigint[]"), "postgres")).toEqual(["1", null]);
    expect(toSqlParam(18446744073709551615n, field("mysql", "bigint"), "mysql")).toBe("18446744073709551615");
    expect(toSqlParam(true, field("mysql", "bit(1)"), "mysql")).toBe(1);
  });

  it("parses COLUMN_TYPE and format_type spellings", () => {
    expect(parseSqlType("decimal(10,2) unsigned zerofill", "mysql")).toEqual({ base: "decimal", args: ["10", "2"], unsigned: true, array: false });
    expect(parseSqlType("timestamp(6) with time zone", "postgres")).toEqual({ base: "timestamp with time zone", args: ["6"], unsigned: false, array: false });
    expect(parseSqlType("character varying(20)[]", "postgres")).toEqual({ base: "character varying", args: ["20"], unsigned: false, array: true });
    expect(parseSqlType("interval day to second(3)", "postgres").base).toBe("interval");
  });

  it("shows every type the issue names in the README table", () => {
    const table = mappingMarkdown();
    for (const name of ["DECIMAL", "BIGINT", "DATETIME", "TIMESTAMP", "DATE", "TIME", "CHAR", "VARCHAR", "TEXT", "BINARY", "VARBINARY", "BLOB", "BYTEA", "JSON", "JSONB", "ENUM", "SET", "BIT", "YEAR", "UUID", "INET4", "INET6", "INET", "INTERVAL", "T[]", "NUMERIC"]) {
      expect(table).toContain(name);
    }
    expect(table.split("\n").length).toBeGreaterThan(30);
    // every row has its seven cells: a "|" inside a cell is escaped
    for (const row of table.split("\n")) expect(row.split(/(?<!\\)\|/).length, row).toBe(9);
  });

  describe("a table's stream", () => {
    const table = {
      columns: [
        { name: "id", dialect: "mysql", sqlType: "bigint(20)", nullable: false },
        { name: "amount", dialect: "mysql", sqlType: "decimal(10,2)", nullable: false },
        { name: "note", dialect: "mysql", sqlType: "text", nullable: true },
      ] satisfies ColumnInfo[],
      primaryKey: ["id"],
    };

    it("builds a Debezium envelope, a key record and converters from driver rows", () => {
      const stream = tableStream(table, { topic: "shop.db.orders" });
      expect(stream.topic).toBe("shop.db.orders");
      const value = stream.valueSchema as { name: string; namespace: string; fields: { name: string }[] };
      expect(`${value.namespace}.${value.name}`).toBe("shop.db.orders.Envelope");
      expect(value.fields.map((f) => f.name)).toEqual(["before", "after", "source", "op", "ts_ms", "transaction"]);
      const row = stream.row({ id: "7", amount: "1.5", note: null });
      expect(row).toEqual({ id: 7n, amount: "1.50", note: null });
      expect(stream.keyOf(row)).toEqual({ id: 7n });
      const envelopeType = avroType(stream.valueSchema);
      const change = {
        before: null,
        after: row,
        op: "c",
        source: { connector: "binlog", name: "shop", db: "db", table: "orders", ts_ms: 1n },
        ts_ms: 2n,
        transaction: null,
      };
      expect(envelopeType.fromBuffer(envelopeType.toBuffer(change))).toEqual({
        ...change,
        source: { ...change.source, file: null, pos: null, gtid: null, row: null, snapshot: null, txId: null },
      });
    });

    it("has a null key without a primary key or key columns", () => {
      expect(tableStream({ ...table, primaryKey: [] }, { topic: "t" }).keySchema).toBe(null);
      expect(tableStream({ ...table, primaryKey: [] }, { topic: "t", keyColumns: ["note"] }).key.map((c) => c.column)).toEqual(["note"]);
    });

    it("refuses two columns that would become the same field", () => {
      const clash = { columns: [...table.columns, { name: "no-te", dialect: "mysql", sqlType: "int", nullable: true } as ColumnInfo, { name: "no_te", dialect: "mysql", sqlType: "int", nullable: true } as ColumnInfo], primaryKey: [] };
      expect(() => tableStream(clash, { topic: "t" })).toThrow(/columns "no-te" and "no_te" both become Avro field "no_te"/);
    });
  });
});
