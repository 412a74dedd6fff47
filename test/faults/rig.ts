/**
 * The fault suite's own world: private Kafka, MariaDB and PostgreSQL servers (the suite restarts
 * them), a TCP proxy in front of each that Liberator connects through (the suite cuts them),
 * Liberator's own database users (the suite kills their sessions and revokes their privileges),
 * and one daemon running a binlog source and two sql sinks, into PostgreSQL and MariaDB.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { Connection } from "mysql2/promise";
import type pg from "pg";
import {
  freePort,
  mysqlConnection,
  pgClient,
  startServers,
  uniqueName,
  waitFor,
  type Harness,
  type KafkaServer,
  type MariaDBServer,
  type PostgresServer,
} from "../harness/index.js";
import { tail } from "../harness/process.js";
import { startDaemon, type Daemon } from "../support/daemon.js";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.js";

export const SOURCE_TABLES = `
  CREATE TABLE items (id BIGINT NOT NULL PRIMARY KEY, v INT NOT NULL, label VARCHAR(64) NOT NULL, amount DECIMAL(12,2) NOT NULL);
  CREATE TABLE pairs (region VARCHAR(8) NOT NULL, seq INT NOT NULL, v INT NOT NULL, note VARCHAR(64) NULL, PRIMARY KEY (region, seq));`;

/** The tables the workload writes, each with its key columns. */
export const TABLES = { items: ["id"], pairs: ["region", "seq"] } as const;
export type TableName = keyof typeof TABLES;

/** Liberator's database users: the suite's own faults target them and never the test's root sessions. */
export const SOURCE_USER = "lib_src";
export const SINK_USER = "lib_sink";
const PASSWORD = "fault-suite-pw";
const SOURCE_GRANT = `GRANT SELECT, REPLICATION SLAVE, BINLOG MONITOR ON *.* TO '${SOURCE_USER}'@'%'`;

export interface Rig {
  kafka: KafkaServer;
  mariadb: MariaDBServer;
  postgres: PostgresServer;
  proxies: { kafka: TcpProxy; mariadb: TcpProxy; postgres: TcpProxy };
  /** The MariaDB database the writers write and the binlog source reads. */
  sourceDb: string;
  /** The sinks' target databases. */
  targets: { postgres: string; mariadb: string };
  connectors: { source: string; postgres: string; mariadb: string };
  topics: Record<TableName, string>;
  daemon: Daemon;
  /** Replaces the daemon by a new process on the same config: only between scenarios, after one failed. */
  replaceDaemon(): Promise<void>;
  /** A root connection to the MariaDB server (direct, not through the proxy). */
  mysqlRoot(database?: string): Promise<Connection>;
  /** A superuser client of the sink's PostgreSQL database (direct). */
  pgRoot(): Promise<pg.Client>;
  close(): Promise<void>;
}

async function onMaria<T>(rig: Pick<Rig, "mysqlRoot">, run: (conn: Connection) => Promise<T>, database?: string): Promise<T> {
  const conn = await rig.mysqlRoot(database);
  try {
    return await run(conn);
  } finally {
    await conn.end();
  }
}

