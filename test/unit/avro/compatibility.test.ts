import { describe, expect, it } from "vitest";
import type { AvroSchema } from "../../../src/runtime/connector.js";
import { checkCompatibility, versionsToCheck } from "../../../src/runtime/avro/compatibility.js";
import { avroType } from "../../../src/runtime/avro/logical-types.js";
import type { CompatibilityLevel } from "../../../src/runtime/avro/compatibility.js";

const SUBJECT = "shop.orders-value";
const record = (...fields: unknown[]) => ({ type: "record", name: "Value", namespace: "shop.orders", fields });
const id = { name: "id", type: "long" };
const amount = { name: "amount", type: { type: "bytes", logicalType: "decimal", precision: 10, scale: 2 } };
const note = { name: "note", type: ["null", "string"], default: null };
const a = (extra: object = {}) => ({ name: "a", type: "int", ...extra });

/** Messages for `candidate` against a subject whose versions are `history`, oldest first. */
function check(level: CompatibilityLevel, history: object[], candidate: object): string[] {
  const previous = versionsToCheck(
    level,
    history.map((s, i) => ({ version: i + 1, type: avroType(s as AvroSchema) })),
  );
  return checkCompatibility(SUBJECT, level, avroType(candidate as AvroSchema), previous).map((p) => p.message);
}

