import { describe, expect, it } from "vitest";
import { canonicalDate, canonicalTime, canonicalTimestamp, fromTwosComplement, mysqlZeroDate, isTemporalText, parseTimestamp, toDecimal, toLong, toUuid, twosComplement, unscaledDecimal } from "../../../src/runtime/avro/values.js";
import { parsePgArray, toInet6 } from "../../../src/runtime/sql-types/driver-values.js";

describe("canonical values", () => {
  describe("decimals", () => {
    it("writes exactly the scale's fraction digits and never -0", () => {
      expect(toDecimal("1.5", 10, 3)).toBe("1.500");
      expect(toDecimal("-0.000", 10, 3)).toBe("0.000");
      expect(toDecimal("12", 4, 0)).toBe("12");
      expect(toDecimal(18446744073709551615n, 20, 0)).toBe("18446744073709551615");
      expect(toDecimal(42, 20, 0)).toBe("42");
    });

    it("keeps DECIMAL(65,30) extremes digit for digit", () => {
      const max = `${"9".repeat(35)}.${"9".repeat(30)}`;
      expect(toDecimal(max, 65, 30)).toBe(max);
      expect(toDecimal(`-${max}`, 65, 30)).toBe(`-${max}`);
      expect(toDecimal("0.000000000000000000000000000001", 65, 30)).toBe("0.000000000000000000000000000001");
    });

    it("refuses a value that would need rounding or more digits than the precision", () => {
      expect(() => toDecimal("1.234", 10, 2)).toThrow(/scale 2/);
      expect(() => toDecimal("123456789.00", 10, 2)).toThrow(/more than 10 digits/);
      expect(() => toDecimal(1.5, 10, 2)).toThrow(/not a valid decimal/);
      expect(toDecimal("1.2300", 10, 2)).toBe("1.23");
    });

    it("hands back driver text that is already canonical, and rewrites any other spelling", () => {
      const text = "-12345678.90";
      expect(toDecimal(text, 10, 2)).toBe(text);
      expect(toDecimal("0.05", 3, 2)).toBe("0.05");
      expect(toDecimal("-0.00", 10, 2)).toBe("0.00");
      expect(toDecimal("00.50", 10, 2)).toBe("0.50");
      expect(toDecimal("+1.50", 10, 2)).toBe("1.50");
      expect(toDecimal(".50", 10, 2)).toBe("0.50");
      expect(toDecimal("7", 10, 2)).toBe("7.00");
      expect(() => toDecimal("100.00", 4, 2)).toThrow(/more than 4 digits/);
      expect(() => toDecimal("1x.00", 10, 2)).toThrow(/not a valid decimal/);
    });

    it("encodes two's complement in the fewest bytes, both ways", () => {
      for (const v of [0n, 1n, -1n, 127n, 128n, -128n, -129n, 255n, 2n ** 63n, -(2n ** 200n), 18446744073709551615n]) {
        const bytes = twosComplement(v);
        expect(fromTwosComplement(bytes)).toBe(v);
        if (bytes.length > 1) expect(fromTwosComplement(bytes.subarray(1))).not.toBe(v);
      }
      expect(twosComplement(-129n)).toEqual(Buffer.from([0xff, 0x7f]));
      expect(unscaledDecimal("-1.5", 2)).toBe(-150n);
    });
  });

  describe("dates and times", () => {
    it("spells DATETIME(6) 1000-01-01 and 9999-12-31 23:59:59.999999 without a zone", () => {
      expect(canonicalTimestamp("1000-01-01 00:00:00.000000", false)).toBe("1000-01-01T00:00:00.000000");
      expect(canonicalTimestamp("9999-12-31 23:59:59.999999", false)).toBe("9999-12-31T23:59:59.999999");
      expect(canonicalTimestamp("2024-02-29 23:59:59.5", false)).toBe("2024-02-29T23:59:59.500000");
    });

    it("spells every fraction length and separator the same as the general formatter", () => {
      expect(canonicalTimestamp("2024-02-29 23:59:59", true)).toBe("2024-02-29T23:59:59.000000Z");
      expect(canonicalTimestamp("2024-02-29 23:59:59.1", false)).toBe("2024-02-29T23:59:59.100000");
      expect(canonicalTimestamp("2024-02-29T23:59:59.123456", true)).toBe("2024-02-29T23:59:59.123456Z");
      expect(canonicalTimestamp("0000-01-01 00:00:00.000001", false)).toBe("0000-01-01T00:00:00.000001");
      // 24:00:00 is the next day's midnight, not a rearranged text
      expect(canonicalTimestamp("2024-02-29 24:00:00", false)).toBe("2024-03-01T00:00:00.000000");
      expect(() => canonicalTimestamp("2024-02-30 00:00:00.000000", false)).toThrow(/not a valid local timestamp/);
      expect(() => canonicalTimestamp("2024-01-01 00:00:60", false)).toThrow(/not a valid local timestamp/);
    });

    it("counts microseconds past 2^53 exactly", () => {
      expect(parseTimestamp("9999-12-31 23:59:59.999999", true)).toBe(253402300799999999n);
      expect(parseTimestamp("1970-01-01 00:00:00.000001", true)).toBe(1);
      expect(parseTimestamp("1969-12-31 23:59:59.999999", true)).toBe(-1);
    });

    it("moves an offset to UTC and reads PostgreSQL's BC years and infinities", () => {
      expect(canonicalTimestamp("2024-01-01 01:30:00+01:30", true)).toBe("2024-01-01T00:00:00.000000Z");
      expect(canonicalTimestamp("2038-01-19 03:14:07.999999+00", true)).toBe("2038-01-19T03:14:07.999999Z");
      expect(canonicalTimestamp("4713-01-01 00:00:00 BC", false)).toBe("-004712-01-01T00:00:00.000000");
      expect(canonicalTimestamp("0001-01-01 00:00:00+00 BC", true)).toBe("0000-01-01T00:00:00.000000Z");
      expect(canonicalTimestamp("infinity", true)).toBe("infinity");
      expect(canonicalDate("0044-03-15 BC")).toBe("-000043-03-15");
      expect(canonicalDate("-infinity")).toBe("-infinity");
    });

    it("refuses dates no calendar has, and keeps PostgreSQL's last timestamp, past a long of microseconds, as text", () => {
      expect(() => canonicalDate("2023-02-29")).toThrow(/not a valid date/);
      expect(canonicalTimestamp("294276-12-31 23:59:59.999999+00", true)).toBe("+294276-12-31T23:59:59.999999Z");
      expect(() => canonicalTimestamp("2024-01-01 00:00:00.0000001", false)).toThrow(/microsecond/);
      expect(() => canonicalTimestamp("2024-01-01 00:00:00+01", false)).toThrow(/local timestamp/);
    });

    it("keeps MySQL TIME's negative and over-24-hour values", () => {
      expect(canonicalTime("-838:59:59.000000")).toBe("-838:59:59.000000");
      expect(canonicalTime("838:59:59")).toBe("838:59:59.000000");
      expect(canonicalTime("-00:00:00.000001")).toBe("-00:00:00.000001");
      expect(canonicalTime("24:00:00")).toBe("24:00:00.000000");
    });

    it("tells MySQL's zero date from dates with a zero month, day or year", () => {
      expect(mysqlZeroDate("0000-00-00")).toBe("zero");
      expect(mysqlZeroDate("0000-00-00 00:00:00.000000")).toBe("zero");
      expect(mysqlZeroDate("2024-00-10")).toBe("partial");
      expect(mysqlZeroDate("2020-01-00 10:00:00.5")).toBe("partial");
      expect(mysqlZeroDate("0000-00-00 10:00:00")).toBe("partial");
      expect(mysqlZeroDate("0000-01-01")).toBe("partial");
      expect(mysqlZeroDate("0001-01-01")).toBe(undefined);
    });

    it("knows which canonical values the logical types cannot hold and travel as text", () => {
      for (const v of ["infinity", "-infinity", "0000-12-31", "-004712-01-01", "+010000-01-01", "+294276-12-31T23:59:59.999999Z", "0000-01-01T00:00:00.000000", "24:00:00.000000"]) {
        expect(isTemporalText(v), v).toBe(true);
      }
      for (const v of ["0001-01-01", "9999-12-31T23:59:59.999999Z", "23:59:59.999999", "00:00:00.000000", "-838:59:59.000000", "hello", ""]) expect(isTemporalText(v), v).toBe(false);
    });
  });

  describe("identifiers and addresses from the binlog's raw bytes", () => {
    it("formats a UUID's 16 bytes and lowercases its text", () => {
      expect(toUuid(Buffer.from("123e4567e89b12d3a456426614174000", "hex"))).toBe("123e4567-e89b-12d3-a456-426614174000");
      expect(toUuid("123E4567-E89B-12D3-A456-426614174000")).toBe("123e4567-e89b-12d3-a456-426614174000");
      expect(() => toUuid("nope")).toThrow(/uuid/);
    });

    it.each([
      ["00000000000000000000000001020304", "::1.2.3.4"],
      ["00000000000000000000000000000001", "::1"],
      ["00000000000000000000000000000000", "::"],
      ["00010000000000000000000000000000", "1::"],
      ["20010db8000000000001000000000001", "2001:db8::1:0:0:1"],
      ["00000000000000000000ffff01020304", "::ffff:1.2.3.4"],
      ["00010000000000020000000000000003", "1:0:0:2::3"],
      ["00000002000300040005000600070008", "::2:3:4:5:6:7:8"],
      ["00010000000200030004000500060007", "1::2:3:4:5:6:7"],
      ["00000000000000000000000000000100", "::100"],
      ["00000000000000000000000000010000", "::0.1.0.0"],
      ["00000000000000000001ffff01020304", "::1:ffff:102:304"],
      ["00000000000000000000ffff00000000", "::ffff:0.0.0.0"],
      ["00010002000300040005000600070008", "1:2:3:4:5:6:7:8"],
    ])("prints INET6 %s as MariaDB does: %s", (hex, text) => {
      expect(toInet6(Buffer.from(hex, "hex"))).toBe(text);
    });
  });

  describe("PostgreSQL arrays", () => {
    it("reads quoted, NULL and empty elements of a one-dimensional array", () => {
      expect(parsePgArray('{"a,b","c\\"d",NULL,"NULL",""}')).toEqual(["a,b", 'c"d', null, "NULL", ""]);
      expect(parsePgArray("{1,NULL,3}")).toEqual(["1", null, "3"]);
      expect(parsePgArray("{}")).toEqual([]);
      // the server quotes elements with ASCII white space only: a BOM or no-break space at an edge stays
      expect(parsePgArray("{\uFEFFa,\u00A0b\u00A0,\u2028}")).toEqual(["\uFEFFa", "\u00A0b\u00A0", "\u2028"]);
    });

    it("refuses arrays with more dimensions or other bounds instead of flattening them", () => {
      expect(() => parsePgArray("{{1,2},{3,4}}")).toThrow(/multi-dimensional/);
      expect(() => parsePgArray("[0:1]={1,2}")).toThrow(/bounds/);
    });
  });

  it("reads longs from every driver spelling into bigint", () => {
    expect(toLong("-9223372036854775808")).toBe(-9223372036854775808n);
    expect(toLong(42)).toBe(42n);
    expect(() => toLong("9223372036854775808")).toThrow(/long/);
    expect(() => toLong(2 ** 60)).toThrow(/long/);
  });
});

describe("timestamps with an offset near 2^53 microseconds", () => {
  it("stays exact when the offset pushes the value past a safe integer", () => {
    // 2255-06-05 is about 2^53 µs after 1970: a -14:00 offset moves it across
    const local = parseTimestamp("2255-06-05 23:47:34.740992", false);
    const shifted = parseTimestamp("2255-06-05 23:47:34.740992-14:00", true);
    expect(BigInt(shifted) - BigInt(local)).toBe(14n * 3600n * 1_000_000n);
  });
});
