import { Kafka, Partitioners, logLevel } from "kafkajs";
import pino from "pino";
import type { ChangeRecord } from "../../../src/runtime/connector.js";
import { ensureTopics } from "../../../src/runtime/kafka/admin.js";
import { envelope, type Envelope, type TableStream } from "../../../src/runtime/sql-types/envelope.js";
import { createSchemaService, parseSchemaRegistryConfig, type SchemaService } from "../../../src/runtime/schema-registry/index.js";
import { harness, readTopic, uniqueName } from "../../harness/index.js";

export const silent = pino({ level: "silent" });

export function kafkaClient(): Kafka {
  return new Kafka({ clientId: "schema-tests", brokers: harness().kafka.brokers, logLevel: logLevel.NOTHING });
}

/** The schema layer as a worker builds it, with the embedded registry in a topic of its own. */
export function schemaService(kafka: Kafka = kafkaClient(), topic = uniqueName("schemas")): Promise<SchemaService> {
  return createSchemaService(parseSchemaRegistryConfig({ topic }), { kafka, log: silent });
}

/**
 * Canonical rows of `stream` through the whole way a source's records go: snapshot envelopes,
 * the serializer, a Kafka topic, a read_committed consumer, the deserializer. Returns the rows
 * (the envelopes' `after`) as a sink gets them. The schemas go to the embedded registry in
 * `schemasTopic`.
 */
export async function throughKafka(stream: TableStream, rows: Record<string, unknown>[], schemasTopic = uniqueName("schemas")): Promise<Record<string, unknown>[]> {
  const kafka = kafkaClient();
  const service = await schemaService(kafka, schemasTopic);
  try {
    const source = { connector: "query", name: "torture", db: "torture", table: "torture", snapshot: "true", ts_ms: Date.now() };
    await produce(
      kafka,
      service,
      rows.map((row) => ({ topic: stream.topic, key: stream.keyOf(row), keySchema: stream.keySchema, value: envelope("r", null, row, source), valueSchema: stream.valueSchema })),
    );
    const read = await readTopic(harness().kafka.brokers, stream.topic, { expect: rows.length });
    const decoded = await Promise.all(read.map((m) => service.deserializer.deserialize(m.value)));
    return decoded.map((d) => (d!.value as Envelope).after!);
  } finally {
    await service.close();
  }
}

/** Source records serialized by `service` and produced to their topics (one partition each), in order. */
export async function produce(kafka: Kafka, service: SchemaService, records: ChangeRecord[]): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  try {
    const topics = [...new Set(records.map((r) => r.topic))];
    await ensureTopics(kafka, topics.map((topic) => ({ topic, partitions: 1 })));
    const encoded = await service.serializer.serialize(records);
    await producer.connect();
    for (const topic of topics) {
      await producer.send({ topic, acks: -1, messages: encoded.filter((_, i) => records[i]!.topic === topic).map((e) => ({ key: e.key, value: e.value })) });
    }
  } finally {
    await producer.disconnect();
  }
}
