import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { AvroSchema, ChangeRecord } from "../../../src/runtime/connector.js";
import { streamsConfigSchema } from "../../../src/runtime/governance/config.js";
import { StreamDeclarations } from "../../../src/runtime/governance/metadata.js";
import { SourceGovernance, type StreamObservation } from "../../../src/runtime/governance/source-governance.js";
import { parseSchema } from "../../../src/runtime/avro/canonical.js";
import { envelope, tableStream } from "../../../src/runtime/sql-types/envelope.js";
import type { ColumnInfo } from "../../../src/runtime/sql-types/mapping.js";
import { avroType } from "../../../src/runtime/avro/logical-types.js";
import pino from "pino";

const HASH_KEY = "unit-test-hash-key-0123";
const TOPIC = "demo.shop.customers";
const column = (name: string, sqlType: string, nullable = false, defaultValue?: string): ColumnInfo => ({ name, dialect: "mysql", sqlType, nullable, defaultValue });
const stream = tableStream(
  {
    columns: [
      column("id", "int(11)"),
      column("name", "varchar(100)"),
      column("email", "varchar(200)", false, "nobody@example.invalid"),
      column("ssn", "char(11)", true),
      column("amount", "decimal(10,2)"),
    ],
    primaryKey: ["id"],
  },
  { topic: TOPIC },
);
const source = { connector: "binlog", name: "shop-cdc", db: "shop", table: "customers", ts_ms: 0 };
const row = { id: 7, name: "Ada Lovelace", email: "ada@example.com", ssn: "123-45-6789", amount: "12.50" };

function governance(streams: unknown, observed: StreamObservation[] = []) {
  const declarations = new StreamDeclarations(streamsConfigSchema.parse(streams));
  return new SourceGovernance({ name: "shop-cdc", type: "binlog" }, { declarations, log: pino({ level: "silent" }), observe: async (o) => void observed.push(o) });
}

const change = (before: typeof row | null, after: typeof row | null): ChangeRecord => ({
  topic: TOPIC,
  key: { id: 7 },
  keySchema: stream.keySchema,
  value: envelope(after ? "c" : "d", before, after, source),
  valueSchema: stream.valueSchema,
});

type Field = { name: string; type: unknown; default?: unknown; doc?: string; [k: string]: unknown };
const rowFields = (schema: AvroSchema | null) => ((schema as { fields: { name: string; type: unknown }[] }).fields[0]!.type as unknown[])[1] as { fields: Field[] };
const field = (schema: AvroSchema | null, name: string) => rowFields(schema).fields.find((f) => f.name === name);

const CUSTOMERS = {
  hashKey: HASH_KEY,
  defaults: { owner: "data-platform" },
  topics: {
    [TOPIC]: {
      owner: "crm",
      namespace: "sales",
      description: "Customers of the shop",
      pii: { name: "mask", email: "hash", ssn: "drop" },
      financial: ["amount"],
      deprecated: { replacement: "demo.shop.customers_v2", date: "2030-06-30" },
    },
  },
};

