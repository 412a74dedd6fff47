/**
 * Byte-rate quotas per connector, so one connector's backfill cannot starve the others: Kafka
 * throttles by client id, and each connector's clients use `<kafka.clientId>-<connector>`. The
 * requests that set and read them are runtime/kafka/client-quotas.ts.
 */
import type { LoadedConfig } from "../config/load.js";
import type { ClientQuotaEntry } from "../kafka/client-quotas.js";

const PRODUCER_BYTE_RATE = "producer_byte_rate";
const CONSUMER_BYTE_RATE = "consumer_byte_rate";

/** The quotas of one connector's client id. */
export interface ClientQuota extends ClientQuotaEntry {
  /** The connector it is for. */
  connector: string;
}

/** The client id Kafka sees for a connector's producer and consumer (kafka/client.ts). */
export const connectorClientId = (config: LoadedConfig, connector: string) => `${config.root.kafka.clientId}-${connector}`;

/** What `governance.quotas` asks for, per connector client id. */
export function planQuotas(config: LoadedConfig): ClientQuota[] {
  return Object.entries(config.root.governance.quotas).map(([connector, q]) => ({
    connector,
    clientId: connectorClientId(config, connector),
    values: {
      [PRODUCER_BYTE_RATE]: q.producerByteRate ?? null,
      [CONSUMER_BYTE_RATE]: q.consumerByteRate ?? null,
    },
  }));
}
