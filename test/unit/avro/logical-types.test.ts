import { describe, expect, it } from "vitest";
import type { AvroSchema } from "../../../src/runtime/connector.js";
import { canRead } from "../../../src/runtime/avro/compatibility.js";
import { avroType, describeType } from "../../../src/runtime/avro/logical-types.js";

const type = (schema: unknown) => avroType(schema as AvroSchema);
const roundTrip = (schema: unknown, value: unknown) => {
  const t = type(schema);
  return t.fromBuffer(t.toBuffer(value)) as unknown;
};

const decimal = (precision: number, scale: number) => ({ type: "bytes", logicalType: "decimal", precision, scale });

describe("avsc types for the canonical forms", () => {
  it("keeps every long exactly, as a bigint, including both ends", () => {
    for (const v of [0n, -1n, 2n ** 53n + 1n, -(2n ** 53n) - 1n, 9223372036854775807n, -9223372036854775808n, 1234567890123n]) {
      expect(roundTrip("long", v)).toBe(v);
    }
    expect(roundTrip("long", 42)).toBe(42n);
    expect(() => type("long").toBuffer(2n ** 63n)).toThrow();
  });

  it("keeps 8-byte varints exact around 2^52 and 2^53, where number arithmetic stops", () => {
    const edges = [2n ** 48n, 2n ** 52n - 1n, 2n ** 52n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 55n, 2n ** 56n - 1n];
    for (const v of edges.flatMap((e) => [e, -e, e + 1n, -e - 1n])) expect(roundTrip("long", v)).toBe(v);
    const micros = { type: "long", logicalType: "timestamp-micros" };
    for (const v of ["2024-03-01T12:00:00.123456Z", "9999-12-31T23:59:59.999999Z", "0001-01-01T00:00:00.000000Z"]) expect(roundTrip(micros, v)).toBe(v);
  });

  it("encodes longs byte for byte as the Avro spec's zigzag varints", () => {
    const t = type("long");
    expect(t.toBuffer(-1n)).toEqual(Buffer.from([0x01]));
    expect(t.toBuffer(64n)).toEqual(Buffer.from([0x80, 0x01]));
    expect(t.toBuffer(-9223372036854775808n)).toEqual(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]));
  });

  it("picks a nullable long's branch from a bigint", () => {
    const schema = ["null", "long"];
    expect(roundTrip(schema, 2n ** 62n)).toBe(2n ** 62n);
    expect(roundTrip(schema, null)).toBe(null);
  });

  it("keeps DECIMAL(65,30) extremes, BIGINT UNSIGNED max and small values exact", () => {
    const max = `${"9".repeat(35)}.${"9".repeat(30)}`;
    expect(roundTrip(decimal(65, 30), max)).toBe(max);
    expect(roundTrip(decimal(65, 30), `-${max}`)).toBe(`-${max}`);
    expect(roundTrip(decimal(20, 0), "18446744073709551615")).toBe("18446744073709551615");
    for (const v of ["0.00", "-0.01", "1.28", "-1.28", "-1.29", "99999999.99", "-99999999.99", "123456789012.34"]) {
      expect(roundTrip(decimal(14, 2), v)).toBe(v);
    }
    expect(roundTrip(decimal(10, 2), "1.5")).toBe("1.50");
  });

  it("writes decimals as Java's BigDecimal.unscaledValue().toByteArray() does", () => {
    const t = type(decimal(10, 2));
    // bytes: varint length, then two's complement big-endian
    expect(t.toBuffer("-1.28")).toEqual(Buffer.from([0x02, 0x80]));
    expect(t.toBuffer("1.28")).toEqual(Buffer.from([0x04, 0x00, 0x80]));
    expect(t.toBuffer("0.00")).toEqual(Buffer.from([0x02, 0x00]));
  });

  it("reads and writes decimals over fixed, sign-extended to the size", () => {
    const schema = { type: "fixed", name: "D", size: 8, logicalType: "decimal", precision: 18, scale: 3 };
    expect(type(schema).toBuffer("-0.001")).toEqual(Buffer.alloc(8, 0xff));
    expect(roundTrip(schema, "-123456789012345.678")).toBe("-123456789012345.678");
  });

  it("refuses a decimal that needs rounding or more digits than its precision", () => {
    expect(() => type(decimal(10, 2)).toBuffer("1.234")).toThrow(/scale 2/);
    expect(() => type(decimal(4, 2)).toBuffer("123.45")).toThrow(/more than 4 digits/);
    expect(() => type(decimal(4, 2)).toBuffer(1.5)).toThrow();
  });

  it("keeps DATETIME(6) 9999-12-31 23:59:59.999999 exact through encode and decode", () => {
    const schema = { type: "long", logicalType: "local-timestamp-micros" };
    for (const v of ["9999-12-31T23:59:59.999999", "1000-01-01T00:00:00.000000", "0001-01-01T00:00:00.000000"]) expect(roundTrip(schema, v)).toBe(v);
    expect(type(schema).toBuffer("1970-01-01T00:00:00.000001")).toEqual(Buffer.from([0x02]));
  });

  it("keeps TIMESTAMP(6) near 1970 and 2038 in UTC", () => {
    const schema = { type: "long", logicalType: "timestamp-micros" };
    for (const v of ["1970-01-01T00:00:01.000000Z", "2038-01-19T03:14:07.999999Z", "1969-12-31T23:59:59.999999Z"]) {
      expect(roundTrip(schema, v)).toBe(v);
    }
    expect(roundTrip(schema, "2024-01-01 01:00:00+01")).toBe("2024-01-01T00:00:00.000000Z");
  });

  it("keeps MySQL's TIME -838:59:59.000000 as a MicroTime duration, and reads time-micros written before as one", () => {
    const microTime = { type: "long", "connect.name": "io.debezium.time.MicroTime" };
    for (const v of ["-838:59:59.000000", "838:59:59.000000", "-00:00:00.000001", "00:00:00.000000"]) expect(roundTrip(microTime, v)).toBe(v);
    expect(type(microTime).toBuffer("-00:00:01.000000")).toEqual(type("long").toBuffer(-1_000_000n));
    expect(canRead(type(microTime), type({ type: "long", logicalType: "time-micros" }))).toBe(true);
    expect(canRead(type({ type: "long", logicalType: "time-micros" }), type(microTime))).toBe(false);
    // a plain long reader reads the microseconds: no meaning is lost to a decoder without the name
    expect(canRead(type("long"), type(microTime))).toBe(true);
  });

  // issue 15, Found 3 and 10: values standard decoders reject under the logical type
  it("holds in each logical type only what the Avro spec and common decoders accept", () => {
    const time = type({ type: "long", logicalType: "time-micros" });
    expect(roundTrip({ type: "long", logicalType: "time-micros" }, "23:59:59.999999")).toBe("23:59:59.999999");
    for (const v of ["-00:00:00.000001", "24:00:00.000000", "838:59:59.000000"]) expect(() => time.toBuffer(v), v).toThrow(/not a time of day/);
    const date = { type: "int", logicalType: "date" };
    for (const v of ["0001-01-01", "9999-12-31", "1970-01-01"]) expect(roundTrip(date, v)).toBe(v);
    for (const v of ["0000-12-31", "-004712-01-01", "+010000-01-01", "infinity"]) expect(() => type(date).toBuffer(v), v).toThrow();
    const ts = type({ type: "long", logicalType: "timestamp-micros" });
    for (const v of ["0000-12-31T23:59:59.999999Z", "+010000-01-01T00:00:00.000000Z", "infinity"]) expect(() => ts.toBuffer(v), v).toThrow();
  });

  it("carries what the logical type cannot hold in the text branch beside it, and nothing else there", () => {
    const union = type(["null", { type: "int", logicalType: "date" }, { type: "string", "connect.name": "io.liberator.time.Text" }]);
    for (const v of [null, "2024-02-29", "infinity", "-infinity", "-004712-01-01", "0000-01-01", "+5874897-12-31"]) expect(union.fromBuffer(union.toBuffer(v))).toBe(v);
    expect(union.toBuffer("2024-02-29")[0]).toBe(2); // branch 1: the date
    expect(union.toBuffer("infinity")[0]).toBe(4); // branch 2: the text
    expect(() => union.toBuffer("not a date")).toThrow();
    const time = type([{ type: "long", logicalType: "time-micros" }, { type: "string", "connect.name": "io.liberator.time.Text" }]);
    expect(time.fromBuffer(time.toBuffer("24:00:00.000000"))).toBe("24:00:00.000000");
  });

  it("checks a uuid's form", () => {
    const schema = { type: "string", logicalType: "uuid" };
    expect(roundTrip(schema, "123e4567-e89b-12d3-a456-426614174000")).toBe("123e4567-e89b-12d3-a456-426614174000");
    expect(() => type(schema).toBuffer("not-a-uuid")).toThrow();
  });

  it("does not let a reader reinterpret a value under another logical type or scale", () => {
    const ts = type({ type: "long", logicalType: "timestamp-micros" });
    const local = type({ type: "long", logicalType: "local-timestamp-micros" });
    expect(canRead(local, ts)).toBe(false);
    expect(canRead(ts, ts)).toBe(true);
    expect(canRead(type(decimal(12, 4)), type(decimal(10, 2)))).toBe(false);
    expect(canRead(type(decimal(12, 2)), type(decimal(10, 2)))).toBe(true);
    expect(canRead(type(decimal(8, 2)), type(decimal(10, 2)))).toBe(false);
  });

  it("describes types the way compatibility messages name them", () => {
    expect(describeType(type(decimal(10, 2)))).toBe("bytes(decimal 10,2)");
    expect(describeType(type(["null", { type: "long", logicalType: "timestamp-micros" }]))).toBe("null | long(timestamp-micros)");
    expect(describeType(type("long"))).toBe("long");
    expect(describeType(type({ type: "array", items: "string" }))).toBe("array<string>");
  });
});
