import { describe, expect, it } from "vitest";
import type { ColumnInfo } from "../../../src/runtime/sql-types/mapping.js";
import { fractionDigits, isDateTime, isInteger, isZoned, sqlDialect, type Params } from "../../../src/sources/query/sql.js";
import { utcText } from "../../../src/sources/query/stream.js";

const my = (name: string, sqlType: string): ColumnInfo => ({ name, dialect: "mysql", sqlType, nullable: false });
const pg = (name: string, sqlType: string): ColumnInfo => ({ name, dialect: "postgres", sqlType, nullable: false });

describe("the SQL of the query source", () => {
  it("writes MySQL keysets in the form its range optimizer uses, every parameter typed as its column", () => {
    const params: Params = [];
    const sql = sqlDialect("mysql").after(params, [my("ts", "datetime(6)"), my("id", "bigint(20) unsigned")], ["2024-01-01 00:00:00.000001", "18446744073709551615"]);
    expect(sql).toBe("(`ts` >= CAST(? AS DATETIME(6)) AND (`ts` > CAST(? AS DATETIME(6)) OR `id` > CAST(? AS UNSIGNED)))");
    expect(params).toEqual(["2024-01-01 00:00:00.000001", "2024-01-01 00:00:00.000001", "18446744073709551615"]);
  });

  it("writes PostgreSQL keysets as a row comparison", () => {
    const params: Params = [];
    expect(sqlDialect("postgres").after(params, [pg("ts", "timestamp(3) with time zone"), pg("id", "bigint")], ["t", "9"])).toBe(
      '("ts", "id") > ($1::timestamp(3) with time zone, $2::bigint)',
    );
    expect(sqlDialect("postgres").after(params, [pg("id", "integer")], [1])).toBe('"id" > $3::integer');
  });

  it("quotes identifiers with quotes in them", () => {
    expect(sqlDialect("mysql").quote("we`ird")).toBe("`we``ird`");
    expect(sqlDialect("postgres").quote('we"ird')).toBe('"we""ird"');
  });

  it("shifts the horizon instant into the writers' zone for wall-clock columns only", () => {
    const params: Params = [];
    expect(sqlDialect("mysql").instant(params, "2024-01-01 10:00:00.000000", my("ts", "timestamp(6)"), "Europe/Paris")).toBe("CAST(? AS DATETIME(6))");
    expect(sqlDialect("mysql").instant(params, "2024-01-01 10:00:00.000000", my("dt", "datetime"), "Europe/Paris")).toBe("CONVERT_TZ(CAST(? AS DATETIME(6)), '+00:00', ?)");
    expect(params).toEqual(["2024-01-01 10:00:00.000000", "2024-01-01 10:00:00.000000", "Europe/Paris"]);
    const p2: Params = [];
    expect(sqlDialect("postgres").instant(p2, "2024-01-01 10:00:00.000000", pg("ts", "timestamp without time zone"), "UTC")).toBe("($1::timestamptz AT TIME ZONE $2)");
    expect(p2[0]).toBe("2024-01-01 10:00:00.000000+00");
  });

  it("knows which columns are integers and date-times, and how many fraction digits they keep", () => {
    expect([my("a", "int(11)"), my("b", "bigint unsigned"), my("c", "decimal(20,0)"), my("d", "decimal(10,2)"), pg("e", "numeric(12)"), pg("f", "text")].map(isInteger)).toEqual([true, true, true, false, true, false]);
    expect([my("a", "datetime(3)"), my("b", "timestamp"), my("c", "date"), pg("d", "timestamp with time zone"), pg("e", "timestamp(0) without time zone")].map(isDateTime)).toEqual([true, true, false, true, true]);
    expect([my("a", "datetime(3)"), my("b", "timestamp"), pg("c", "timestamp with time zone"), pg("d", "timestamp(0) without time zone")].map(fractionDigits)).toEqual([3, 0, 6, 0]);
    expect([my("a", "timestamp(6)"), my("b", "datetime(6)"), pg("c", "timestamp(6) with time zone"), pg("d", "timestamp without time zone")].map(isZoned)).toEqual([true, false, true, false]);
  });

  it("cuts the horizon down to the column's precision, so a later row rounded down still lies after it", () => {
    const micros = Date.UTC(2024, 0, 1, 10, 0, 0, 987) * 1000 + 654;
    expect(utcText(micros, 6)).toBe("2024-01-01 10:00:00.987654");
    expect(utcText(micros, 3)).toBe("2024-01-01 10:00:00.987000");
    expect(utcText(micros, 0)).toBe("2024-01-01 10:00:00.000000");
  });
});