describe("compatibility levels, checked locally", () => {
  describe("BACKWARD (the default): consumers on the new schema read old records", () => {
    it("accepts a new optional field", () => {
      expect(check("BACKWARD", [record(id, amount)], record(id, amount, note))).toEqual([]);
    });

    it("refuses a column's type change, naming subject, field, both types and the rule", () => {
      expect(check("BACKWARD", [record(id, amount)], record(id, { name: "amount", type: "string" }))).toEqual([
        'subject "shop.orders-value": field "amount" changed from bytes(decimal 10,2) to string, which BACKWARD forbids (consumers on the new schema cannot read old records)',
      ]);
    });

    it("refuses a new field without a default", () => {
      expect(check("BACKWARD", [record(id)], record(id, a()))).toEqual([
        'subject "shop.orders-value": field "a" was added without a default, which BACKWARD forbids (consumers on the new schema cannot read old records)',
      ]);
    });

    it("refuses a new decimal scale and a DATETIME that became a TIMESTAMP: the bytes would read as other values", () => {
      const scaled = { name: "amount", type: { type: "bytes", logicalType: "decimal", precision: 12, scale: 4 } };
      expect(check("BACKWARD", [record(id, amount)], record(id, scaled))[0]).toContain('field "amount" changed from bytes(decimal 10,2) to bytes(decimal 12,4)');
      const local = { name: "at", type: { type: "long", logicalType: "local-timestamp-micros" } };
      const utc = { name: "at", type: { type: "long", logicalType: "timestamp-micros" } };
      expect(check("BACKWARD", [record(id, local)], record(id, utc))[0]).toContain('field "at" changed from long(local-timestamp-micros) to long(timestamp-micros)');
    });

    it("refuses a nullable column that became NOT NULL", () => {
      const nullable = { name: "qty", type: ["null", "long"], default: null };
      expect(check("BACKWARD", [record(id, nullable)], record(id, { name: "qty", type: "long" }))[0]).toContain('field "qty" changed from null | long to long');
    });

    it("finds the field inside the Debezium envelope's before/after and reports it once", () => {
      const envelope = (value: object) => ({
        type: "record",
        name: "Envelope",
        namespace: "shop.orders",
        fields: [
          { name: "before", type: ["null", value], default: null },
          { name: "after", type: ["null", "shop.orders.Value"], default: null },
          { name: "op", type: "string" },
        ],
      });
      expect(check("BACKWARD", [envelope(record(id, amount))], envelope(record(id, { name: "amount", type: "string" })))).toEqual([
        'subject "shop.orders-value": field "amount" changed from bytes(decimal 10,2) to string, which BACKWARD forbids (consumers on the new schema cannot read old records)',
      ]);
    });
  });

  describe("BACKWARD_TRANSITIVE: against every version", () => {
    const history = [record(id, a()), record(id)];

    it("accepts a field brought back with its old type and a default", () => {
      expect(check("BACKWARD_TRANSITIVE", history, record(id, a({ default: 0 })))).toEqual([]);
    });

    it("refuses what only an older version breaks, and names that version", () => {
      expect(check("BACKWARD", history, record(id, { name: "a", type: "string", default: "" }))).toEqual([]);
      expect(check("BACKWARD_TRANSITIVE", history, record(id, { name: "a", type: "string", default: "" }))).toEqual([
        'subject "shop.orders-value": field "a" changed from int to string (checked against version 1), which BACKWARD_TRANSITIVE forbids (consumers on the new schema cannot read old records)',
      ]);
    });
  });

  describe("FORWARD: consumers on the old schema read new records", () => {
    it("accepts a new field, which old consumers skip", () => {
      expect(check("FORWARD", [record(id, amount)], record(id, amount, { name: "extra", type: "string" }))).toEqual([]);
    });

    it("refuses removing a field the old schema has no default for", () => {
      expect(check("FORWARD", [record(id, amount)], record(id))).toEqual([
        'subject "shop.orders-value": field "amount" was removed and has no default in the old schema, which FORWARD forbids (consumers on the old schema cannot read new records)',
      ]);
    });

    it("refuses a new enum symbol old consumers do not know", () => {
      const e = (...symbols: string[]) => ({ name: "state", type: { type: "enum", name: "State", symbols } });
      expect(check("FORWARD", [record(e("A", "B"))], record(e("A", "B", "C")))[0]).toContain('field "state" gained the symbols C');
    });
  });

  describe("FORWARD_TRANSITIVE", () => {
    const history = [record(id, a()), record(id, a({ default: 0 }))];

    it("accepts a change every old version reads", () => {
      expect(check("FORWARD_TRANSITIVE", history, record(id, a(), note))).toEqual([]);
    });

    it("refuses removing a field only the latest version has a default for", () => {
      expect(check("FORWARD", history, record(id))).toEqual([]);
      expect(check("FORWARD_TRANSITIVE", history, record(id))).toEqual([
        'subject "shop.orders-value": field "a" was removed and has no default in the old schema (checked against version 1), which FORWARD_TRANSITIVE forbids (consumers on the old schema cannot read new records)',
      ]);
    });
  });

  describe("FULL: both ways, against the latest version", () => {
    it("accepts a new optional field", () => {
      expect(check("FULL", [record(id)], record(id, note))).toEqual([]);
    });

    it("refuses a new required field, and says which direction breaks", () => {
      expect(check("FULL", [record(id)], record(id, a()))).toEqual([
        'subject "shop.orders-value": field "a" was added without a default, which FULL forbids (consumers on the new schema cannot read old records)',
      ]);
    });
  });

  describe("FULL_TRANSITIVE", () => {
    const history = [record(id, a()), record(id, a({ default: 0 }))];

    it("accepts a change every version reads and is read by", () => {
      expect(check("FULL_TRANSITIVE", history, record(id, a({ default: 0 }), note))).toEqual([]);
    });

    it("refuses what breaks an old version although the latest is fine", () => {
      expect(check("FULL", history, record(id))).toEqual([]);
      expect(check("FULL_TRANSITIVE", history, record(id))).toEqual([
        'subject "shop.orders-value": field "a" was removed and has no default in the old schema (checked against version 1), which FULL_TRANSITIVE forbids (consumers on the old schema cannot read new records)',
      ]);
    });
  });

  describe("NONE", () => {
    it("accepts any change, even one that breaks every consumer", () => {
      expect(check("NONE", [record(id, amount)], record({ name: "id", type: "string" }))).toEqual([]);
    });
  });
});

describe("compatibility of recursive schemas", () => {
  it("terminates and accepts an unchanged linked list", () => {
    const node = { type: "record", name: "Node", fields: [{ name: "v", type: "long" }, { name: "next", type: ["null", "Node"], default: null }] };
    expect(check("FULL_TRANSITIVE", [node], node)).toEqual([]);
  });
});
