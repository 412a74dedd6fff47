/*
 * The test harness: real Kafka, MariaDB, PostgreSQL and Redis servers for integration tests.
 * Tests import from here; scripts that run outside vitest import ./start.js and ./state.js, which
 * do not load vitest.
 */
import { createDatabaseIn, dropDatabaseIn, type DatabaseKind } from "./clients.js";
import { harness } from "./env.js";
import type { HarnessInfo } from "./start.js";

export { harness } from "./env.js";
export { startServers, harnessEnv, harnessInfoFromEnv, ALL_SERVERS } from "./start.js";
export type { HarnessInfo, ServerKind, Harness, StartedServers, ServerOptions } from "./start.js";
export { startKafka, kafkaClientConfig, kafkaVersion } from "./kafka.js";
export type { KafkaOptions, KafkaSaslOptions, KafkaConnection, KafkaServer } from "./kafka.js";
export { startMariaDB } from "./mariadb.js";
export type { MariaDBOptions, MariaDBServer, MariaDBConnection } from "./mariadb.js";
export { startPostgres } from "./postgres.js";
export type { PostgresOptions, PostgresServer, PostgresConnection } from "./postgres.js";
export { startRedis } from "./redis.js";
export type { RedisOptions, RedisServer } from "./redis.js";
export { mysqlConnection, pgClient, createDatabaseIn, dropDatabaseIn } from "./clients.js";
export type { DatabaseKind } from "./clients.js";
export { readTopic } from "./topics.js";
export type { TopicRecord, ReadTopicOptions } from "./topics.js";
export { uniqueName, waitFor } from "./util.js";
export type { WaitForOptions } from "./util.js";
export { freePort } from "./ports.js";
export { makeCertificates } from "./certs.js";
export type { Certificates } from "./certs.js";

/** Creates a database on this run's MariaDB or PostgreSQL and returns its name (uniqueName("db") when none is given). */
export function createDatabase(kind: DatabaseKind, name?: string, info: Pick<HarnessInfo, DatabaseKind> = harness()): Promise<string> {
  return createDatabaseIn(info, kind, name);
}

/** Drops a database on this run's MariaDB or PostgreSQL, if it exists. */
export function dropDatabase(kind: DatabaseKind, name: string, info: Pick<HarnessInfo, DatabaseKind> = harness()): Promise<void> {
  return dropDatabaseIn(info, kind, name);
}
