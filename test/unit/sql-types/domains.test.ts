import { describe, expect, it } from "vitest";
import { columnDomain, fieldDomain, gaps } from "../../../src/runtime/sql-types/domains.js";
import { MAPPING, mapColumn, quoteMysqlLabels, type ColumnInfo, type Dialect } from "../../../src/runtime/sql-types/mapping.js";
import { ErrorCode } from "../../../src/runtime/errors.js";
import { avroToSqlType, toSqlParam } from "../../../src/runtime/sql-types/to-sql.js";

const MYSQL = [
  "tinyint(4)", "tinyint(3) unsigned", "smallint(6) unsigned", "mediumint(9)", "int(11)", "int(10) unsigned", "bigint(20)", "bigint(20) unsigned",
  "decimal(12,4)", "decimal(65,30)", "float", "double", "bit(1)", "bit(9)", "varchar(64)", "char(3)", "text", "longtext", "varbinary(16)", "blob",
  "json", "enum('a','b')", "set('x','y')", "year(4)", "date", "datetime(6)", "datetime", "timestamp(6)", "time(6)", "time", "uuid", "inet6",
];
const POSTGRES = [
  "smallint", "integer", "bigint", "oid", "numeric(10,2)", "numeric(100,50)", "numeric", "real", "double precision", "boolean", "character varying(20)",
  "character(5)", "text", "bytea", "jsonb", "json", "uuid", "inet", "date", "timestamp(6) without time zone", "timestamp(3) with time zone",
  "time(6) without time zone", "time with time zone", "interval", "bit(1)", "bit(12)", "bit varying(8)", "integer[]", "text[]", "mood",
];

const column = (dialect: Dialect, sqlType: string): ColumnInfo => ({ name: "c", dialect, sqlType, nullable: false, ...(sqlType === "mood" ? { enumValues: ["sad", "ok"] } : {}) });
const sources = [...MYSQL.map((t) => column("mysql", t)), ...POSTGRES.map((t) => column("postgres", t))];

