/**
 * kafkajs's own cluster object, for the few requests its public API lacks (client quotas, a
 * group commit without joining the group). Its connections bring SASL and TLS as configured.
 * kafkajs 2.2.4 is its last release, so the internals used here do not move; `connectCluster`
 * checks them and answers undefined if they did, and each caller says what that costs.
 */
import type { Kafka } from "kafkajs";
import { describeKafkaConnectError } from "./connect-errors.js";

/** One broker connection, as kafkajs's Broker class has it. */
export interface ProtocolBroker {
  versions: Record<number, { minVersion: number; maxVersion: number } | undefined> | null;
  connectionPool: { send(request: { request: unknown; response: unknown }): Promise<unknown> };
  offsetCommit(request: {
    groupId: string;
    groupGenerationId: number;
    memberId: string;
    topics: { topic: string; partitions: { partition: number; offset: string }[] }[];
  }): Promise<unknown>;
}

export interface KafkaCluster {
  findControllerBroker(): Promise<ProtocolBroker>;
  findGroupCoordinator(request: { groupId: string }): Promise<ProtocolBroker>;
  disconnect(): Promise<void>;
}

type ClusterFactory = (options: object) => KafkaCluster & { connect(): Promise<void>; refreshMetadata(): Promise<void> };

/** The client's cluster, connected with its metadata read; undefined when this kafkajs does not expose it. */
export async function connectCluster(kafka: Kafka): Promise<KafkaCluster | undefined> {
  const create = Object.getOwnPropertySymbols(kafka).find((s) => s.description === "private:Kafka:createCluster");
  const factory = create === undefined ? undefined : (kafka as unknown as Record<symbol, unknown>)[create];
  if (typeof factory !== "function") return undefined;
  const cluster = (factory as ClusterFactory)({});
  try {
    await cluster.connect();
    await cluster.refreshMetadata();
    return cluster;
  } catch (err) {
    await cluster.disconnect().catch(() => undefined);
    throw describeKafkaConnectError(err, "check kafka.brokers and the credentials");
  }
}
