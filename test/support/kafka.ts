import { pino } from "pino";
import { avroType } from "../../src/runtime/avro/logical-types.js";
import { kafkaConfigSchema, type KafkaConfig } from "../../src/runtime/kafka/config.js";
import { createKafka } from "../../src/runtime/kafka/client.js";
import { SourceOffsetStore } from "../../src/runtime/offsets/source-offsets.js";
import { harness } from "../harness/env.js";

export const silentLog = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });

/** Our own Kafka config block for the harness broker, defaults filled in as the loader would. */
export function testKafkaConfig(brokers = harness().kafka.brokers): KafkaConfig {
  return kafkaConfigSchema.parse({ brokers, clientId: "liberator-test", topics: { replicationFactor: 1 } });
}

export const testKafka = (brokers?: string[]) => createKafka(testKafkaConfig(brokers), silentLog);

/** The position a connector last committed to `_liberator_offsets` (of the harness broker, or of `brokers`), read as the connector would on start. */
export async function committedPosition<T>(connector: string, brokers?: string[]): Promise<T | undefined> {
  const store = await SourceOffsetStore.open(testKafka(brokers), silentLog, 1);
  try {
    return (await store.read(connector))?.position as T | undefined;
  } finally {
    await store.close();
  }
}

/** The generator source's value schema, spelled out here so that tests read its records as any consumer would. */
const generatorEvent = avroType({
  type: "record",
  name: "Event",
  namespace: "liberator.generator",
  fields: [
    { name: "id", type: "long" },
    { name: "text", type: "string" },
    { name: "ts_ms", type: "long" },
  ],
});

/** The ids of generator records, in topic order (a value is the Confluent wire format: magic byte, 4-byte schema id, body). */
export function generatorIds(records: readonly { value: Buffer | null }[]): number[] {
  return records.map((r) => Number((generatorEvent.fromBuffer(r.value!.subarray(5)) as { id: bigint }).id));
}
