/**
 * The sql sink reads of a change event only what it writes: the row, the op and where it came from
 * (source.db, source.table). avsc's schema resolution skips the rest while decoding; the values
 * it keeps must equal those of a full read, for our envelope and for Debezium's.
 */
import pino from "pino";
import { describe, expect, it } from "vitest";
import { canonicalForm, parseSchema, schemaId } from "../../../src/runtime/avro/canonical.js";
import type { AvroSchema } from "../../../src/runtime/connector.js";
import { SchemaCatalog } from "../../../src/runtime/schema-registry/catalog.js";
import { AvroDeserializer } from "../../../src/runtime/schema-registry/deserializer.js";
import { EmbeddedRegistry } from "../../../src/runtime/schema-registry/embedded-registry.js";
import { envelope, tableStream } from "../../../src/runtime/sql-types/envelope.js";
import type { ColumnInfo } from "../../../src/runtime/sql-types/mapping.js";
import { changeOf, changeView } from "../../../src/sinks/sql/changes.js";
import { MemoryTopic } from "../schema-registry/memory-log.js";

const COLUMNS: ColumnInfo[] = [
  { name: "id", dialect: "mysql", sqlType: "bigint(20)", nullable: false },
  { name: "name", dialect: "mysql", sqlType: "varchar(64)", nullable: true },
  { name: "created", dialect: "mysql", sqlType: "datetime(6)", nullable: false },
  { name: "price", dialect: "mysql", sqlType: "decimal(10,2)", nullable: false },
];

/** A payload in the wire format under the schema's registered id, and a deserializer that knows it. */
async function framed(schema: AvroSchema, value: unknown): Promise<{ data: Buffer; deserializer: AvroDeserializer }> {
  const registry = new EmbeddedRegistry({ log: new MemoryTopic().tail(), logger: pino({ level: "silent" }), defaultCompatibility: "BACKWARD" });
  await registry.start();
  await registry.register("t-value", JSON.stringify(schema));
  const header = Buffer.alloc(5);
  header.writeInt32BE(schemaId(canonicalForm(schema)), 1);
  return { data: Buffer.concat([header, parseSchema(schema).type.toBuffer(value)]), deserializer: new AvroDeserializer(new SchemaCatalog(registry)) };
}

const ROW = { id: 42n, name: "ada", created: "2024-03-01T12:34:56.000001", price: "12.50" };

describe("the sql sink's view of a change event", () => {
  it("decodes our envelope's row, op and origin as a full read does, and builds nothing else", async () => {
    const stream = tableStream({ columns: COLUMNS, primaryKey: ["id"] }, { topic: "t" });
    const source = { connector: "binlog", name: "src", db: "shop", table: "orders", file: "mariadb-bin.000042", pos: 123_456n, gtid: "0-1-77", row: 3, snapshot: null, ts_ms: 1_700_000_000_000n, txId: 9n };
    const event = envelope("u", { ...ROW, name: "old" }, ROW, source, { id: "0-1-77", total_order: 5n, data_collection_order: 2n });
    const { data, deserializer } = await framed(stream.valueSchema, event);

    const whole = (await deserializer.deserialize(data))!;
    const viewed = (await deserializer.deserialize(data, changeView))!;
    const value = viewed.value as Record<string, unknown>;
    expect(Object.keys(value).sort()).toEqual(["after", "before", "op", "source"]);
    expect(value.source).toEqual({ db: "shop", table: "orders" });
    const full = whole.value as Record<string, unknown>;
    expect(value.before).toEqual(full.before);
    expect(value.after).toEqual(full.after);
    expect(value.after).toEqual(ROW);
    expect(viewed.schema).toBe(whole.schema);
    expect(deserializer.deserializeKnown(data, changeView)).toEqual(viewed);

    const record = { topic: "t", partition: 0, offset: "0", key: { id: 42n }, keySchema: stream.keySchema, value: viewed.value, valueSchema: viewed.schema, headers: {}, timestamp: 0 };
    expect(changeOf(record)).toMatchObject({ op: "upsert", row: ROW, origin: { db: "shop", table: "orders" } });
  });

  it("reads Debezium's envelope too: the row record defined in `before`, its source block under Debezium's name", async () => {
    const row = { type: "record", name: "Value", namespace: "dbserver1.inventory.customers", fields: [{ name: "id", type: "int" }, { name: "email", type: "string" }] };
    const schema = {
      type: "record",
      name: "Envelope",
      namespace: "dbserver1.inventory.customers",
      fields: [
        { name: "before", type: ["null", row], default: null },
        { name: "after", type: ["null", "Value"], default: null },
        {
          name: "source",
          type: {
            type: "record",
            name: "Source",
            namespace: "io.debezium.connector.mysql",
            fields: [
              { name: "version", type: "string" },
              { name: "connector", type: "string" },
              { name: "name", type: "string" },
              { name: "ts_ms", type: "long" },
              { name: "snapshot", type: [{ type: "string", "connect.version": 1, "connect.parameters": { allowed: "true,last,false,incremental" }, "connect.default": "false", "connect.name": "io.debezium.data.Enum" }, "null"], default: "false" },
              { name: "db", type: "string" },
              { name: "sequence", type: ["null", "string"], default: null },
              { name: "table", type: ["null", "string"], default: null },
              { name: "server_id", type: "long" },
              { name: "gtid", type: ["null", "string"], default: null },
              { name: "file", type: "string" },
              { name: "pos", type: "long" },
              { name: "row", type: "int" },
              { name: "thread", type: ["null", "long"], default: null },
              { name: "query", type: ["null", "string"], default: null },
            ],
          },
        },
        { name: "op", type: "string" },
        { name: "ts_ms", type: ["null", "long"], default: null },
        { name: "transaction", type: ["null", { type: "record", name: "block", namespace: "event", fields: [{ name: "id", type: "string" }, { name: "total_order", type: "long" }, { name: "data_collection_order", type: "long" }] }], default: null },
      ],
    } as AvroSchema;
    const source = { version: "3.6.1.Final", connector: "mysql", name: "dbserver1", ts_ms: 1n, snapshot: "false", db: "inventory", sequence: null, table: "customers", server_id: 223344n, gtid: null, file: "mysql-bin.000003", pos: 154n, row: 0, thread: 7n, query: null };
    const event = { before: null, after: { id: 1004, email: "annek@noanswer.org" }, source, op: "c", ts_ms: 2n, transaction: { id: "x", total_order: 1n, data_collection_order: 1n } };
    const { data, deserializer } = await framed(schema, event);
    const value = (await deserializer.deserialize(data, changeView))!.value;
    expect(value).toEqual({ before: null, after: { id: 1004, email: "annek@noanswer.org" }, source: { db: "inventory", table: "customers" }, op: "c" });
  });

  it("reads any other value whole: a plain row, and a schema its view cannot resolve", async () => {
    const plain = { type: "record", name: "Row", fields: [{ name: "id", type: "long" }, { name: "source", type: "string" }] } as AvroSchema;
    expect(changeView(plain)).toBeUndefined();
    const { data, deserializer } = await framed(plain, { id: 1n, source: "kept" });
    expect((await deserializer.deserialize(data, changeView))!.value).toEqual({ id: 1n, source: "kept" });

    const renamed = (() => ({ type: "record", name: "Other", fields: [{ name: "id", type: "long" }] })) as (writer: AvroSchema) => AvroSchema;
    expect((await deserializer.deserialize(data, renamed))!.value).toEqual({ id: 1n, source: "kept" });
  });
});
