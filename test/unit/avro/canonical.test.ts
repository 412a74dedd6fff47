import { describe, expect, it } from "vitest";
import type { AvroSchema } from "../../../src/runtime/connector.js";
import { canonicalForm, parseSchema, schemaId } from "../../../src/runtime/avro/canonical.js";

const canon = (schema: unknown) => canonicalForm(schema as AvroSchema);

describe("canonical form and schema ids", () => {
  it("follows Avro's Parsing Canonical Form: full names, fixed key order, no docs or whitespace", () => {
    const schema = {
      doc: "an order",
      fields: [{ type: "int", name: "id", doc: "the key" }, { name: "next", type: ["null", "Order"], default: null }],
      name: "Order",
      namespace: "shop",
      type: "record",
      aliases: ["Old"],
    };
    expect(canon(schema)).toBe(
      '{"name":"shop.Order","type":"record","fields":[{"name":"id","type":"int"},{"name":"next","type":["null","shop.Order"],"default":null}]}',
    );
    expect(canon({ type: "string" })).toBe('"string"');
  });

  it("keeps what changes a value's meaning: logical type, precision and scale, connect parameters", () => {
    const a = canon({ type: "bytes", logicalType: "decimal", precision: 10, scale: 2 });
    const b = canon({ type: "bytes", logicalType: "decimal", precision: 12, scale: 4 });
    expect(a).toBe('{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}');
    expect(a).not.toBe(b);
    expect(schemaId(a)).not.toBe(schemaId(b));
    expect(canon({ type: "string", "connect.parameters": { b: "2", a: "1" } })).toBe(canon({ type: "string", "connect.parameters": { a: "1", b: "2" } }));
  });

  it("gives the same id to the same schema however it is spelled, in 1..2^31-1", () => {
    const one = { type: "record", name: "R", namespace: "n", fields: [{ name: "a", type: "long" }] };
    const two = { type: "record", name: "n.R", doc: "same", fields: [{ name: "a", type: { type: "long" } }] };
    const id = schemaId(canon(one));
    expect(schemaId(canon(two))).toBe(id);
    expect(id).toBeGreaterThanOrEqual(1);
    expect(id).toBeLessThanOrEqual(2 ** 31 - 1);
  });

  it("refuses schema text that is no JSON or no valid Avro, with code SCHEMA_INVALID", () => {
    expect(() => parseSchema("{")).toThrow(expect.objectContaining({ code: "SCHEMA_INVALID" }));
    expect(() => parseSchema('{"type":"record","name":"R"}')).toThrow(expect.objectContaining({ code: "SCHEMA_INVALID" }));
    expect(parseSchema("string").canonical).toBe('"string"');
  });
});