describe("column domains", () => {
  it.each(sources.flatMap((c) => (["mysql", "postgres"] as const).map((target) => [c.dialect, c.sqlType, target] as const)))(
    "a %s %s column's values fit the column autoCreate makes on %s, exceptional values aside",
    (dialect, sqlType, target) => {
      const { field } = mapColumn(column(dialect, sqlType));
      const created = avroToSqlType(field, target).replace(/ NOT NULL$/, "");
      const source = fieldDomain(field);
      const holder = columnDomain({ sqlType: created, dialect: target });
      expect(source, "the field's domain").toBeDefined();
      expect(holder, `the domain of ${created}`).toBeDefined();
      expect(gaps(source!, holder!).filter((g) => !g.exceptional)).toEqual([]);
    },
  );

  it("covers every row of the mapping table (its README example) on both targets", () => {
    for (const rule of MAPPING) {
      const example = column(rule.dialect, rule.example?.sqlType ?? rule.sql[0]!);
      const { field } = mapColumn({ ...example, enumValues: rule.example?.enumValues });
      for (const target of ["mysql", "postgres"] as const) {
        const created = avroToSqlType(field, target).replace(/ NOT NULL$/, "");
        const holder = columnDomain({ sqlType: created, dialect: target });
        expect(holder, `${rule.dialect} ${example.sqlType} → ${target} ${created}`).toBeDefined();
        expect(gaps(fieldDomain(field)!, holder!).filter((g) => !g.exceptional), `${rule.dialect} ${example.sqlType} → ${target} ${created}`).toEqual([]);
      }
    }
  });

  it("names what a PostgreSQL time column cannot hold of a MariaDB TIME: negative durations and those past 24:00:00 (issue 15, Found 4)", () => {
    const { field } = mapColumn(column("mysql", "time(6)"));
    expect(gaps(fieldDomain(field)!, columnDomain({ sqlType: "time(6) without time zone", dialect: "postgres" })!)).toEqual([
      { values: "negative durations", exceptional: false },
      { values: "durations past 24:00:00", exceptional: false },
    ]);
    expect(gaps(fieldDomain(field)!, columnDomain({ sqlType: "time(3)", dialect: "mysql" })!)).toEqual([
      { values: "times with more than 3 fraction digits, which it would round", exceptional: false },
    ]);
  });

  it("tells exceptional values from ordinary ones: NaN, infinite dates and unbounded text are named, not refused", () => {
    const pg = (t: string) => fieldDomain(mapColumn(column("postgres", t)).field)!;
    const my = (t: string) => columnDomain({ sqlType: t, dialect: "mysql" })!;
    expect(gaps(pg("double precision"), my("double"))).toEqual([{ values: "NaN, Infinity, -Infinity and -0", exceptional: true }]);
    expect(gaps(pg("date"), my("date"))).toEqual([{ values: "infinity, -infinity and years before 0001 or after 9999", exceptional: true }]);
    expect(gaps(pg("text"), my("varchar(768)"))).toEqual([{ values: "text longer than 768 characters", exceptional: true, length: true }]);
    expect(gaps(pg("character varying(20)"), my("varchar(10)"))).toEqual([{ values: "text longer than 10 characters", exceptional: false, length: true }]);
    expect(gaps(pg("double precision"), my("float"))).toEqual([{ values: "64-bit floating-point numbers, which a 32-bit float rounds", exceptional: false }]);
    expect(gaps(pg("timestamp(6) with time zone"), my("timestamp(6)"))).toEqual([
      { values: "years outside 1970–2037", exceptional: false },
      { values: "infinity, -infinity and years before 0001 or after 9999", exceptional: true },
    ]);
  });

  it("names NUL characters, which PostgreSQL's text and jsonb cannot hold, as exceptional: known at start, a row with one refused, never changed", () => {
    const my = (t: string) => fieldDomain(mapColumn(column("mysql", t)).field)!;
    const pg = (t: string) => columnDomain({ sqlType: t, dialect: "postgres" })!;
    const nul = { values: "text with NUL characters (U+0000)", exceptional: true };
    expect(gaps(my("longtext"), pg("text"))).toEqual([nul]);
    expect(gaps(my("varchar(20)"), pg("character varying(10)"))).toEqual([{ values: "text longer than 10 characters", exceptional: false, length: true }, nul]);
    expect(gaps(my("json"), pg("jsonb"))).toEqual([{ values: "JSON with \\u0000 in a string (jsonb holds no NUL character)", exceptional: true }]);
    // what autoCreate makes holds them: json keeps the document as written; PostgreSQL text into text has none
    expect(gaps(my("json"), pg(avroToSqlType(mapColumn(column("mysql", "json")).field, "postgres").replace(" NOT NULL", "")))).toEqual([]);
    expect(gaps(fieldDomain(mapColumn(column("postgres", "text")).field)!, pg("text"))).toEqual([]);
    expect(gaps(my("text"), columnDomain({ sqlType: "longtext", dialect: "mysql" })!)).toEqual([]);
  });

  it("reads an enum's labels from the exact parameter: a label with a comma is one label, on either dialect", () => {
    const labels = ["a,b", "it's", "back\\slash", "😀", "line\nbreak"];
    const pgField = mapColumn({ ...column("postgres", "mood"), enumValues: labels }).field;
    const myField = mapColumn(column("mysql", `enum(${quoteMysqlLabels(labels)})`)).field;
    expect(fieldDomain(pgField)).toEqual({ kind: "labels", set: false, labels });
    expect(fieldDomain(myField)).toEqual({ kind: "labels", set: false, labels, errorValue: true });
    const created = avroToSqlType(pgField, "mysql").replace(/ NOT NULL$/, "");
    expect(created).toBe(`ENUM(${quoteMysqlLabels(labels)})`);
    expect(gaps(fieldDomain(pgField)!, columnDomain({ sqlType: created, dialect: "mysql" })!)).toEqual([]);
  });

  it("refuses -0 bound for MariaDB, which stores it as 0, as a row the target cannot hold; PostgreSQL keeps it", () => {
    const field = mapColumn(column("postgres", "double precision")).field;
    expect(() => toSqlParam(-0, field, "mysql")).toThrow(expect.objectContaining({ code: ErrorCode.SINK_ROW_REFUSED }));
    expect(Object.is(toSqlParam(-0, field, "postgres"), -0) || toSqlParam(-0, field, "postgres") === "-0").toBe(true);
    expect(toSqlParam(0, field, "mysql")).toBe(0);
  });

  it("refuses NaN and the infinities bound for MariaDB, alone or in an array's JSON, instead of leaving them to the server or JSON.stringify (null)", () => {
    for (const type of ["real", "double precision"]) {
      const field = mapColumn(column("postgres", type)).field;
      for (const v of [NaN, Infinity, -Infinity]) {
        expect(() => toSqlParam(v, field, "mysql")).toThrow(expect.objectContaining({ code: ErrorCode.SINK_ROW_REFUSED }));
        expect(toSqlParam(v, field, "postgres")).toBe(v);
      }
    }
    const array = mapColumn(column("postgres", "double precision[]")).field;
    for (const v of [NaN, -Infinity, -0]) expect(() => toSqlParam([1, v], array, "mysql")).toThrow(expect.objectContaining({ code: ErrorCode.SINK_ROW_REFUSED }));
    expect(toSqlParam([1.5, null], array, "mysql")).toBe("[1.5,null]");
    expect(gaps(fieldDomain(array)!, columnDomain({ sqlType: "json", dialect: "mysql" })!)).toEqual([{ values: "NaN, Infinity, -Infinity and -0 in an array (JSON has no such numbers)", exceptional: true }]);
  });

  it("refuses PostgreSQL's infinities and years outside 0001-9999 bound for a MariaDB DATE or DATETIME, never left to the server's parsing; keeps them as text in an array's JSON", () => {
    for (const type of ["date", "timestamp(6) without time zone", "timestamp(6) with time zone"]) {
      const field = mapColumn(column("postgres", type)).field;
      for (const v of ["infinity", "-infinity", "0000-12-31", "0000-12-31T23:59:59.999999Z", "-004712-01-01", "+010000-01-01T00:00:00.000000Z", "-000043-03-15T00:00:00.000000"]) {
        expect(() => toSqlParam(v, field, "mysql"), `${type} ${v}`).toThrow(expect.objectContaining({ code: ErrorCode.SINK_ROW_REFUSED }));
      }
    }
    expect(toSqlParam("0001-01-01", mapColumn(column("postgres", "date")).field, "mysql")).toBe("0001-01-01");
    expect(toSqlParam("0001-01-01T00:00:00.000000Z", mapColumn(column("postgres", "timestamp(6) with time zone")).field, "mysql")).toBe("0001-01-01 00:00:00.000000");
    expect(toSqlParam(["infinity", "-000043-03-15", "2024-02-29"], mapColumn(column("postgres", "date[]")).field, "mysql")).toBe('["infinity","-000043-03-15","2024-02-29"]');
  });

  it("makes a MariaDB target's column text where an ENUM would change a label: MariaDB strips trailing spaces", () => {
    const field = mapColumn({ ...column("postgres", "mood"), enumValues: ["a", "a "] }).field;
    expect(avroToSqlType(field, "mysql")).toBe("LONGTEXT NOT NULL");
    expect(gaps(fieldDomain(field)!, columnDomain({ sqlType: "longtext", dialect: "mysql" })!)).toEqual([]);
  });

  it("refuses what a column would round or cut: fewer fraction digits, a smaller integer range, missing labels", () => {
    const my = (t: string) => mapColumn(column("mysql", t)).field;
    const pgCol = (t: string) => columnDomain({ sqlType: t, dialect: "postgres" })!;
    expect(gaps(fieldDomain(my("decimal(12,4)"))!, pgCol("numeric(9,2)")).map((g) => g.values)).toEqual([
      "decimals of more than 7 integer digits",
      "decimals of more than 2 fraction digits, which it would round",
    ]);
    expect(gaps(fieldDomain(my("int(10) unsigned"))!, pgCol("integer")).map((g) => g.values)).toEqual(["integers outside -2147483648..2147483647"]);
    expect(gaps(fieldDomain(my("datetime(6)"))!, pgCol("timestamp(0) without time zone")).map((g) => g.values)).toEqual([
      "timestamps with more than 0 fraction digits, which it would round",
    ]);
    expect(gaps(fieldDomain(my("enum('a','b','c')"))!, columnDomain({ sqlType: "enum('a','b')", dialect: "mysql" })!)).toEqual([
      { values: 'the labels "c"', exceptional: false },
      // a strict MariaDB target refuses the error value a source wrote outside strict mode: named at start
      { values: "the ENUM error value '' (index 0)", exceptional: true },
    ]);
    expect(gaps(fieldDomain(my("tinyint(1)"))!, pgCol("boolean")).map((g) => g.values)).toEqual(["integers other than 0 and 1"]);
    expect(gaps(fieldDomain(my("int(10) unsigned"))!, columnDomain({ sqlType: "int(11)", dialect: "mysql" })!).map((g) => g.values)).toEqual(["integers outside -2147483648..2147483647"]);
    expect(gaps(fieldDomain(my("int(10) unsigned"))!, columnDomain({ sqlType: "bigint(20)", dialect: "mysql" })!)).toEqual([]);
    expect(gaps(fieldDomain(my("varchar(64)"))!, columnDomain({ sqlType: "varchar(20)", dialect: "mysql" })!).map((g) => g.values)).toEqual(["text longer than 20 characters"]);
    expect(gaps(fieldDomain(my("decimal(10,2)"))!, pgCol("bigint")).map((g) => g.values)).toEqual(["decimals (the column holds integers)"]);
    expect(gaps(fieldDomain(my("decimal(18,0)"))!, pgCol("bigint"))).toEqual([]);
    expect(gaps(fieldDomain(my("json"))!, pgCol("text"))).toEqual([]);
  });

  it("knows a foreign producer's field by its Avro type alone: an int is any 32-bit integer", () => {
    expect(gaps(fieldDomain({ type: "int" })!, columnDomain({ sqlType: "smallint", dialect: "postgres" })!).map((g) => g.values)).toEqual(["integers outside -32768..32767"]);
    expect(gaps(fieldDomain({ type: ["null", "long"] })!, columnDomain({ sqlType: "bigint", dialect: "postgres" })!)).toEqual([]);
  });
});
