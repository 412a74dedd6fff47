import kafkajs, { Kafka, Partitioners, logLevel } from "kafkajs";
import { createTopicsWithLeaders } from "../../src/runtime/kafka/admin.js";
import { Redis } from "ioredis";
import type { RowDataPacket } from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createDatabase,
  dropDatabase,
  harness,
  kafkaClientConfig,
  mysqlConnection,
  pgClient,
  readTopic,
  startKafka,
  uniqueName,
  waitFor,
  type KafkaServer,
} from "../harness/index.js";

// kafkajs is CommonJS: Node's ESM loader does not see these as named exports
const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;

/*
 * A smoke test of the harness itself: the servers the global set-up started are the servers the
 * rest of the suite relies on, configured as the sources and sinks need them.
 */
describe("test harness", () => {
  const info = harness();

  it("Kafka takes a transactional produce and readTopic reads it back read_committed", async () => {
    const kafka = new Kafka({ clientId: "harness-test", brokers: info.kafka.brokers, logLevel: logLevel.NOTHING });
    const topic = uniqueName("harness_tx");
    const admin = kafka.admin();
    await admin.connect();
    await createTopicsWithLeaders(admin, [{ topic, numPartitions: 2 }]);
    await admin.disconnect();

    const producer = kafka.producer({
      transactionalId: uniqueName("harness_tx_producer"),
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    try {
      const committed = await producer.transaction();
      await committed.send({
        topic,
        messages: [
          { key: "a", value: "1", partition: 0, headers: { h: "x" } },
          { key: "b", value: "2", partition: 1 },
          { key: "c", value: "3", partition: 0 },
        ],
      });
      await committed.commit();
      const aborted = await producer.transaction();
      await aborted.send({ topic, messages: [{ key: "z", value: "aborted", partition: 0 }] });
      await aborted.abort();
    } finally {
      await producer.disconnect();
    }

    // each partition now ends with a transaction marker that carries no message
    const records = await readTopic(info.kafka.brokers, topic, { timeoutMs: 30_000 });
    expect(records.map((r) => [r.partition, r.key?.toString(), r.value?.toString()])).toEqual([
      [0, "a", "1"],
      [0, "c", "3"],
      [1, "b", "2"],
    ]);
    expect(records[0]!.headers.h?.toString()).toBe("x");
  });

  it("readTopic with `expect` waits for records still being produced", async () => {
    const kafka = new Kafka({ clientId: "harness-test", brokers: info.kafka.brokers, logLevel: logLevel.NOTHING });
    const topic = uniqueName("harness_late");
    const producer = kafka.producer({ allowAutoTopicCreation: true, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const reading = readTopic(info.kafka.brokers, topic, { expect: 2, timeoutMs: 30_000 });
    await producer.send({ topic, messages: [{ value: "early" }] });
    await new Promise((resolve) => setTimeout(resolve, 500));
    await producer.send({ topic, messages: [{ value: "late" }] });
    await producer.disconnect();
    expect((await reading).map((r) => r.value?.toString())).toEqual(["early", "late"]);
  });

  it("MariaDB writes a full ROW binlog with full metadata", async () => {
    const conn = await mysqlConnection(info);
    try {
      const [rows] = await conn.query<RowDataPacket[]>(
        "SELECT @@log_bin AS log_bin, @@binlog_format AS format, @@binlog_row_image AS image, @@binlog_row_metadata AS metadata",
      );
      expect(rows[0]).toEqual({ log_bin: 1, format: "ROW", image: "FULL", metadata: "FULL" });
    } finally {
      await conn.end();
    }
  });

  it("MariaDB and PostgreSQL databases can be created for a test", async () => {
    const name = uniqueName("harness_db");
    await createDatabase("mariadb", name);
    await createDatabase("postgres", name);
    const conn = await mysqlConnection(info, name);
    const client = await pgClient(info, name);
    try {
      await conn.query("CREATE TABLE t (id INT PRIMARY KEY, s VARCHAR(10)); INSERT INTO t VALUES (1, 'é');");
      const [rows] = await conn.query<RowDataPacket[]>("SELECT s FROM t");
      expect(rows[0]?.s).toBe("é");
      expect((await client.query<{ db: string }>("SELECT current_database() AS db")).rows[0]?.db).toBe(name);
    } finally {
      await conn.end();
      await client.end();
    }
    await dropDatabase("mariadb", name);
    await dropDatabase("postgres", name);
  });

  it("PostgreSQL runs with wal_level=logical", async () => {
    const client = await pgClient(info);
    try {
      const result = await client.query<{ wal_level: string }>("SHOW wal_level");
      expect(result.rows[0]?.wal_level).toBe("logical");
    } finally {
      await client.end();
    }
  });

  it("Redis answers", async () => {
    const redis = new Redis(info.redis.url, { maxRetriesPerRequest: null, lazyConnect: true });
    await redis.connect();
    try {
      expect(await redis.ping()).toBe("PONG");
      const key = `${uniqueName("harness")}:k`;
      await redis.set(key, "v", "EX", 10);
      expect(await waitFor(() => redis.get(key), { timeoutMs: 2000 })).toBe("v");
      await redis.del(key);
    } finally {
      redis.disconnect();
    }
  });

  it("child processes get the servers through LIBERATOR_TEST_* variables", () => {
    expect(process.env.LIBERATOR_TEST_KAFKA_BROKERS).toBe(info.kafka.brokers.join(","));
    expect(process.env.LIBERATOR_TEST_MARIADB_PORT).toBe(String(info.mariadb.port));
    expect(process.env.LIBERATOR_TEST_POSTGRES_PORT).toBe(String(info.postgres.port));
    expect(process.env.LIBERATOR_TEST_REDIS_URL).toBe(info.redis.url);
  });
});

/*
 * Its own broker: SASL/PLAIN and ACLs, the set-up a governance test builds on. Proves that the
 * harness super user can administer and that users get exactly what their ACLs allow.
 */
describe("test harness: Kafka with SASL and an authorizer", () => {
  let broker: KafkaServer;
  beforeAll(async () => {
    broker = await startKafka({ sasl: { users: { alice: "alice-secret", bob: "bob-secret" } }, authorizer: true });
  });
  afterAll(async () => {
    await broker?.stop();
  });

  const as = (username: string, password: string) =>
    new Kafka({
      clientId: "harness-test",
      brokers: broker.brokers,
      sasl: { mechanism: "plain", username, password },
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    });

  it("lets the super user grant, and users do only what their ACLs allow", async () => {
    expect(broker.sasl?.username).toBe("admin");
    const topic = uniqueName("harness_acl");
    const admin = new Kafka(kafkaClientConfig(broker)).admin();
    await admin.connect();
    try {
      await createTopicsWithLeaders(admin, [{ topic }]);
      await admin.createAcls({
        acl: [
          {
            resourceType: AclResourceTypes.TOPIC,
            resourceName: topic,
            resourcePatternType: ResourcePatternTypes.LITERAL,
            principal: "User:alice",
            host: "*",
            operation: AclOperationTypes.WRITE,
            permissionType: AclPermissionTypes.ALLOW,
          },
        ],
      });
    } finally {
      await admin.disconnect();
    }

    const alice = as("alice", "alice-secret").producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await alice.connect();
    // the broker applies a new ACL from its metadata log a moment after createAcls returns
    await waitFor(() => alice.send({ topic, messages: [{ value: "from alice" }] }), { timeoutMs: 30_000, message: "alice's WRITE ACL applied" });
    await alice.disconnect();

    const bob = as("bob", "bob-secret").producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await bob.connect();
    await expect(bob.send({ topic, messages: [{ value: "from bob" }] })).rejects.toThrow(/authoriz/i);
    await bob.disconnect();

    await expect(as("alice", "wrong").admin().connect()).rejects.toThrow(/authentication failed/i);

    const records = await readTopic(broker, topic, { timeoutMs: 30_000 });
    expect(records.map((r) => r.value?.toString())).toEqual(["from alice"]);
  });
});
