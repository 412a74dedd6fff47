import { startKafka, type KafkaOptions, type KafkaServer } from "./kafka.js";
import { startMariaDB, type MariaDBOptions, type MariaDBServer } from "./mariadb.js";
import { startPostgres, type PostgresOptions, type PostgresServer } from "./postgres.js";
import { startRedis, type RedisOptions, type RedisServer } from "./redis.js";

/** Where the test servers are: provided to every integration test by the global set-up. */
export interface HarnessInfo {
  kafka: { brokers: string[] };
  mariadb: { host: string; port: number; user: string; password: string };
  postgres: { host: string; port: number; user: string; password: string; database: string };
  redis: { url: string };
}

export type ServerKind = keyof HarnessInfo;
export const ALL_SERVERS: readonly ServerKind[] = ["kafka", "mariadb", "postgres", "redis"];

/** The started servers, for callers that need more than connection details (pids, folders). */
export interface StartedServers {
  kafka?: KafkaServer;
  mariadb?: MariaDBServer;
  postgres?: PostgresServer;
  redis?: RedisServer;
}

export interface Harness<K extends ServerKind = ServerKind> {
  info: Pick<HarnessInfo, K>;
  servers: StartedServers;
  /** Milliseconds each server took to be ready. */
  startupMs: Partial<Record<ServerKind, number>>;
  /** Stops every server this call started and removes their folders. */
  stop(): Promise<void>;
}

/** Per-server options, passed on to startKafka, startMariaDB, startPostgres and startRedis. */
export interface ServerOptions {
  kafka?: KafkaOptions;
  mariadb?: MariaDBOptions;
  postgres?: PostgresOptions;
  redis?: RedisOptions;
}

type AnyServer = KafkaServer | MariaDBServer | PostgresServer | RedisServer;

function starter(kind: ServerKind, options: ServerOptions): () => Promise<AnyServer> {
  switch (kind) {
    case "kafka":
      return () => startKafka(options.kafka);
    case "mariadb":
      return () => startMariaDB(options.mariadb);
    case "postgres":
      return () => startPostgres(options.postgres);
    case "redis":
      return () => startRedis(options.redis);
  }
}

function infoOf(kind: ServerKind, server: AnyServer): HarnessInfo[ServerKind] {
  switch (kind) {
    case "kafka":
      return { brokers: (server as KafkaServer).brokers };
    case "mariadb": {
      const { host, port, user, password } = server as MariaDBServer;
      return { host, port, user, password };
    }
    case "postgres": {
      const { host, port, user, password, database } = server as PostgresServer;
      return { host, port, user, password, database };
    }
    case "redis":
      return { url: (server as RedisServer).url };
  }
}

/**
 * Starts the requested servers (all by default) in parallel: Kafka's JVM takes seconds, the
 * databases well under one, so the total is about Kafka's start-up. When one fails, the others
 * are stopped before the error is thrown.
 */
export async function startServers<K extends ServerKind = ServerKind>(which?: readonly K[], options: ServerOptions = {}): Promise<Harness<K>> {
  const kinds = [...new Set(which ?? (ALL_SERVERS as readonly K[]))];
  const startupMs: Partial<Record<ServerKind, number>> = {};
  const results = await Promise.allSettled(
    kinds.map(async (kind) => {
      const started = Date.now();
      const server = await starter(kind, options)();
      startupMs[kind] = Date.now() - started;
      return [kind, server] as const;
    }),
  );
  const servers: StartedServers = {};
  const info: Partial<HarnessInfo> = {};
  const errors: unknown[] = [];
  for (const result of results) {
    if (result.status === "rejected") {
      errors.push(result.reason);
      continue;
    }
    const [kind, server] = result.value;
    (servers as Record<string, AnyServer>)[kind] = server;
    (info as Record<string, unknown>)[kind] = infoOf(kind, server);
  }
  const stop = async () => {
    await Promise.all(Object.values(servers).map((server: AnyServer) => server.stop()));
  };
  if (errors.length > 0) {
    await stop();
    if (errors.length === 1) throw errors[0];
    throw new AggregateError(errors, `${errors.length} servers failed to start:\n${errors.map(String).join("\n\n")}`);
  }
  return { info: info as Pick<HarnessInfo, K>, servers, startupMs, stop };
}

/*
 * The same details as environment variables, so a test can hand them to a child `liberator`
 * process (and `scripts/servers.ts env` can print them for a shell).
 */
const ENV = "LIBERATOR_TEST_";

export function harnessEnv(info: Partial<HarnessInfo>): Record<string, string> {
  const env: Record<string, string> = {};
  if (info.kafka) env[`${ENV}KAFKA_BROKERS`] = info.kafka.brokers.join(",");
  if (info.mariadb) {
    env[`${ENV}MARIADB_HOST`] = info.mariadb.host;
    env[`${ENV}MARIADB_PORT`] = String(info.mariadb.port);
    env[`${ENV}MARIADB_USER`] = info.mariadb.user;
    env[`${ENV}MARIADB_PASSWORD`] = info.mariadb.password;
  }
  if (info.postgres) {
    env[`${ENV}POSTGRES_HOST`] = info.postgres.host;
    env[`${ENV}POSTGRES_PORT`] = String(info.postgres.port);
    env[`${ENV}POSTGRES_USER`] = info.postgres.user;
    env[`${ENV}POSTGRES_PASSWORD`] = info.postgres.password;
    env[`${ENV}POSTGRES_DATABASE`] = info.postgres.database;
  }
  if (info.redis) env[`${ENV}REDIS_URL`] = info.redis.url;
  return env;
}

/** The inverse of harnessEnv, for code that only has the environment; undefined when incomplete. */
export function harnessInfoFromEnv(env: NodeJS.ProcessEnv = process.env): HarnessInfo | undefined {
  const brokers = env[`${ENV}KAFKA_BROKERS`];
  const mariadbPort = env[`${ENV}MARIADB_PORT`];
  const postgresPort = env[`${ENV}POSTGRES_PORT`];
  const redisUrl = env[`${ENV}REDIS_URL`];
  if (!brokers || !mariadbPort || !postgresPort || !redisUrl) return undefined;
  return {
    kafka: { brokers: brokers.split(",") },
    mariadb: {
      host: env[`${ENV}MARIADB_HOST`] ?? "127.0.0.1",
      port: Number(mariadbPort),
      user: env[`${ENV}MARIADB_USER`] ?? "root",
      password: env[`${ENV}MARIADB_PASSWORD`] ?? "",
    },
    postgres: {
      host: env[`${ENV}POSTGRES_HOST`] ?? "127.0.0.1",
      port: Number(postgresPort),
      user: env[`${ENV}POSTGRES_USER`] ?? "postgres",
      password: env[`${ENV}POSTGRES_PASSWORD`] ?? "",
      database: env[`${ENV}POSTGRES_DATABASE`] ?? "postgres",
    },
    redis: { url: redisUrl },
  };
}
