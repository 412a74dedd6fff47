import type { AvroSchema, ChangeRecord } from "../../runtime/connector.js";

const KEY_SCHEMA: AvroSchema = {
  type: "record",
  name: "Key",
  namespace: "liberator.generator",
  fields: [{ name: "id", type: "long" }],
};

const VALUE_SCHEMA: AvroSchema = {
  type: "record",
  name: "Event",
  namespace: "liberator.generator",
  doc: "A synthetic event from the generator source, for demos and tests",
  fields: [
    { name: "id", type: "long" },
    { name: "text", type: "string" },
    { name: "ts_ms", type: "long" },
  ],
};

export function generatedRecord(topic: string, id: number, now: number): ChangeRecord {
  return {
    topic,
    key: { id },
    keySchema: KEY_SCHEMA,
    value: { id, text: `event ${id}`, ts_ms: now },
    valueSchema: VALUE_SCHEMA,
    timestamp: now,
  };
}
