import { Kafka, logLevel, type KafkaConfig as KafkaJsConfig, type LogEntry, type SASLOptions } from "kafkajs";
import type { Logger } from "../log.js";
import { nodeTlsOptions } from "../tls.js";
import type { KafkaConfig } from "./config.js";

// We pick the partitioner explicitly (murmur2, Java-compatible) wherever we produce.
process.env.KAFKAJS_NO_PARTITIONER_WARNING = "1";

/*
 * kafkajs logs every retried request at ERROR, including the CONCURRENT_TRANSACTIONS answer that a
 * transactional producer gets after each commit, and a coordinator that is still loading. Those are
 * expected and retried: they go to debug so the log keeps one line per state change. So does the
 * warning that limited retries "may invalidate EoS": a failed transaction is aborted and the
 * connector restarts from its committed position, so exactly-once does not rest on retries.
 */
const EXPECTED = /Limiting retries for the idempotent producer|concurrent operation on the same transaction|coordinator is loading|coordinator is not available|not the correct coordinator|There is no leader for this topic-partition|Topic with this name already exists|rebalanc/i;

function logCreator(log: Logger) {
  return () =>
    ({ level, log: entry }: LogEntry) => {
      const { message, error, logger } = entry as { message: string; error?: string; logger?: string };
      const text = `kafkajs: ${message}${error ? `: ${error}` : ""}`;
      const fields = { kafkajs: logger ?? String(entry.namespace) };
      if (level <= logLevel.ERROR && !EXPECTED.test(text)) log.warn(fields, text);
      else if (level <= logLevel.WARN && !EXPECTED.test(text)) log.info(fields, text);
      else log.debug(fields, text);
    };
}

/** One kafkajs client per purpose, so a slow consumer never blocks a producer's connections. */
export function createKafka(config: KafkaConfig, log: Logger, purpose?: string, overrides: Partial<KafkaJsConfig> = {}): Kafka {
  const options: KafkaJsConfig = {
    brokers: config.brokers,
    clientId: purpose ? `${config.clientId}-${purpose}` : config.clientId,
    connectionTimeout: config.connectionTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    logLevel: logLevel.INFO,
    logCreator: logCreator(log.child({ component: "kafka" })),
    retry: { initialRetryTime: 100, retries: 8, maxRetryTime: 10_000 },
  };
  const tls = nodeTlsOptions(config.ssl);
  if (tls) options.ssl = tls;
  if (config.sasl) options.sasl = { ...config.sasl } as SASLOptions;
  return new Kafka({ ...options, ...overrides });
}