describe("stream governance on a source's records", () => {
  it("puts the stream's metadata on the record and each field's PII handling and financial flag on the field", () => {
    const [out] = governance(CUSTOMERS).prepare([change(null, row)]);
    const schema = out!.valueSchema as Record<string, unknown>;
    expect(schema).toMatchObject({
      doc: "Customers of the shop",
      "liberator.owner": "crm",
      "liberator.namespace": "sales",
      "liberator.description": "Customers of the shop",
      "liberator.deprecated": true,
      "liberator.deprecated.replacement": "demo.shop.customers_v2",
      "liberator.deprecated.date": "2030-06-30",
    });
    expect(field(out!.valueSchema, "name")).toMatchObject({ type: "string", "liberator.pii": "masked" });
    expect(field(out!.valueSchema, "email")).toMatchObject({ type: "string", "liberator.pii": "hashed" });
    expect(field(out!.valueSchema, "email")).not.toHaveProperty("default");
    expect(field(out!.valueSchema, "ssn")).toBeUndefined();
    expect(field(out!.valueSchema, "amount")).toMatchObject({ "liberator.financial": true });
    // the source's schema object is left as it was
    expect(field(stream.valueSchema, "email")).toMatchObject({ default: "nobody@example.invalid" });
  });

  it("masks, hashes (keyed HMAC, so equal values join) and drops the values of before and after, and the schema still encodes them", () => {
    const [out] = governance(CUSTOMERS).prepare([change(row, row)]);
    const value = out!.value as { before: Record<string, unknown>; after: Record<string, unknown> };
    const hmac = createHmac("sha256", HASH_KEY).update("ada@example.com").digest("hex");
    for (const image of [value.before, value.after]) {
      expect(image.name).toBe("****");
      expect(image.email).toBe(hmac);
    }
    const bytes = avroType(out!.valueSchema!).toBuffer(out!.value);
    const text = bytes.toString("latin1");
    for (const clear of ["Ada Lovelace", "ada@example.com", "123-45-6789"]) expect(text).not.toContain(clear);
    expect(JSON.stringify(out!.valueSchema)).not.toContain("nobody@example.invalid");
  });

  it("hands the serializer the same decorated schema object for every record of a schema, and leaves bare streams untouched", () => {
    const g = governance(CUSTOMERS);
    const first = g.prepare([change(null, row)])[0]!;
    const second = g.prepare([change(null, row)])[0]!;
    expect(second.valueSchema).toBe(first.valueSchema);
    expect(second.keySchema).toBe(first.keySchema);
    const bare = [change(null, row)];
    expect(governance({}).prepare(bare)).toBe(bare);
  });

  it("changes the schema id when metadata changes, so the registry serves the new text", () => {
    const a = governance(CUSTOMERS).prepare([change(null, row)])[0]!.valueSchema!;
    const b = governance({ ...CUSTOMERS, topics: { [TOPIC]: { ...CUSTOMERS.topics[TOPIC], owner: "billing" } } }).prepare([change(null, row)])[0]!.valueSchema!;
    expect(parseSchema(a).canonical).not.toBe(parseSchema(b).canonical);
    expect(parseSchema(a).canonical).toContain('"liberator.owner":"crm"');
  });

  it("hashes a key field in the key too, and refuses to mask or drop one", () => {
    const [out] = governance({ hashKey: HASH_KEY, topics: { [TOPIC]: { pii: { id: "hash" } } } }).prepare([change(null, row)]);
    const expected = createHmac("sha256", HASH_KEY).update("7").digest("hex");
    expect(out!.key).toEqual({ id: expected });
    expect((out!.value as { after: { id: string } }).after.id).toBe(expected);
    for (const how of ["mask", "drop"]) {
      expect(() => governance({ topics: { [TOPIC]: { pii: { id: how } } } }).prepare([change(null, row)])).toThrow(
        expect.objectContaining({ code: "GOVERNANCE_PII_KEY" }),
      );
    }
  });

  it("flags clear PII without touching the value, and keeps what the source's column policy did", () => {
    const policed = tableStream({ columns: [column("id", "int(11)"), column("email", "varchar(200)")], primaryKey: ["id"] }, { topic: TOPIC, columns: { hash: ["email"] }, hashKey: HASH_KEY });
    const record: ChangeRecord = { topic: TOPIC, key: { id: 1 }, keySchema: policed.keySchema, value: envelope("c", null, { id: 1, email: "h" }, source), valueSchema: policed.valueSchema };
    const [out] = governance({ hashKey: HASH_KEY, topics: { [TOPIC]: { pii: { email: "hash", id: "clear" } } } }).prepare([record]);
    expect((out!.value as { after: { email: string } }).after.email).toBe("h");
    expect(field(out!.valueSchema, "id")).toMatchObject({ "liberator.pii": "clear" });
  });

  it("decorates what the source's schema gate checks, so a DDL is judged against what is published", async () => {
    const checked: AvroSchema[] = [];
    const gate = governance(CUSTOMERS).gate({ check: async (_subject, schema) => void checked.push(schema) });
    await gate.check(`${TOPIC}-value`, stream.valueSchema);
    await gate.check("other-value", stream.valueSchema);
    await gate.check("other-shop.events.OrderPlaced", stream.valueSchema);
    expect(field(checked[0]!, "ssn")).toBeUndefined();
    // another topic: only the defaults apply
    expect(checked[1]).toMatchObject({ "liberator.owner": "data-platform" });
    expect(field(checked[1]!, "ssn")).toBeDefined();
    // not a TopicNameStrategy subject: its topic is unknown, the schema goes as it is
    expect(checked[2]).toBe(stream.valueSchema);
  });

  it("keeps of a batch only the records that show the catalog something new, one per stream", async () => {
    const observed: StreamObservation[] = [];
    const g = governance(CUSTOMERS, observed);
    const batch = g.prepare([change(null, row), change(row, row), { ...change(row, null), value: null }]);
    const sightings = g.sightings(batch);
    expect(sightings).toEqual([batch[0]]);
    await g.committed(sightings);
    expect(observed).toHaveLength(1);
    expect(g.sightings(g.prepare([change(null, row)]))).toEqual([]);
  });

  it("reports each stream to the catalog once per schema, after commit", async () => {
    const observed: StreamObservation[] = [];
    const g = governance(CUSTOMERS, observed);
    const batch = g.prepare([change(null, row), change(row, row), { ...change(row, null), value: null }]);
    await g.committed(batch);
    await g.committed(g.prepare([change(null, row)]));
    expect(observed).toHaveLength(1);
    expect(observed[0]).toMatchObject({ topic: TOPIC, connector: "shop-cdc", valueSubject: `${TOPIC}-value` });
    expect(observed[0]!.decorated.pii).toEqual([
      { field: "name", column: "name", handling: "masked", by: "stream" },
      { field: "email", column: "email", handling: "hashed", by: "stream" },
      { field: "ssn", column: "ssn", handling: "dropped", by: "stream" },
    ]);
  });

  it("scrubs a dead letter's JSON payload and error headers by the stream's handling, and withholds a payload it cannot read", () => {
    const dlq = (value: string): ChangeRecord => ({
      topic: "_liberator_dlq.shop-cdc",
      key: Buffer.from("7"),
      keySchema: null,
      value: Buffer.from(value),
      valueSchema: null,
      headers: { "liberator.original.topic": TOPIC, "liberator.error.message": 'field "email": "ada@example.com" is not valid', "liberator.error.code": "X" },
    });
    const g = governance(CUSTOMERS);
    const [json, text] = g.prepare([dlq(JSON.stringify(row)), dlq("not json ada@example.com")]);
    const payload = JSON.parse((json!.value as Buffer).toString()) as Record<string, unknown>;
    expect(payload).toMatchObject({ id: 7, name: "****", email: createHmac("sha256", HASH_KEY).update("ada@example.com").digest("hex"), amount: "12.50" });
    expect(payload).not.toHaveProperty("ssn");
    expect(json!.headers!["liberator.error.message"]).toBe('field "email": "****" is not valid');
    expect(text!.value).toBeNull();
    expect(String(text!.headers!["liberator.error.message"])).not.toContain("ada@example.com");
    expect(text!.headers!["liberator.pii.withheld"]).toContain(TOPIC);
  });
});
