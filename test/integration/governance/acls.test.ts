import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kafka, logLevel, Partitioners } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { describeClientQuotas } from "../../../src/runtime/kafka/client-quotas.js";
import { createDatabase, dropDatabase, harness, kafkaClientConfig, mysqlConnection, pgClient, readTopic, startKafka, uniqueName, waitFor, type KafkaServer } from "../../harness/index.js";
import { repoRoot } from "../../harness/paths.js";
import { startDaemon, type Daemon } from "../../support/daemon.js";

/*
 * A broker with SASL/PLAIN and an authorizer that allows nothing without an ACL: Liberator runs as
 * alice, another application as bob, and the harness's `admin` applies the plan.
 */
describe("ACLs for the single-writer rule, and quotas", () => {
  let broker: KafkaServer;
  let daemon: Daemon | undefined;
  const connector = uniqueName("acl_gen");
  const topic = `${connector}.events`;
  const users = { alice: "alice-secret", bob: "bob-secret" };
  const kafka = (user?: keyof typeof users) => ({
    brokers: broker.brokers,
    sasl: { mechanism: "plain", username: user ?? "admin", password: user ? users[user] : broker.sasl!.password },
    topics: { replicationFactor: 1 },
  });
  // a binlog source into a sql sink, beside the generator: sources under a topic prefix, and a sink's group
  const cdc = uniqueName("acl_cdc");
  const sink = uniqueName("acl_sink");
  let database = "";
  let reporting = "";
  const config = () => {
    const { host, port, user, password } = harness().mariadb;
    const pg = harness().postgres;
    return {
      governance: { quotas: { [connector]: { producerByteRate: "2MiB", consumerByteRate: 1_000_000 } } },
      connectors: [
        { name: connector, type: "generator", topic, ratePerSecond: 50, count: 20 },
        { name: cdc, type: "binlog", connection: { host, port, user, password }, include: [`${database}.*`], heartbeat: { intervalMs: 500 } },
        {
          name: sink,
          type: "sql",
          dialect: "postgres",
          connection: { host: pg.host, port: pg.port, user: pg.user, password: pg.password, database: reporting },
          topics: [`${cdc}.${database}.items`],
          mode: "upsert",
          autoCreate: true,
        },
      ],
    };
  };
  const cli = (args: string[], env: Record<string, string> = {}) => {
    const dir = mkdtempSync(join(tmpdir(), "liberator-acls-"));
    const file = join(dir, "connectors.yaml");
    writeFileSync(file, stringify({ kafka: kafka("alice"), ...config() }));
    const run = spawnSync(process.execPath, ["--import", "tsx", join(repoRoot, "src/cli.ts"), ...args, "-c", file], { cwd: repoRoot, env: { ...process.env, ...env }, encoding: "utf8" });
    return { code: run.status, out: `${run.stdout}${run.stderr}` };
  };

  beforeAll(async () => {
    [broker, database, reporting] = await Promise.all([startKafka({ sasl: { users }, authorizer: true }), createDatabase("mariadb"), createDatabase("postgres")]);
    const conn = await mysqlConnection(harness(), database);
    await conn.query("CREATE TABLE items (id INT PRIMARY KEY, label VARCHAR(20) NOT NULL)");
    await conn.query("INSERT INTO items VALUES (1, 'one'), (2, 'two'), (3, 'three')");
    await conn.end();
  });
  afterAll(async () => {
    await daemon?.stop();
    await broker?.stop();
    if (database) await dropDatabase("mariadb", database);
    if (reporting) await dropDatabase("postgres", reporting);
  });

  it("plans write on the connector's topic and the internal topics for its principal only", () => {
    const plan = cli(["acls", "plan", "--format", "json"]);
    expect(plan.code).toBe(0);
    const { principal, rules } = JSON.parse(plan.out) as { principal: string; rules: { resource: string; name: string; operation: string }[] };
    expect(principal).toBe("User:alice");
    expect(rules).toContainEqual(expect.objectContaining({ resource: "TOPIC", name: topic, operation: "WRITE" }));
    expect(rules).toContainEqual(expect.objectContaining({ resource: "TRANSACTIONAL_ID", name: `liberator-${connector}`, operation: "WRITE" }));
  });

  it("applies the plan as an admin, and again changes nothing", () => {
    const denied = cli(["acls", "apply"]);
    expect(denied.code).toBe(1);
    expect(denied.out).toMatch(/--admin-user/);
    const first = cli(["acls", "apply", "--admin-user", "admin"], { LIBERATOR_ADMIN_PASSWORD: broker.sasl!.password });
    expect(first.out).toMatch(/ACLs for User:alice: \d+ created, 0 already there/);
    expect(first.code).toBe(0);
    const again = cli(["acls", "apply", "--admin-user", "admin"], { LIBERATOR_ADMIN_PASSWORD: broker.sasl!.password });
    expect(again.out).toMatch(/ACLs for User:alice: 0 created, \d+ already there/);
  });

  it("sets the connector's byte-rate quotas on its client id, as the broker then describes them", async () => {
    const admin = new Kafka({ ...kafkaClientConfig(broker), logLevel: logLevel.NOTHING });
    const quotas = await describeClientQuotas(admin, [`liberator-${connector}`]);
    expect(quotas.get(`liberator-${connector}`)).toEqual({ producer_byte_rate: 2 * 1024 * 1024, consumer_byte_rate: 1_000_000 });
  });

  it("lets the connectors write and read as their principal while another principal is refused on their topics", async () => {
    daemon = await startDaemon({ root: { kafka: kafka("alice"), ...config(), connectors: undefined }, connectors: config().connectors });
    await daemon.waitReady();
    const records = await readTopic(broker, topic, { expect: 20, timeoutMs: 60_000 });
    expect(records).toHaveLength(20);
    // the binlog source wrote under its prefix, and the sink read it through its group into PostgreSQL
    const target = await pgClient(harness(), reporting);
    try {
      await waitFor(async () => Number((await target.query<{ n: string }>("SELECT COUNT(*) AS n FROM items").catch(() => ({ rows: [{ n: "0" }] }))).rows[0]!.n) === 3, {
        timeoutMs: 60_000,
        message: "the sink to write the three rows",
      });
    } finally {
      await target.end();
    }

    const bob = new Kafka({ clientId: "bob", brokers: broker.brokers, sasl: { mechanism: "plain", username: "bob", password: users.bob }, logLevel: logLevel.NOTHING, retry: { retries: 0 } });
    const producer = bob.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
    await producer.connect();
    try {
      await expect(producer.send({ topic, messages: [{ value: "forged" }] })).rejects.toThrow(/authoriz/i);
      await expect(producer.send({ topic: `${cdc}.${database}.items`, messages: [{ value: "forged" }] })).rejects.toThrow(/authoriz/i);
    } finally {
      await producer.disconnect();
    }
    expect((await readTopic(broker, topic, { timeoutMs: 30_000 })).map((r) => r.value?.toString())).not.toContain("forged");
  });
});
