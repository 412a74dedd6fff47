import { describe, expect, it } from "vitest";
import { avroType, MICRO_TIME_NAME } from "../../../src/runtime/avro/logical-types.js";
import { differences, renderOurs, type Rendering } from "../../support/java-avro.js";

/** The half of the Java judge that is ours: our values rendered as AvroJudge.java renders Java's. */
describe("renderOurs", () => {
  const schema = {
    type: "record",
    name: "R",
    fields: [
      { name: "f", type: "float" },
      { name: "d", type: ["null", "double"] },
      { name: "t", type: { type: "long", "connect.name": MICRO_TIME_NAME } },
      { name: "n", type: "long" },
      { name: "b", type: "bytes" },
      { name: "ts", type: { type: "long", logicalType: "timestamp-micros" } },
      { name: "dec", type: { type: "bytes", logicalType: "decimal", precision: 5, scale: 2 } },
      { name: "a", type: { type: "array", items: "boolean" } },
    ],
  };

  it("renders floats and doubles by their IEEE bits, a MicroTime by its microseconds, bytes as hex, the rest as our text", () => {
    const value = { f: 0.1, d: -0, t: "-838:59:59.000000", n: 2n ** 63n - 1n, b: Buffer.from([0, 255]), ts: "1970-01-01T00:00:01.000001Z", dec: "-0.01", a: [true] };
    expect(renderOurs(value, avroType(schema as never))).toEqual({
      f: "f3dcccccd",
      d: "d8000000000000000",
      t: String(-(838 * 3600 + 59 * 60 + 59) * 1_000_000),
      n: "9223372036854775807",
      b: "00ff",
      ts: "1970-01-01T00:00:01.000001Z",
      dec: "-0.01",
      a: [true],
    });
    expect(renderOurs({ ...value, f: NaN, d: null }, avroType(schema as never))).toMatchObject({ f: "f7fc00000", d: null });
  });

  it("names every path where two renderings differ, and nothing when they are equal", () => {
    const ours: Rendering = { a: "1", b: ["x", { c: null }] };
    const found: string[] = [];
    differences(ours, { a: "1", b: ["x", { c: null }] }, "r", found);
    expect(found).toEqual([]);
    differences(ours, { a: "2", b: ["x"], e: true }, "r", found);
    expect(found).toEqual(['r.a: ours "1", java "2"', 'r.b.1: ours {"c":null}, java null', "r.b: 2 entries ours, 1 java", "r.e: ours null, java true", "r: 2 entries ours, 3 java"]);
  });
});
