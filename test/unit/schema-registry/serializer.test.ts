import pino from "pino";
import { describe, expect, it } from "vitest";
import type { AvroSchema, ChangeRecord } from "../../../src/runtime/connector.js";
import { SchemaCatalog } from "../../../src/runtime/schema-registry/catalog.js";
import { AvroDeserializer } from "../../../src/runtime/schema-registry/deserializer.js";
import { EmbeddedRegistry } from "../../../src/runtime/schema-registry/embedded-registry.js";
import { createSchemaGate } from "../../../src/runtime/schema-registry/gate.js";
import { avroType } from "../../../src/runtime/avro/logical-types.js";
import type { SchemaRegistry } from "../../../src/runtime/schema-registry/registry-api.js";
import { AvroSerializer } from "../../../src/runtime/schema-registry/serializer.js";
import { MemoryTopic } from "./memory-log.js";

/** The registry with every call counted, to show what the caches save. */
function counted(registry: SchemaRegistry): { registry: SchemaRegistry; calls: string[] } {
  const calls: string[] = [];
  const proxy = new Proxy(registry, {
    get(target, name, receiver) {
      const value: unknown = Reflect.get(target, name, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        calls.push(String(name));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { registry: proxy, calls };
}

async function setup() {
  const embedded = new EmbeddedRegistry({ log: new MemoryTopic().tail(), logger: pino({ level: "silent" }), defaultCompatibility: "BACKWARD" });
  await embedded.start();
  const { registry, calls } = counted(embedded);
  const catalog = new SchemaCatalog(registry);
  return { registry, calls, serializer: new AvroSerializer(catalog), deserializer: new AvroDeserializer(catalog), gate: createSchemaGate(catalog) };
}

const keySchema = { type: "record", name: "Key", namespace: "t", fields: [{ name: "id", type: "long" }] } as AvroSchema;
const valueSchema = {
  type: "record",
  name: "Value",
  namespace: "t",
  fields: [
    { name: "id", type: "long" },
    { name: "amount", type: { type: "bytes", logicalType: "decimal", precision: 10, scale: 2 } },
    { name: "at", type: ["null", { type: "long", logicalType: "timestamp-micros" }], default: null },
  ],
} as AvroSchema;

const change = (id: bigint, topic = "shop.orders"): ChangeRecord => ({
  topic,
  key: { id },
  keySchema,
  value: { id, amount: "12.30", at: "2038-01-19T03:14:07.999999Z" },
  valueSchema,
});

describe("the Avro serializer and deserializer", () => {
  it("frames keys and values in Confluent's wire format: magic 0, the id big-endian, the Avro body", async () => {
    const { serializer, registry } = await setup();
    const [encoded] = await serializer.serialize([change(7n)]);
    const valueId = (await registry.lookup("shop.orders-value", JSON.stringify(valueSchema)))!.id;
    const keyId = (await registry.lookup("shop.orders-key", JSON.stringify(keySchema)))!.id;
    expect(encoded!.value!.subarray(0, 5)).toEqual(Buffer.from([0, valueId >>> 24, (valueId >>> 16) & 255, (valueId >>> 8) & 255, valueId & 255]));
    expect(encoded!.value!.subarray(5)).toEqual(avroType(valueSchema).toBuffer(change(7n).value));
    expect(encoded!.key!.readInt32BE(1)).toBe(keyId);
  });

  it("gives back exactly what it was given", async () => {
    const { serializer, deserializer } = await setup();
    const records = [change(1n), change(9223372036854775807n)];
    const encoded = await serializer.serialize(records);
    for (const [i, e] of encoded.entries()) {
      expect((await deserializer.deserialize(e.value))!.value).toEqual(records[i]!.value);
      expect((await deserializer.deserialize(e.key))!.value).toEqual(records[i]!.key);
    }
  });

  it("makes no registry call at all on a steady stream", async () => {
    const { serializer, deserializer, calls } = await setup();
    const first = await serializer.serialize([change(1n)]);
    await deserializer.deserialize(first[0]!.value);
    calls.length = 0;
    for (let i = 0; i < 100; i++) {
      const encoded = await serializer.serialize([change(BigInt(i)), change(BigInt(i) + 1n)]);
      await deserializer.deserialize(encoded[1]!.value);
    }
    expect(calls).toEqual([]);
  });

  it("decodes without a promise once a schema id is known, and says when it is not", async () => {
    const { serializer, deserializer } = await setup();
    const [e] = await serializer.serialize([change(7n)]);
    expect(deserializer.deserializeKnown(e!.value)).toBe(undefined);
    const decoded = await deserializer.deserialize(e!.value);
    expect(deserializer.deserializeKnown(e!.value)).toEqual(decoded);
    expect(deserializer.deserializeKnown(null)).toBe(null);
    expect(() => deserializer.deserializeKnown(e!.value!.subarray(0, e!.value!.length - 1))).toThrow(expect.objectContaining({ code: "WIRE_FORMAT_INVALID" }));
  });

  it("registers the same schema under each topic's subject, with one id", async () => {
    const { serializer, registry } = await setup();
    const [a, b] = await serializer.serialize([change(1n, "a"), change(1n, "b")]);
    expect(a!.value!.readInt32BE(1)).toBe(b!.value!.readInt32BE(1));
    expect(await registry.subjects()).toEqual(["a-key", "a-value", "b-key", "b-value"]);
  });

  it("registers a value under the subject its record names, so one topic can carry several record types", async () => {
    const { serializer, registry } = await setup();
    const other = { type: "record", name: "Shipped", namespace: "t", fields: [{ name: "at", type: "string" }] } as AvroSchema;
    const [created, shipped, again] = await serializer.serialize([
      { ...change(1n, "orders"), valueSubject: "orders-t.Value" },
      { topic: "orders", key: { id: 1n }, keySchema, value: { at: "now" }, valueSchema: other, valueSubject: "orders-t.Shipped" },
      { ...change(2n, "orders"), valueSubject: "orders-t.Value" },
    ]);
    expect(await registry.subjects()).toEqual(["orders-key", "orders-t.Shipped", "orders-t.Value"]);
    expect(created!.value!.readInt32BE(1)).toBe(again!.value!.readInt32BE(1));
    expect(shipped!.value!.readInt32BE(1)).toBe((await registry.lookup("orders-t.Shipped", JSON.stringify(other)))!.id);
  });

  it("passes tombstones and null keys through as null", async () => {
    const { serializer } = await setup();
    const [tombstone, keyless] = await serializer.serialize([
      { topic: "t", key: { id: 1n }, keySchema, value: null, valueSchema: null },
      { ...change(1n, "t"), key: null, keySchema: null },
    ]);
    expect(tombstone!.value).toBe(null);
    expect(tombstone!.key).not.toBe(null);
    expect(keyless!.key).toBe(null);
  });

  it("encodes nothing of a batch whose schema the subject's rule refuses", async () => {
    const { serializer, registry } = await setup();
    await serializer.serialize([change(1n)]);
    const broken = { ...(valueSchema as object), fields: [{ name: "id", type: "string" }] } as AvroSchema;
    await expect(serializer.serialize([change(2n), { ...change(3n), value: { id: "x" }, valueSchema: broken }])).rejects.toMatchObject({
      code: "SCHEMA_INCOMPATIBLE",
      message: expect.stringContaining('subject "shop.orders-value": field "id" changed from long to string, which BACKWARD forbids'),
    });
    expect(await registry.versions("shop.orders-value")).toEqual([1]);
  });

  it("names the topic, field and value that does not fit the schema", async () => {
    const { serializer } = await setup();
    await expect(serializer.serialize([{ ...change(1n), value: { id: 1n, amount: "12.345", at: null } }])).rejects.toMatchObject({
      code: "SCHEMA_VALUE_INVALID",
      message: 'topic "shop.orders" value: field "amount": "12.345" is not a valid bytes(decimal 10,2)',
    });
  });

  it("grows its buffer for records larger than it", async () => {
    const { serializer, deserializer } = await setup();
    const big = { type: "record", name: "Big", fields: [{ name: "blob", type: "bytes" }] } as AvroSchema;
    const blob = Buffer.alloc(300_000, 7);
    const records = Array.from({ length: 3 }, (_, i) => ({ topic: "big", key: null, keySchema: null, value: { blob: Buffer.alloc(100_000 * i, i) }, valueSchema: big }));
    records.push({ topic: "big", key: null, keySchema: null, value: { blob }, valueSchema: big });
    const encoded = await serializer.serialize(records);
    for (const [i, e] of encoded.entries()) expect((await deserializer.deserialize(e.value))!.value).toEqual(records[i]!.value);
  });

  it("serializes concurrent batches that register new schemas without mixing them up", async () => {
    const { serializer, deserializer } = await setup();
    const batches = await Promise.all(["a", "b", "c"].map((topic, i) => serializer.serialize([change(BigInt(i), topic), change(BigInt(i + 10), topic)])));
    for (const [i, batch] of batches.entries()) {
      expect((await deserializer.deserialize(batch[1]!.value))!.value).toEqual(change(BigInt(i + 10)).value);
    }
  });

  it("refuses payloads that are not in the wire format", async () => {
    const { serializer, deserializer } = await setup();
    const [encoded] = await serializer.serialize([change(1n)]);
    const value = encoded!.value!;
    await expect(deserializer.deserialize(Buffer.from([1, 0, 0, 0, 1]))).rejects.toMatchObject({ code: "WIRE_FORMAT_INVALID", message: expect.stringContaining("magic byte 1") });
    await expect(deserializer.deserialize(value.subarray(0, 3))).rejects.toMatchObject({ code: "WIRE_FORMAT_INVALID" });
    await expect(deserializer.deserialize(value.subarray(0, value.length - 1))).rejects.toMatchObject({ code: "WIRE_FORMAT_INVALID" });
    await expect(deserializer.deserialize(Buffer.concat([value, Buffer.from([0])]))).rejects.toMatchObject({ message: expect.stringContaining("1 bytes after the record") });
    expect(await deserializer.deserialize(null)).toBe(null);
  });

  it("lets a source check a schema change before producing it, without registering it", async () => {
    const { serializer, gate, registry } = await setup();
    await serializer.serialize([change(1n)]);
    const added = { ...(valueSchema as object), fields: [...(valueSchema as { fields: object[] }).fields, { name: "x", type: "int" }] } as AvroSchema;
    await expect(gate.check("shop.orders-value", added)).rejects.toMatchObject({ message: expect.stringContaining('field "x" was added without a default') });
    const optional = { ...(valueSchema as object), fields: [...(valueSchema as { fields: object[] }).fields, { name: "x", type: ["null", "int"], default: null }] } as AvroSchema;
    await gate.check("shop.orders-value", optional);
    expect(await registry.versions("shop.orders-value")).toEqual([1]);
  });

  it("lets a source take a registered schema from its subject, the same object every time", async () => {
    const { gate, registry } = await setup();
    await registry.register("events.Created", JSON.stringify(valueSchema));
    const taken = await gate.registered!("events.Created");
    expect(avroType(taken).isValid(change(1n).value)).toBe(true);
    expect(await gate.registered!("events.Created", 1)).toBe(taken);
    await expect(gate.registered!("events.Missing")).rejects.toMatchObject({ code: "SCHEMA_SUBJECT_NOT_FOUND" });
  });
});
