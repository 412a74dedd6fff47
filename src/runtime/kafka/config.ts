import { z } from "zod";
import { duration, int, sslSetting, stringList } from "../config/fields.js";

export const kafkaConfigSchema = z.strictObject({
  brokers: stringList()
    .pipe(z.array(z.string()).min(1, "needs at least one broker, e.g. localhost:9092"))
    .describe("`host:port` of the bootstrap brokers, a list or `a:9092,b:9092`"),
  clientId: z.string().default("liberator").describe("the Kafka client id; a connector's clients use `<clientId>-<connector>` (what quotas name)"),
  ssl: sslSetting().describe(
    "`true` for TLS with the system's CAs and every check on, or `{ ca, cert, key, rejectUnauthorized, verifyHostname }` (PEM texts; use `${file:…}`; [TLS](#tls-databases-and-kafka))",
  ),
  sasl: z
    .strictObject({
      mechanism: z.enum(["plain", "scram-sha-256", "scram-sha-512"]),
      username: z.string(),
      password: z.string(),
    })
    .optional()
    .describe("`{ mechanism: plain|scram-sha-256|scram-sha-512, username, password }`"),
  connectionTimeoutMs: duration().default(5_000).describe("how long connecting to a broker may take"),
  requestTimeoutMs: duration().default(30_000).describe("how long a request may wait for its answer"),
  transactionTimeoutMs: duration()
    .default(60_000)
    .describe("how long a transaction may stay open before the broker aborts it; must not exceed the broker's `transaction.max.timeout.ms` (15 min by default)"),
  topics: z
    .strictObject({
      partitions: int(1).default(1).describe("partitions of the topics Liberator creates"),
      replicationFactor: int(-1).default(-1).describe("their replication factor; -1 takes the broker's default"),
    })
    .default({ partitions: 1, replicationFactor: -1 }),
});

export type KafkaConfig = z.infer<typeof kafkaConfigSchema>;
