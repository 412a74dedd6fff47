import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AvroSchema } from "../../../src/runtime/connector.js";
import { SchemaChangeNotifier, type SchemaChangeNotice } from "../../../src/runtime/governance/schema-changes.js";
import { parseSchema } from "../../../src/runtime/avro/canonical.js";
import { createSchemaService, parseSchemaRegistryConfig, type SchemaService } from "../../../src/runtime/schema-registry/index.js";
import { harness, readTopic, uniqueName } from "../../harness/index.js";
import { silentLog, testKafka } from "../../support/kafka.js";

const v1 = { type: "record", name: "Order", namespace: "shop", fields: [{ name: "id", type: "long" }] } as AvroSchema;
const v2 = { type: "record", name: "Order", namespace: "shop", fields: [{ name: "id", type: "long" }, { name: "note", type: ["null", "string"], default: null }] } as AvroSchema;

describe("schema-change notices", () => {
  const topic = uniqueName("gov_changes");
  let service: SchemaService;
  const notifiers: SchemaChangeNotifier[] = [];
  const notifier = async (worker: string) => {
    const n = await SchemaChangeNotifier.open({ kafka: testKafka(), topic, log: silentLog, registry: service.registry, worker, replicationFactor: 1, transactionTimeoutMs: 60_000 });
    notifiers.push(n);
    return n;
  };
  const notices = async () =>
    // records without a value are the read barriers of the workers tailing the topic
    (await readTopic(harness().kafka.brokers, topic, { timeoutMs: 30_000 })).filter((r) => r.value !== null).map((r) => JSON.parse(r.value!.toString()) as SchemaChangeNotice);

  beforeAll(async () => {
    service = await createSchemaService(parseSchemaRegistryConfig({ topic: uniqueName("gov_registry") }), { kafka: testKafka(), log: silentLog });
  });
  afterAll(async () => {
    await Promise.all(notifiers.map((n) => n.close()));
    await service?.close();
  });

  it("is published before the first record with the new version, naming the field added", async () => {
    const first = await notifier("w1");
    const off = service.catalog.onSubjectSchema(first.onSubjectSchema);
    const subject = `${uniqueName("orders")}-value`;
    const record = (schema: AvroSchema, value: object) => ({ topic: subject.slice(0, -"-value".length), key: null, keySchema: null, value, valueSchema: schema });
    await service.serializer.serialize([record(v1, { id: 1n })]);
    await service.serializer.serialize([record(v2, { id: 2n, note: "hi" })]);
    off();
    // already there when serialize returned: nothing to wait for
    const mine = (await notices()).filter((n) => n.subject === subject);
    expect(mine.map((n) => [n.oldVersion, n.newVersion])).toEqual([
      [null, 1],
      [1, 2],
    ]);
    expect(mine[1]).toMatchObject({ compatibility: "BACKWARD", added: [{ field: "note" }], removed: [], changed: [], worker: "w1" });
  });

  it("is published once when two workers race for the same version, and by a later worker when the one that registered died first", async () => {
    const subject = `${uniqueName("race")}-value`;
    await service.registry.register(subject, JSON.stringify(v1));
    await service.registry.register(subject, JSON.stringify(v2));
    // the worker that registered v2 "crashed" before its notice: none was published
    const [a, b] = await Promise.all([notifier("a"), notifier("b")]);
    const event = (schema: AvroSchema, id: number) => ({ subject, schema: parseSchema(schema), id, level: "BACKWARD" as const, registered: false });
    const id2 = (await service.registry.lookup(subject, JSON.stringify(v2)))!.id;
    const id1 = (await service.registry.lookup(subject, JSON.stringify(v1)))!.id;
    await Promise.all([...Array.from({ length: 3 }, () => a.onSubjectSchema(event(v2, id2))), ...Array.from({ length: 3 }, () => b.onSubjectSchema(event(v2, id2)))]);
    await Promise.all([a.onSubjectSchema(event(v1, id1)), b.onSubjectSchema(event(v1, id1))]);
    const mine = (await notices()).filter((n) => n.subject === subject);
    expect(mine.map((n) => n.newVersion).sort()).toEqual([1, 2]);
    expect(mine.find((n) => n.newVersion === 2)).toMatchObject({ oldVersion: 1, added: [{ field: "note" }] });
  });
});
