import { expect } from "vitest";
import type { ChangeRecord } from "../../src/runtime/connector.js";
import { avroType } from "../../src/runtime/avro/logical-types.js";

/** The record's key and value are valid for their schemas and come back equal from Avro. */
export async function assertEncodable(record: ChangeRecord): Promise<void> {
  for (const [part, value, schema] of [
    ["key", record.key, record.keySchema],
    ["value", record.value, record.valueSchema],
  ] as const) {
    if (schema === null) {
      expect(value, `${record.topic}: a ${part} without a schema must be null (or raw bytes)`).toSatisfy((v) => v === null || Buffer.isBuffer(v));
      continue;
    }
    const type = avroType(schema);
    const errors: string[] = [];
    type.isValid(value, { errorHook: (path) => errors.push(path.join(".") || "(root)") });
    expect(errors, `${record.topic}: ${part} fields that do not fit the schema`).toEqual([]);
    // decoding and encoding again gives the same bytes: nothing was lost on the way
    const encoded = type.toBuffer(value);
    expect(type.toBuffer(type.fromBuffer(encoded)), `${record.topic}: ${part} after an Avro round trip`).toEqual(encoded);
  }
}
