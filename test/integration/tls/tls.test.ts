/**
 * TLS end to end: private MariaDB, PostgreSQL and Kafka servers started with certificates made
 * for this run (a CA, a server certificate for 127.0.0.1 and localhost); a binlog source and a
 * query source read over TLS, sql sinks write over TLS, and every Kafka client speaks SASL_SSL.
 * Liberator's database users may only connect with TLS (MariaDB REQUIRE SSL, PostgreSQL hostssl),
 * so a run that quietly fell back to plain connections could not pass.
 */
import fs from "node:fs";
import path from "node:path";
import type { Connection } from "mysql2/promise";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeCertificates, mysqlConnection, pgClient, startServers, uniqueName, waitFor, type Certificates, type Harness } from "../../harness/index.js";
import { startDaemon, type Daemon } from "../../support/daemon.js";
import { startTcpProxy, type TcpProxy } from "../../support/tcp-proxy.js";

const USER = "lib_tls";
const PASSWORD = "tls-test-pw";
const KAFKA_USER = { mechanism: "plain", username: "liberator", password: "kafka-tls-pw" };

let certs: Certificates;
let servers: Harness<"kafka" | "mariadb" | "postgres">;
const daemons: Daemon[] = [];
const proxies: TcpProxy[] = [];

const mariadb = () => servers.servers.mariadb!;
const postgres = () => servers.servers.postgres!;

async function onMaria<T>(run: (conn: Connection) => Promise<T>, database?: string): Promise<T> {
  const conn = await mysqlConnection(servers.info, database);
  try {
    return await run(conn);
  } finally {
    await conn.end();
  }
}

