import { describe, expect, it } from "vitest";
import { avroType } from "../../../src/runtime/avro/logical-types.js";
import { fromJson, toJson } from "../../../src/sources/outbox/payload.js";

const type = avroType({
  type: "record",
  name: "Invoice",
  namespace: "billing",
  fields: [
    { name: "id", type: "long" },
    { name: "total", type: { type: "bytes", logicalType: "decimal", precision: 12, scale: 2 } },
    { name: "huge", type: { type: "bytes", logicalType: "decimal", precision: 30, scale: 4 }, default: "\u0000" },
    { name: "issued", type: { type: "long", logicalType: "timestamp-micros" } },
    { name: "due", type: { type: "int", logicalType: "date" } },
    { name: "ref", type: { type: "string", logicalType: "uuid" } },
    { name: "status", type: { type: "enum", name: "Status", symbols: ["OPEN", "PAID"] } },
    { name: "lines", type: { type: "array", items: { type: "record", name: "Line", fields: [{ name: "sku", type: "string" }, { name: "qty", type: "int" }] } } },
    { name: "tags", type: { type: "map", values: "string" }, default: {} },
    { name: "scan", type: ["null", "bytes"], default: null },
    { name: "ratio", type: "float", default: 0 },
    { name: "code", type: ["null", "string", "long"], default: null },
  ],
});

const invoice = {
  id: 9007199254740993n.toString(),
  total: "1234.50",
  issued: "2024-02-29T12:00:00.5+01:00",
  due: "2024-03-31",
  ref: "123E4567-E89B-12D3-A456-426614174000",
  status: "OPEN",
  lines: [{ sku: "A-1", qty: 2 }],
  scan: Buffer.from([0, 1, 255]).toString("base64"),
  code: 42,
};

describe("outbox payloads: application JSON to canonical Avro values", () => {
  it("turns JSON into the canonical forms, defaults filled in, exactly encodable", () => {
    const value = fromJson(type, invoice) as Record<string, unknown>;
    expect(value).toEqual({
      id: 9007199254740993n,
      total: "1234.50",
      huge: "0.0000",
      issued: "2024-02-29T11:00:00.500000Z",
      due: "2024-03-31",
      ref: "123e4567-e89b-12d3-a456-426614174000",
      status: "OPEN",
      lines: [{ sku: "A-1", qty: 2 }],
      tags: {},
      scan: Buffer.from([0, 1, 255]),
      ratio: 0,
      code: 42n,
    });
    expect(type.fromBuffer(type.toBuffer(value))).toEqual(value);
  });

  it("refuses, naming the field, what would lose digits or meaning", () => {
    const bad = (patch: Record<string, unknown>) => () => fromJson(type, { ...invoice, ...patch });
    // what JSON.parse makes of an application's 9007199254740993
    expect(bad({ id: JSON.parse("9007199254740993") })).toThrow(/field "id": 9007199254740992 is beyond 2\^53.*write it as a string/);
    expect(bad({ total: "12.345" })).toThrow(/field "total": "12.345" is not a valid decimal with scale 2/);
    expect(bad({ huge: 1.5 })).toThrow(/field "huge": 1.5 is not a bytes\(decimal 30,4\): write decimals as strings/);
    expect(bad({ due: "2024-02-30" })).toThrow(/field "due": "2024-02-30" is not a valid date/);
    expect(bad({ status: "LOST" })).toThrow(/field "status": "LOST" is not one of OPEN, PAID/);
    expect(bad({ lines: [{ sku: "A", qty: 1.5 }] })).toThrow(/field "lines\[0\]\.qty": 1\.5 is not a valid int/);
    expect(bad({ amout: 3 })).toThrow(/field "amout": is not a field of billing\.Invoice \(its fields: id, total/);
    expect(bad({ ref: undefined })).toThrow(/field "ref": is missing; expected string\(uuid\)/);
    expect(bad({ scan: "not base64!" })).toThrow(/field "scan": "not base64!" is not base64/);
    expect(bad({ code: true })).toThrow(/field "code": true fits none of null \| string \| long/);
    expect(() => fromJson(type, [invoice])).toThrow(/the payload: .* is not a record billing\.Invoice/);
  });

  it("accepts decimals as numbers while a double holds them exactly, and Avro's own union encoding", () => {
    expect((fromJson(type, { ...invoice, total: 1234.5 }) as { total: string }).total).toBe("1234.50");
    expect((fromJson(type, { ...invoice, code: { string: "x" } }) as { code: string }).code).toBe("x");
    expect((fromJson(type, { ...invoice, issued: 1709204400500000 }) as { issued: string }).issued).toBe("2024-02-29T11:00:00.500000Z");
  });

  it("writes canonical values back as JSON that reads back to the same values", () => {
    const value = fromJson(type, invoice);
    const json = JSON.parse(JSON.stringify(toJson(type, value))) as unknown;
    expect(json).toMatchObject({ id: "9007199254740993", scan: "AAH/", code: 42 });
    expect(fromJson(type, json)).toEqual(value);
  });
});
