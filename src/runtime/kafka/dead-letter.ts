import { Partitioners, type Kafka, type Producer } from "kafkajs";
import type { Headers } from "../connector.js";
import type { LiberatorError } from "../errors.js";
import type { OutgoingMessage } from "./producer.js";

export interface DeadLetterOrigin {
  topic: string;
  partition?: number;
  offset?: string;
  /** For records that never were in Kafka (an outbox row): where they came from. */
  source?: string;
}

/** The name of the default dead-letter topic of a connector. */
export const deadLetterTopic = (connector: string, configured?: string): string => configured ?? `_liberator_dlq.${connector}`;

/**
 * A record that could not be written or validated, with the reason and its origin in headers
 * (Kafka Connect's `__connect.errors.*` convention, under our own prefix), bytes untouched.
 */
export function deadLetterMessage(
  topic: string,
  record: { key: Buffer | null; value: Buffer | null; headers?: Headers },
  error: LiberatorError,
  origin: DeadLetterOrigin,
  connector: string,
): OutgoingMessage {
  const headers: Headers = {
    ...record.headers,
    "liberator.error.connector": connector,
    "liberator.error.code": error.code,
    "liberator.error.message": error.describe(),
    "liberator.error.at": new Date().toISOString(),
    "liberator.original.topic": origin.topic,
  };
  if (origin.partition !== undefined) headers["liberator.original.partition"] = String(origin.partition);
  if (origin.offset !== undefined) headers["liberator.original.offset"] = origin.offset;
  if (origin.source !== undefined) headers["liberator.original.source"] = origin.source;
  return { topic, key: record.key, value: record.value, headers };
}

/**
 * Dead letters of a sink. Not transactional with the target database: a crash between the send
 * and the target commit can send the same dead letter twice (documented at-least-once).
 */
export class DeadLetterProducer {
  private producer: Producer | undefined;

  constructor(private readonly kafka: Kafka) {}

  async send(message: OutgoingMessage): Promise<void> {
    if (!this.producer) {
      this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
      await this.producer.connect();
    }
    await this.producer.send({
      topic: message.topic,
      acks: -1,
      messages: [{ key: message.key, value: message.value, ...(message.headers ? { headers: message.headers } : {}) }],
    });
  }

  async close(): Promise<void> {
    await this.producer?.disconnect().catch(() => undefined);
    this.producer = undefined;
  }
}
