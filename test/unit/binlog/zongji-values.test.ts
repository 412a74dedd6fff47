/**
 * patches/@vlasky+zongji+0.9.0.patch fixes zongji's binlog value decoders where they disagree with
 * MariaDB. Each test feeds the row-image bytes the server writes (encoded here the way the server's
 * own C code does, sql/compat56.cc and field.cc) to zongji's decoder and expects the server's text.
 * Each fails on the unpatched zongji 0.9.0.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";

const require = createRequire(import.meta.url);
const lib = join(dirname(require.resolve("@vlasky/zongji")), "lib");

type Column = { type: number; name: string; metadata: Record<string, number> };
type ReadValue = (parser: unknown, column: Column, schema: Record<string, unknown>, tableMap: unknown, zongji: unknown) => unknown;

let readMysqlValue: ReadValue;
let Parser: new () => { append(buffer: Buffer): void; _offset: number };

beforeAll(async () => {
  ({ readMysqlValue } = (await import(pathToFileURL(join(lib, "common.js")).href)) as { readMysqlValue: ReadValue });
  ({ Parser } = (await import(pathToFileURL(join(lib, "reader.js")).href)) as { Parser: typeof Parser });
});

const TYPE = { TIMESTAMP2: 17, TIME: 11, TIME2: 19, YEAR: 13, ENUM: 247 } as const;
const zongji = { connection: { config: { dateStrings: true, timezone: "Z" } }, emit: (_: string, err: Error) => { throw err; } };

/** Decodes one value from its row-image bytes; also checks that exactly those bytes were consumed. */
function decode(bytes: Buffer, type: number, metadata: Record<string, number> = {}, schema: Record<string, unknown> = { COLUMN_TYPE: "" }): unknown {
  const parser = new Parser();
  parser.append(bytes);
  const value = readMysqlValue(parser, { type, name: "c", metadata }, schema, { tableName: "t", parentSchema: "d" }, zongji);
  expect(parser._offset).toBe(bytes.length);
  return value;
}

/** "[-]H:MM:SS[.fraction]" as MySQL's packed time: ((h << 12 | m << 6 | s) << 24) + microseconds, negated. */
function packedTime(text: string): bigint {
  const m = /^(-?)(\d+):(\d\d):(\d\d)(?:\.(\d+))?$/.exec(text)!;
  const hms = (BigInt(m[2]!) << 12n) | (BigInt(m[3]!) << 6n) | BigInt(m[4]!);
  const packed = (hms << 24n) + BigInt((m[5] ?? "").padEnd(6, "0"));
  return m[1] ? -packed : packed;
}

/** my_time_packed_to_binary (sql/compat56.cc): the TIME2 row image of a packed time at `dec` fraction digits. */
function time2Image(text: string, dec: number): Buffer {
  const nr = packedTime(text);
  const intPart = nr >> 24n; // C's arithmetic shift: floor
  const fracPart = nr - (nr / (1n << 24n)) * (1n << 24n); // C's %: the sign of nr
  const out = Buffer.alloc(3 + Math.ceil(dec / 2));
  if (dec >= 5) {
    out.writeUIntBE(Number(nr + 0x800000000000n), 0, 6);
    return out;
  }
  out.writeUIntBE(Number(intPart + 0x800000n), 0, 3);
  if (dec === 1 || dec === 2) out.writeInt8(Number(fracPart / 10000n), 3);
  if (dec === 3 || dec === 4) out.writeInt16BE(Number(fracPart / 100n), 3);
  return out;
}

describe("zongji's binlog decoders, as patched", () => {
  it("reads YEAR 0000 as 0, not 1900 (issue 15, Found 1)", () => {
    expect(decode(Buffer.from([0]), TYPE.YEAR)).toBe(0);
    expect(decode(Buffer.from([1]), TYPE.YEAR)).toBe(1901);
    expect(decode(Buffer.from([255]), TYPE.YEAR)).toBe(2155);
  });

  it("reads negative TIME2 values with a zero fraction without 64 seconds (issue 15, Found 2)", () => {
    const cases: [string, number, string][] = [
      ["-00:01:00", 0, "-00:01:00"],
      ["-01:00:00", 0, "-01:00:00"],
      ["-10:00:00", 0, "-10:00:00"],
      ["-01:01:00", 0, "-01:01:00"],
      ["-838:59:59", 0, "-838:59:59"],
      ["-00:00:01", 0, "-00:00:01"],
      ["-00:01:00", 6, "-00:01:00.000000"],
      ["-01:00:00", 2, "-01:00:00.00"],
      ["-01:00:00", 3, "-01:00:00.000"],
      ["-23:00:00", 5, "-23:00:00.00000"],
      ["-838:59:59", 6, "-838:59:59.000000"],
      // with a fraction the magnitude was right already: kept right
      ["-00:01:00.5", 1, "-00:01:00.5"],
      ["-00:00:59.99", 2, "-00:00:59.99"],
      ["-01:00:00.000001", 6, "-01:00:00.000001"],
      ["-00:00:00.000001", 6, "-00:00:00.000001"],
      ["-838:59:58.999999", 6, "-838:59:58.999999"],
      ["-12:34:56.7891", 4, "-12:34:56.7891"],
      ["838:59:59", 0, "838:59:59"],
      ["00:00:00", 3, "00:00:00.000"],
    ];
    for (const [value, dec, want] of cases) expect(decode(time2Image(value, dec), TYPE.TIME2, { decimals: dec }), `${value} at TIME(${dec})`).toBe(want);
  });

  it("reads negative classic TIME values (pre-5.6 format, HHMMSS in 3 bytes) with the carry", () => {
    const image = (text: string) => {
      const [, sign, h, m, s] = /^(-?)(\d+):(\d\d):(\d\d)$/.exec(text)!;
      const out = Buffer.alloc(3);
      out.writeIntLE((Number(h) * 10000 + Number(m) * 100 + Number(s)) * (sign ? -1 : 1), 0, 3);
      return out;
    };
    for (const t of ["-00:01:00", "-01:00:00", "-10:00:00", "-838:59:59", "-00:00:01", "-00:59:59", "12:34:56", "00:00:00"]) {
      expect(decode(image(t), TYPE.TIME, {}, { COLUMN_TYPE: "time" }), t).toBe(t);
    }
  });

  it("reads the ENUM index 0 (the '' a non-strict server stores for an invalid value) as '', not undefined", () => {
    const schema = { COLUMN_TYPE: "enum('a','b')", ENUM_VALUES: ["a", "b"] };
    expect(decode(Buffer.from([0]), TYPE.ENUM, { size: 1 }, schema)).toBe("");
    expect(decode(Buffer.from([2]), TYPE.ENUM, { size: 1 }, schema)).toBe("b");
  });

  it("reads TIMESTAMP2 seconds as unsigned, as the server does (MariaDB 11.5+ stores them up to 2106)", () => {
    const image = Buffer.alloc(4);
    image.writeUInt32BE(2 ** 31 + 6);
    expect(decode(image, TYPE.TIMESTAMP2, { decimals: 0 })).toBe("2038-01-19 03:14:14");
    image.writeUInt32BE(2 ** 32 - 1);
    expect(decode(image, TYPE.TIMESTAMP2, { decimals: 0 })).toBe("2106-02-07 06:28:15");
  });
});