async function onPostgres<T>(rig: Pick<Rig, "pgRoot">, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await rig.pgRoot();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

export interface RigOptions {
  /** More config of each sink connector (e.g. its `errors` block), merged into the rig's own. */
  sinks?: { postgres?: Record<string, unknown>; mariadb?: Record<string, unknown> };
}

export async function startRig(options: RigOptions = {}): Promise<Rig> {
  const cleanup: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
    cleanup.length = 0;
  };
  const started = Date.now();
  try {
    // the broker's proxied listener must advertise the proxy's port, so the proxy comes first
    const brokerBehindProxy = await freePort();
    const kafkaProxy = await startTcpProxy({ host: "127.0.0.1", port: brokerBehindProxy });
    cleanup.push(() => kafkaProxy.close());
    const servers: Harness<"kafka" | "mariadb" | "postgres"> = await startServers(["kafka", "mariadb", "postgres"], {
      kafka: { proxiedListener: { port: brokerBehindProxy, advertisedPort: kafkaProxy.port } },
    });
    cleanup.push(() => servers.stop());
    const serversMs = Date.now() - started;
    const kafka = servers.servers.kafka!;
    const mariadb = servers.servers.mariadb!;
    const postgres = servers.servers.postgres!;
    const mariadbProxy = await startTcpProxy(mariadb);
    cleanup.push(() => mariadbProxy.close());
    const postgresProxy = await startTcpProxy(postgres);
    cleanup.push(() => postgresProxy.close());

    const sourceDb = "shop";
    const targets = { postgres: "sink_pg", mariadb: "sink_my" };
    const direct = {
      mariadb: { host: mariadb.host, port: mariadb.port, user: mariadb.user, password: mariadb.password },
      postgres: { host: postgres.host, port: postgres.port, user: postgres.user, password: postgres.password, database: postgres.database },
    };
    const mysqlRoot = (database?: string) => mysqlConnection(direct, database);
    const pgRoot = () => pgClient(direct, targets.postgres);

    await onMaria({ mysqlRoot }, async (conn) => {
      await conn.query(`CREATE DATABASE ${sourceDb}; CREATE DATABASE ${targets.mariadb}`);
      await conn.query(`CREATE USER '${SOURCE_USER}'@'%' IDENTIFIED BY '${PASSWORD}'; ${SOURCE_GRANT}`);
      await conn.query(`CREATE USER '${SINK_USER}'@'%' IDENTIFIED BY '${PASSWORD}'; GRANT ALL ON ${targets.mariadb}.* TO '${SINK_USER}'@'%'`);
      await conn.query(`USE ${sourceDb}; ${SOURCE_TABLES}`);
      // rows for the snapshot to copy before the stream starts
      await conn.query("INSERT INTO items SELECT seq, 1, CONCAT('seed ', seq), seq * 1.25 FROM seq_1_to_300");
      await conn.query("INSERT INTO pairs SELECT ELT(1 + seq % 4, 'eu', 'us', 'ap', 'af'), seq, 1, NULL FROM seq_1_to_100");
    });
    const admin = await pgClient(direct);
    try {
      await admin.query(`CREATE ROLE ${SINK_USER} LOGIN PASSWORD '${PASSWORD}'`);
      await admin.query(`CREATE DATABASE ${targets.postgres}`);
    } finally {
      await admin.end();
    }
    await onPostgres({ pgRoot }, (client) => client.query(`GRANT ALL ON SCHEMA public TO ${SINK_USER}`));

    const name = uniqueName("faults");
    const connectors = { source: `${name}_src`, postgres: `${name}_pg`, mariadb: `${name}_my` };
    const topics = { items: `${name}.${sourceDb}.items`, pairs: `${name}.${sourceDb}.pairs` };
    const via = (proxy: TcpProxy) => ({ host: proxy.host, port: proxy.port });
    const daemonOptions = {
      root: { kafka: { brokers: [`${kafkaProxy.host}:${kafkaProxy.port}`], topics: { replicationFactor: 1 } } },
      connectors: [
        {
          name: connectors.source,
          type: "binlog",
          connection: { ...via(mariadbProxy), user: SOURCE_USER, password: PASSWORD },
          include: [`${sourceDb}.*`],
          topicPrefix: name,
          heartbeat: { intervalMs: 500 },
        },
        {
          name: connectors.postgres,
          type: "sql",
          dialect: "postgres",
          connection: { ...via(postgresProxy), user: SINK_USER, password: PASSWORD, database: targets.postgres },
          topics: Object.values(topics),
          ...options.sinks?.postgres,
        },
        {
          name: connectors.mariadb,
          type: "sql",
          dialect: "mariadb",
          connection: { ...via(mariadbProxy), user: SINK_USER, password: PASSWORD, database: targets.mariadb },
          topics: Object.values(topics),
          ...options.sinks?.mariadb,
        },
      ],
    };
    let daemon = await startDaemon(daemonOptions);
    cleanup.push(() => daemon.stop("SIGTERM", 20_000));
    await daemon.waitReady(180_000);

    const rig: Rig = {
      kafka,
      mariadb,
      postgres,
      proxies: { kafka: kafkaProxy, mariadb: mariadbProxy, postgres: postgresProxy },
      sourceDb,
      targets,
      connectors,
      topics,
      get daemon() {
        return daemon;
      },
      async replaceDaemon() {
        await daemon.kill();
        daemon = await daemon.restart();
        await daemon.waitReady(180_000);
      },
      mysqlRoot,
      pgRoot,
      close,
    };
    const daemonMs = Date.now() - started - serversMs;
    await auditSinkWrites(rig);
    console.log(`[faults] set up in ${((Date.now() - started) / 1000).toFixed(1)} s: servers ${(serversMs / 1000).toFixed(1)} s, daemon ready ${(daemonMs / 1000).toFixed(1)} s after`);
    return rig;
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * Every row the sinks write, counted in an audit table of each target by a trigger: the same
 * change (key and version) written twice is a doubled write, which the rows alone cannot show (an
 * upsert of the same row twice leaves one row). The sinks create their tables from the first
 * records, so the triggers follow once the tables are there; the faults come later.
 */
async function auditSinkWrites(rig: Rig): Promise<void> {
  await waitFor(
    async () =>
      (await onMaria(rig, async (conn) => {
        const [rows] = await conn.query(`SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME IN ('items', 'pairs')`, [rig.targets.mariadb]);
        return Number((rows as { n: number }[])[0]!.n);
      })) === 2 &&
      (await onPostgres(rig, async (client) => Number((await client.query("SELECT COUNT(*) AS n FROM pg_tables WHERE tablename IN ('items', 'pairs')")).rows[0].n))) === 2,
    { timeoutMs: 120_000, intervalMs: 500, message: "the sinks to create their tables" },
  );
  const keyExpr = (table: TableName, row: string, concat: (parts: string[]) => string) => concat(TABLES[table].map((c) => `${row}.${c}`));
  await onMaria(
    rig,
    async (conn) => {
      await conn.query("CREATE TABLE audit (id BIGINT AUTO_INCREMENT PRIMARY KEY, tbl VARCHAR(16) NOT NULL, k VARCHAR(64) NOT NULL, v INT NOT NULL)");
      for (const table of Object.keys(TABLES) as TableName[]) {
        const key = keyExpr(table, "NEW", (parts) => `CONCAT_WS('/', ${parts.join(", ")})`);
        for (const event of ["INSERT", "UPDATE"]) {
          await conn.query(`CREATE TRIGGER audit_${table}_${event.toLowerCase()} AFTER ${event} ON ${table} FOR EACH ROW INSERT INTO audit (tbl, k, v) VALUES ('${table}', ${key}, NEW.v)`);
        }
      }
    },
    rig.targets.mariadb,
  );
  await onPostgres(rig, async (client) => {
    await client.query("CREATE TABLE audit (id BIGSERIAL PRIMARY KEY, tbl TEXT NOT NULL, k TEXT NOT NULL, v INT NOT NULL)");
    for (const table of Object.keys(TABLES) as TableName[]) {
      const key = keyExpr(table, "NEW", (parts) => `concat_ws('/', ${parts.join(", ")})`);
      await client.query(`CREATE FUNCTION audit_${table}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
        BEGIN INSERT INTO audit (tbl, k, v) VALUES ('${table}', ${key}, NEW.v); RETURN NEW; END $$`);
      await client.query(`CREATE TRIGGER audit_${table} AFTER INSERT OR UPDATE ON ${table} FOR EACH ROW EXECUTE FUNCTION audit_${table}()`);
    }
  });
}

/**
 * The binlog source's replication privileges taken away, and its sessions killed so that it must
 * reconnect without them (a running binlog dump is not checked again); grantSourcePrivileges gives them back.
 */
export async function revokeSourcePrivileges(rig: Rig): Promise<void> {
  await onMaria(rig, (conn) => conn.query(`REVOKE REPLICATION SLAVE, BINLOG MONITOR ON *.* FROM '${SOURCE_USER}'@'%'`));
  await killMariaSessions(rig, [SOURCE_USER]);
}

export async function grantSourcePrivileges(rig: Rig): Promise<void> {
  await onMaria(rig, (conn) => conn.query(SOURCE_GRANT));
}

/** Liberator's sessions on MariaDB (source and MariaDB sink, or the users named), killed; returns how many. */
export function killMariaSessions(rig: Rig, users: readonly string[] = [SOURCE_USER, SINK_USER]): Promise<number> {
  return onMaria(rig, async (conn) => {
    const [rows] = await conn.query(`SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER IN (${users.map((u) => `'${u}'`).join(", ")})`);
    let killed = 0;
    for (const { id } of rows as { id: number }[]) {
      // a session may end on its own between the listing and the kill
      await conn.query(`KILL ${id}`).then(() => killed++, () => undefined);
    }
    return killed;
  });
}

/** Liberator's sessions on PostgreSQL (the sink), terminated; returns how many. */
export function killPostgresSessions(rig: Rig): Promise<number> {
  return onPostgres(rig, async (client) => {
    const { rows } = await client.query(`SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE usename = '${SINK_USER}'`);
    return rows.filter((r: { ok: boolean }) => r.ok).length;
  });
}

/**
 * What a scenario that did not recover from a broker fault leaves for whoever looks next, as
 * lines: the sockets on the broker's ports (its own listeners, the proxied one behind the proxy
 * and the proxy's), with their processes, and the broker's last log lines. A restarted broker
 * that does not listen where the proxy sends Liberator, or a port some other socket holds, shows
 * here and nowhere else once the rig is gone.
 */
export async function kafkaEvidence(rig: Rig, since: { upstream?: Record<string, number> } = {}, logLines = 30): Promise<string[]> {
  const proxy = rig.proxies.kafka;
  // since the fault ended when the caller says when: the broker's kill closed every connection
  const upstream = Object.entries(proxy.upstream())
    .map(([what, n]) => [what, n - (since.upstream?.[what] ?? 0)] as const)
    .filter(([what, n]) => n > 0 || what === "connected")
    .map(([what, n]) => `${what}: ${n}`);
  const brokerPorts = new Set([proxy.target.port, ...rig.kafka.brokers.map((b) => Number(b.split(":").at(-1)))]);
  const localPort = (line: string) => Number(/^\S+\s+\d+\s+\d+\s+\S*:(\d+)\s/.exec(line)?.[1]);
  let sockets: string[];
  try {
    const { stdout } = await promisify(execFile)("ss", ["-tanp"]);
    const lines = stdout.split("\n").map((l) => l.replace(/\s+/g, " ").trim());
    const ours = lines.filter((l) => brokerPorts.has(localPort(l)) || localPort(l) === proxy.port);
    // in full: the listeners, and any other live socket on a broker's port (one that holds it
    // while the broker is down keeps a restarted broker from binding it); the rest (a killed
    // broker's TIME-WAITs, the proxy's many connections) only counted
    const state = (l: string) => l.split(" ")[0]!;
    const shown = ours.filter((l) => state(l) === "LISTEN" || (brokerPorts.has(localPort(l)) && state(l) !== "TIME-WAIT"));
    const counted = new Map<string, number>();
    for (const l of ours.filter((l) => !shown.includes(l))) {
      const key = `${state(l)} on the ${brokerPorts.has(localPort(l)) ? "broker's" : "proxy's"} ports`;
      counted.set(key, (counted.get(key) ?? 0) + 1);
    }
    sockets = [
      ...shown.slice(0, 20),
      ...(shown.length > 20 ? [`… ${shown.length - 20} more`] : []),
      ...(counted.size ? [`and ${[...counted].map(([what, n]) => `${n} ${what}`).join(", ")}`] : []),
    ];
  } catch (error) {
    sockets = [`ss -tanp failed: ${(error as Error).message}`];
  }
  return [
    `broker pid ${rig.kafka.process.pid} ${rig.kafka.process.hasExited() ? "exited" : "alive"}; client listener ${rig.kafka.brokers.join(",")}, proxied listener ${proxy.target.port} behind the proxy on ${proxy.port} (${proxy.connections()} connections through it now; its connections to the broker ${since.upstream ? "since the fault ended" : "so far"}: ${upstream.join(", ")}); sockets on those ports:`,
    ...sockets.map((l) => `  ${l}`),
    `the broker's last log lines (${rig.kafka.process.logFile}):`,
    // a stack trace would fill the tail: its frames go, its message stays
    ...tail(rig.kafka.process.logFile, 20 * logLines)
      .split("\n")
      .filter((l) => !/^\s+(at |\.\.\. \d+ more)/.test(l))
      .slice(-logLines)
      .map((l) => `  ${l}`),
  ];
}

export { onMaria, onPostgres };