async function onPostgres<T>(database: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await pgClient(servers.info, database);
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** Liberator's side of the daemon's config: its Kafka over SASL_SSL. */
function kafkaOverTls(ca = certs.caPem) {
  return { brokers: servers.servers.kafka!.tlsBrokers!, ssl: { ca }, sasl: KAFKA_USER, topics: { replicationFactor: 1 } };
}

const mariaConnection = (ssl: unknown, database?: string) => ({ host: mariadb().host, port: mariadb().port, user: USER, password: PASSWORD, ssl, ...(database ? { database } : {}) });
const pgConnection = (ssl: unknown, database: string, at: { host: string; port: number } = postgres()) => ({ host: at.host, port: at.port, user: USER, password: PASSWORD, database, ssl });

beforeAll(async () => {
  certs = await makeCertificates();
  servers = await startServers(["kafka", "mariadb", "postgres"], {
    kafka: { sasl: { users: { [KAFKA_USER.username]: KAFKA_USER.password } }, tlsListener: certs },
    mariadb: { tls: certs },
    postgres: { tls: certs },
  });
  await onMaria(async (conn) => {
    await conn.query(`CREATE USER '${USER}'@'%' IDENTIFIED BY '${PASSWORD}' REQUIRE SSL`);
    await conn.query(`GRANT ALL ON *.* TO '${USER}'@'%'`);
  });
  await onPostgres("postgres", async (client) => {
    await client.query(`CREATE ROLE ${USER} LOGIN SUPERUSER PASSWORD '${PASSWORD}'`);
  });
  // the role may only come in over TLS: hostssl before the harness's trust lines
  const hba = path.join(postgres().process.dir, "data", "pg_hba.conf");
  fs.writeFileSync(hba, `hostssl all ${USER} 127.0.0.1/32 scram-sha-256\nhost all ${USER} all reject\n${fs.readFileSync(hba, "utf8")}`);
  await onPostgres("postgres", (client) => client.query("SELECT pg_reload_conf()"));
}, 240_000);

afterAll(async () => {
  for (const daemon of daemons) await daemon.stop("SIGTERM", 20_000).catch(() => undefined);
  for (const proxy of proxies) await proxy.close();
  await servers?.stop();
  await certs?.remove();
});

describe("TLS to MariaDB, PostgreSQL and Kafka (SASL_SSL)", () => {
  it("a binlog source, a query source and sql sinks work end to end over TLS", async () => {
    const name = uniqueName("tls");
    const ssl = { ca: certs.caPem };
    await onMaria(async (conn) => {
      await conn.query(`CREATE DATABASE ${name}_src; CREATE DATABASE ${name}_sink`);
      await conn.query(`CREATE TABLE ${name}_src.items (id INT PRIMARY KEY, label VARCHAR(32) NOT NULL, amount DECIMAL(10,2) NOT NULL)`);
      await conn.query(`INSERT INTO ${name}_src.items VALUES (1, 'snapshot', 1.25)`);
    });
    await onPostgres("postgres", async (client) => {
      await client.query(`CREATE DATABASE ${name}_pg`);
      await client.query(`CREATE DATABASE ${name}_pgq`);
    });
    await onPostgres(`${name}_pg`, async (client) => {
      await client.query("CREATE TABLE orders (id INT PRIMARY KEY, note TEXT NOT NULL)");
      await client.query("INSERT INTO orders VALUES (1, 'first')");
    });

    const binlogTopic = `${name}.${name}_src.items`;
    const queryTopic = `${name}_q.public.orders`;
    const daemon = await startDaemon({
      root: { kafka: kafkaOverTls() },
      connectors: [
        { name: `${name}_binlog`, type: "binlog", connection: mariaConnection(ssl), include: [`${name}_src.*`], topicPrefix: name },
        { name: `${name}_query`, type: "query", dialect: "postgres", connection: pgConnection(ssl, `${name}_pg`), tables: ["public.orders"], mode: "incrementing", topicPrefix: `${name}_q`, pollIntervalMs: 100, delayMs: 100 },
        { name: `${name}_pgsink`, type: "sql", dialect: "postgres", connection: pgConnection(ssl, `${name}_pg`), topics: [binlogTopic], table: "copy_{table}" },
        { name: `${name}_pgsink_q`, type: "sql", dialect: "postgres", connection: pgConnection(ssl, `${name}_pgq`), topics: [queryTopic] },
        { name: `${name}_mysink`, type: "sql", dialect: "mariadb", connection: mariaConnection(ssl, `${name}_sink`), topics: [binlogTopic] },
      ],
    });
    daemons.push(daemon);
    await daemon.waitReady(120_000);

    await onMaria((conn) => conn.query(`INSERT INTO ${name}_src.items VALUES (2, 'streamed', 2.50); UPDATE ${name}_src.items SET label = 'changed' WHERE id = 1`));
    await onPostgres(`${name}_pg`, (client) => client.query("INSERT INTO orders VALUES (2, 'second')"));

    const expected = [
      { id: 1, label: "changed", amount: "1.25" },
      { id: 2, label: "streamed", amount: "2.50" },
    ];
    const pgItems = async () => (await onPostgres(`${name}_pg`, (c) => c.query("SELECT id, label, amount::text AS amount FROM copy_items ORDER BY id").catch(() => ({ rows: [] })))).rows;
    const myRows = async (sql: string) =>
      onMaria(async (conn) => {
        const [rows] = await conn.query(sql).catch(() => [[]]);
        return rows as Record<string, unknown>[];
      }, `${name}_sink`);
    await waitFor(async () => JSON.stringify(await pgItems()) === JSON.stringify(expected), { timeoutMs: 60_000, message: "the PostgreSQL sink to hold the binlog's rows" });
    await waitFor(async () => JSON.stringify(await myRows("SELECT id, label, CAST(amount AS CHAR) AS amount FROM items ORDER BY id")) === JSON.stringify(expected), {
      timeoutMs: 60_000,
      message: "the MariaDB sink to hold the binlog's rows",
    });
    const pgOrders = async () => (await onPostgres(`${name}_pgq`, (c) => c.query("SELECT id, note FROM orders ORDER BY id").catch(() => ({ rows: [] })))).rows;
    await waitFor(async () => JSON.stringify(await pgOrders()) === JSON.stringify([{ id: 1, note: "first" }, { id: 2, note: "second" }]), {
      timeoutMs: 60_000,
      message: "the PostgreSQL sink to hold the query source's rows",
    });

    // every session of Liberator's user is encrypted (its login allows nothing else; this shows it)
    const pgSessions = await onPostgres("postgres", async (c) => (await c.query(`SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.usename = '${USER}'`)).rows as { ssl: boolean }[]);
    expect(pgSessions.length).toBeGreaterThan(0);
    expect(pgSessions.every((s) => s.ssl)).toBe(true);
    const mySessions = await onMaria(async (conn) => {
      const [rows] = await conn.query(`SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = ?`, [USER]);
      return Number((rows as { n: number }[])[0]!.n);
    });
    expect(mySessions).toBeGreaterThan(0);
    const statuses = await daemon.statuses();
    expect(statuses.map((s) => [s.name, s.state])).toEqual(statuses.map((s) => [s.name, "running"]));
  }, 240_000);

  it("a CA that did not sign the server's certificate, or a host name it does not list, fails the connector with a configuration error and its fix", async () => {
    const name = uniqueName("tlsbad");
    await onMaria((conn) => conn.query(`CREATE DATABASE ${name}`));
    await onPostgres("postgres", (client) => client.query(`CREATE DATABASE ${name}`));
    // 127.0.0.2 reaches the same server, but the certificate names 127.0.0.1 and localhost only
    const elsewhere = await startTcpProxy(postgres(), { host: "127.0.0.2" });
    proxies.push(elsewhere);
    const mariaElsewhere = await startTcpProxy(mariadb(), { host: "127.0.0.2" });
    proxies.push(mariaElsewhere);
    const connectors = {
      wrongCaMaria: `${name}_ca_my`,
      wrongCaPg: `${name}_ca_pg`,
      hostnamePg: `${name}_host_pg`,
      hostnameBinlog: `${name}_host_binlog`,
    };
    const daemon = await startDaemon({
      root: { kafka: kafkaOverTls() },
      connectors: [
        { name: connectors.wrongCaMaria, type: "sql", dialect: "mariadb", connection: mariaConnection({ ca: certs.otherCaPem }, name), topics: [`${name}.none`] },
        { name: connectors.wrongCaPg, type: "sql", dialect: "postgres", connection: pgConnection({ ca: certs.otherCaPem }, name), topics: [`${name}.none`] },
        { name: connectors.hostnamePg, type: "query", dialect: "postgres", connection: pgConnection({ ca: certs.caPem }, name, elsewhere), tables: ["public.t"], mode: "bulk" },
        {
          name: connectors.hostnameBinlog,
          type: "binlog",
          connection: { ...mariaConnection({ ca: certs.caPem }), host: mariaElsewhere.host, port: mariaElsewhere.port },
          include: [`${name}.*`],
        },
      ],
    });
    daemons.push(daemon);
    const failed = async () => {
      const all = await daemon.statuses().catch(() => []);
      return all.length === 4 && all.every((s) => s.state === "failed") ? all : undefined;
    };
    const statuses = await waitFor(failed, { timeoutMs: 60_000, message: `every connector to fail:\n${daemon.output().slice(-3000)}` });
    const byName = new Map(statuses.map((s) => [s.name, s]));
    for (const connector of [connectors.wrongCaMaria, connectors.wrongCaPg]) {
      const error = byName.get(connector)!.lastError!;
      expect(error.code).toBe("DB_TLS_FAILED");
      expect(error.message).toContain(`connector "${connector}"`);
      expect(error.message).toMatch(/not signed by a trusted CA/);
      expect(error.message).toContain("connection.ssl.ca");
    }
    for (const connector of [connectors.hostnamePg, connectors.hostnameBinlog]) {
      const error = byName.get(connector)!.lastError!;
      expect(error.code).toBe("DB_TLS_FAILED");
      expect(error.message).toContain(`connector "${connector}"`);
      expect(error.message).toMatch(/issued to another host name/);
      expect(error.message).toContain("connection.host");
      expect(error.message).toContain("connection.ssl.verifyHostname");
    }
    // a configuration error is not retried: the connectors were tried once each
    expect(statuses.every((s) => s.restarts === 0)).toBe(true);
  }, 180_000);

  it("a Kafka CA that did not sign the broker's certificate is a configuration error naming kafka.ssl.ca", async () => {
    const name = uniqueName("tlskafka");
    const daemon = await startDaemon({
      root: { kafka: kafkaOverTls(certs.otherCaPem) },
      connectors: [{ name, type: "generator", topic: `${name}.events`, ratePerSecond: 10 }],
    });
    daemons.push(daemon);
    const status = await waitFor(async () => {
      const s = await daemon.status(name).catch(() => undefined);
      return s?.state === "failed" ? s : undefined;
    }, { timeoutMs: 90_000, message: `the connector to fail:\n${daemon.output().slice(-3000)}` });
    expect(status.lastError!.code).toBe("KAFKA_TLS_FAILED");
    expect(status.lastError!.message).toContain(`connector "${name}"`);
    expect(status.lastError!.message).toContain("kafka.ssl.ca");
  }, 120_000);
});
