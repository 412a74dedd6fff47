/**
 * The schema layer as the rest of Liberator uses it: from the root config's `schemaRegistry`
 * block, a serializer, a deserializer and a schema gate over one registry, remote when `url` is
 * set, embedded (in `_liberator_schemas`, served on the admin port) otherwise.
 */
import type { Kafka } from "kafkajs";
import type { RootConfig } from "../config/schema.js";
import { ConfigError } from "../errors.js";
import { CompactedTopicLog } from "../kafka/compacted-log.js";
import type { Logger } from "../log.js";
import { SchemaCatalog } from "./catalog.js";
import { AvroDeserializer } from "./deserializer.js";
import { EmbeddedRegistry, decodeSchemaLogRecord, type SchemaLogRecord } from "./embedded-registry.js";
import { createSchemaGate } from "./gate.js";
import type { SchemaRegistry } from "./registry-api.js";
import { schemaRegistryConfig, type SchemaRegistryConfig } from "./config.js";
import { RegistryClient } from "./registry-client.js";
import type { RecordDeserializer, RecordSerializer } from "./serde.js";
import { AvroSerializer } from "./serializer.js";
import type { SchemaGate } from "../connector.js";

/** The schema layer as the worker and the commands use it. */
export interface SchemaService {
  serializer: RecordSerializer;
  deserializer: RecordDeserializer;
  gate: SchemaGate;
  /** Served on the admin port (the Confluent REST API) and read by `schemas check`. */
  registry: SchemaRegistry;
  /** Compiled schemas and the compatibility assessment (`schemas check` uses it). */
  catalog: SchemaCatalog;
  close(): Promise<void>;
}

export { schemaRegistryConfig, type SchemaRegistryConfig };

export async function createSchemaService(config: SchemaRegistryConfig, deps: { kafka: Kafka; log: Logger }): Promise<SchemaService> {
  const log = deps.log.child({ component: "schemas" });
  const registry = config.url
    ? new RegistryClient({
        url: config.url,
        basicAuth: config.basicAuth,
        tls: config.tls,
        requestTimeoutMs: config.requestTimeoutMs,
        retry: { retries: config.retries },
        log,
      })
    : await startEmbedded(config, deps.kafka, log);
  const catalog = new SchemaCatalog(registry, config.compatibility);
  return {
    serializer: new AvroSerializer(catalog),
    deserializer: new AvroDeserializer(catalog),
    gate: createSchemaGate(catalog),
    registry,
    catalog,
    close: () => registry.close(),
  };
}

async function startEmbedded(config: SchemaRegistryConfig, kafka: Kafka, log: Logger): Promise<EmbeddedRegistry> {
  // one partition: every worker must apply the records in the same order (embedded-registry.ts)
  const topicLog = new CompactedTopicLog<SchemaLogRecord>({ kafka, topic: config.topic, log, partitions: 1, decode: decodeSchemaLogRecord });
  const registry = new EmbeddedRegistry({ log: topicLog, logger: log, defaultCompatibility: config.compatibility, readTimeoutMs: config.readTimeoutMs });
  await registry.start();
  log.info({ topic: config.topic }, "embedded schema registry ready");
  return registry;
}

/** The root config's `schemaRegistry` block, checked (ConfigError listing every problem). */
export function parseSchemaRegistryConfig(block: unknown): SchemaRegistryConfig {
  const parsed = schemaRegistryConfig.safeParse(block ?? {});
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `schemaRegistry.${i.path.join(".")}: ${i.message}`));
  }
  return parsed.data;
}

/** What the worker calls to build its schema layer. */
export const schemaServiceFactory = (root: RootConfig, deps: { kafka: Kafka; log: Logger }): Promise<SchemaService> =>
  createSchemaService(root.schemaRegistry, deps);
