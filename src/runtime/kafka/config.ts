import { z } from "zod";
import { duration, int, sslSetting, stringList } from "../config/fields.js";

export const kafkaConfigSchema = z.strictObject({
  brokers: stringList().pipe(z.array(z.string()).min(1, "needs at least one broker, e.g. localhost:9092")),
  clientId: z.string().default("liberator"),
  /** true for TLS with the system CAs, or PEM material (use ${file:…} for mounted secrets). */
  ssl: sslSetting(),
  sasl: z
    .strictObject({
      mechanism: z.enum(["plain", "scram-sha-256", "scram-sha-512"]),
      username: z.string(),
      password: z.string(),
    })
    .optional(),
  connectionTimeoutMs: duration().default(5_000),
  requestTimeoutMs: duration().default(30_000),
  /** Must not exceed the broker's transaction.max.timeout.ms (15 min by default). */
  transactionTimeoutMs: duration().default(60_000),
  /** Defaults for topics Liberator creates. -1 takes the broker's default replication. */
  topics: z
    .strictObject({
      partitions: int(1).default(1),
      replicationFactor: int(-1).default(-1),
    })
    .default({ partitions: 1, replicationFactor: -1 }),
});

export type KafkaConfig = z.infer<typeof kafkaConfigSchema>;
