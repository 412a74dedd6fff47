import Fastify from "fastify";
import kafkajs from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AvroSchema } from "../../../src/runtime/connector.js";
import { registryRoutes } from "../../../src/runtime/http/registry-routes.js";
import type { SchemaService } from "../../../src/runtime/schema-registry/index.js";
import { RegistryClient } from "../../../src/runtime/schema-registry/registry-client.js";
import { uniqueName } from "../../harness/index.js";
import { kafkaClient, schemaService } from "../sql-types/round-trip.js";

const { ConfigResourceTypes } = kafkajs;

const schema = (...extra: string[]) =>
  JSON.stringify({
    type: "record",
    name: "Value",
    namespace: "shop.orders",
    fields: [{ name: "id", type: "long" }, ...extra.map((name) => ({ name, type: ["null", "string"], default: null }))],
  });

describe("the embedded registry on Kafka, shared by several workers", () => {
  const topic = uniqueName("schemas_shared");
  const services: SchemaService[] = [];
  const worker = async () => {
    const service = await schemaService(kafkaClient(), topic);
    services.push(service);
    return service;
  };

  afterAll(async () => {
    await Promise.all(services.map((s) => s.close()));
  });

  it("keeps its state in a single-partition compacted topic", async () => {
    await worker();
    const admin = kafkaClient().admin();
    await admin.connect();
    try {
      const [metadata] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
      expect(metadata!.partitions).toHaveLength(1);
      const configs = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ["cleanup.policy"] }], includeSynonyms: false });
      expect(configs.resources[0]!.configEntries[0]).toMatchObject({ configName: "cleanup.policy", configValue: "compact" });
    } finally {
      await admin.disconnect();
    }
  });

  it("agrees on ids and versions when two workers register at the same moment", async () => {
    const [a, b] = await Promise.all([worker(), worker()]);
    const subject = "shop.orders-value";
    const [idA, idB, same1, same2] = await Promise.all([
      a.registry.register(subject, schema("a")),
      b.registry.register(subject, schema("b")),
      a.registry.register("shop.items-value", schema()),
      b.registry.register("shop.items-value", schema()),
    ]);
    expect(same1).toBe(same2);
    expect(idA).not.toBe(idB);
    const versionsA = await Promise.all([1, 2].map((v) => a.registry.version(subject, v)));
    const versionsB = await Promise.all([1, 2].map((v) => b.registry.version(subject, v)));
    expect(versionsB).toEqual(versionsA);
    expect(new Set(versionsA.map((v) => v.id))).toEqual(new Set([idA, idB]));
    expect(await a.registry.versions("shop.items-value")).toEqual([1]);
  });

  it("gives a worker that starts later the same subjects, versions and ids", async () => {
    const [first] = services;
    const late = await worker();
    const subjects = await first!.registry.subjects();
    expect(await late.registry.subjects()).toEqual(subjects);
    for (const subject of subjects) {
      expect(await late.registry.version(subject, "latest")).toEqual(await first!.registry.version(subject, "latest"));
    }
  });

  it("serves the Confluent API on HTTP, and our own client reads what the workers wrote", async () => {
    const [first, second] = services;
    const app = Fastify();
    await app.register(registryRoutes(async () => second!.registry));
    await app.listen({ host: "127.0.0.1", port: 0 });
    const client = new RegistryClient({ url: `http://127.0.0.1:${(app.server.address() as { port: number }).port}`, requestTimeoutMs: 10_000 });
    try {
      const id = await first!.registry.register("shop.users-value", schema("email"));
      expect(await client.schemaById(id)).toBe(schema("email"));
      expect(await client.lookup("shop.users-value", schema("email"))).toMatchObject({ id, version: 1 });
      expect(await client.register("shop.users-value", schema("email", "name"))).toEqual(expect.any(Number));
      expect(await client.versions("shop.users-value")).toEqual([1, 2]);
    } finally {
      await client.close();
      await app.close();
    }
  });
});

describe("the serializer with the embedded registry on Kafka", () => {
  let service: SchemaService;
  beforeAll(async () => {
    service = await schemaService();
  });
  afterAll(() => service.close());

  it("registers on first use and decodes what it encoded", async () => {
    const valueSchema = JSON.parse(schema("note")) as AvroSchema;
    const [encoded] = await service.serializer.serialize([{ topic: "t", key: null, keySchema: null, value: { id: 5n, note: "é" }, valueSchema }]);
    expect(await service.deserializer.deserialize(encoded!.value)).toMatchObject({ value: { id: 5n, note: "é" }, schemaId: encoded!.value!.readInt32BE(1) });
    expect(await service.registry.versions("t-value")).toEqual([1]);
  });
});
