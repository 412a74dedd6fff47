/**
 * An id the registry does not know, met by several connectors of one process: the lookup they
 * share fails as the record's fault (a data error), names no connector of its own, and is asked
 * again next time, so a schema registered meanwhile is found.
 */
import pino from "pino";
import { describe, expect, it } from "vitest";
import { canonicalForm, schemaId } from "../../../src/runtime/avro/canonical.js";
import { ErrorCode, LiberatorError, toLiberatorError } from "../../../src/runtime/errors.js";
import { SchemaCatalog } from "../../../src/runtime/schema-registry/catalog.js";
import { AvroDeserializer } from "../../../src/runtime/schema-registry/deserializer.js";
import { EmbeddedRegistry } from "../../../src/runtime/schema-registry/embedded-registry.js";
import { MemoryTopic } from "./memory-log.js";

/** The Confluent wire format: magic byte 0, the id, the body. */
function frame(id: number, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeInt32BE(id, 1);
  return Buffer.concat([header, body]);
}

async function catalog(): Promise<{ registry: EmbeddedRegistry; deserializer: AvroDeserializer }> {
  const registry = new EmbeddedRegistry({ log: new MemoryTopic().tail(), logger: pino({ level: "silent" }), defaultCompatibility: "BACKWARD" });
  await registry.start();
  return { registry, deserializer: new AvroDeserializer(new SchemaCatalog(registry)) };
}

describe("a schema id the registry does not know", () => {
  it("is a data error of the record, and each connector's report names that connector only", async () => {
    const { deserializer } = await catalog();
    const record = frame(32767, Buffer.from([2]));
    // two sinks meet the same record at once: one lookup, one rejection for both
    const [a, b] = await Promise.allSettled([deserializer.deserialize(record), deserializer.deserialize(record)]);
    const shared = (a as PromiseRejectedResult).reason as LiberatorError;
    expect(shared).toMatchObject({ code: ErrorCode.SCHEMA_NOT_FOUND, category: "data", retriable: false });
    const forPg = toLiberatorError(shared, "pg");
    const forDlq = toLiberatorError((b as PromiseRejectedResult).reason, "pgdlq");
    expect(forPg.describe()).toBe('connector "pg": Schema 32767 not found');
    expect(forDlq.describe()).toBe('connector "pgdlq": Schema 32767 not found');
    expect(forPg).toBeInstanceOf(LiberatorError);
    expect(shared.connector).toBeUndefined();
  });

  it("is asked for again at the next record: a failed lookup is not remembered", async () => {
    const { registry, deserializer } = await catalog();
    const schema = JSON.stringify({ type: "record", name: "R", fields: [{ name: "id", type: "long" }] });
    const id = schemaId(canonicalForm(JSON.parse(schema)));
    const record = frame(id, Buffer.from([2]));
    await expect(deserializer.deserialize(record)).rejects.toMatchObject({ code: ErrorCode.SCHEMA_NOT_FOUND });
    await registry.register("t-value", schema);
    expect(await deserializer.deserialize(record)).toMatchObject({ value: { id: 1n }, schemaId: id });
  });
});
