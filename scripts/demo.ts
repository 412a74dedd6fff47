/*
 * `npm run demo`: the real pipeline of connectors.yaml, end to end, on local servers.
 *
 *   MariaDB (binlog) ──shop-cdc──► Kafka ──shop-to-postgres──► PostgreSQL
 *
 * It starts private MariaDB, PostgreSQL and Kafka instances (or reuses `npm run servers` ones),
 * creates a small shop database, runs `liberator run -c connectors.yaml`, lets four writers insert,
 * update and delete for a while with live counts, waits for the sink to catch up, and runs
 * `liberator verify` to compare the source and target tables. Options: --seconds N (default 15).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import mysql from "mysql2/promise";
import pg from "pg";
import { freePort } from "../test/harness/ports.js";
import { repoRoot } from "../test/harness/paths.js";
import { startServers, type HarnessInfo } from "../test/harness/start.js";
import { reusableServers } from "../test/harness/state.js";

const seconds = Number(process.argv[process.argv.indexOf("--seconds") + 1] || 15) || 15;
const cli = [join(repoRoot, "node_modules/tsx/dist/cli.mjs"), join(repoRoot, "src/cli.ts")];

async function servers(): Promise<{ info: Pick<HarnessInfo, "kafka" | "mariadb" | "postgres">; stop: () => Promise<void> }> {
  const running = await reusableServers();
  if (running) {
    say("using the servers of `npm run servers`");
    return { info: running, stop: async () => undefined };
  }
  say("starting Kafka 4.4 (KRaft), MariaDB (binlog ROW/FULL) and PostgreSQL in temporary folders…");
  const started = await startServers(["kafka", "mariadb", "postgres"]);
  say(`servers ready in ${(Math.max(...Object.values(started.startupMs)) / 1000).toFixed(1)} s`);
  return started;
}

async function main(): Promise<void> {
  const { info, stop } = await servers();
  let liberator: ChildProcess | undefined;
  try {
    const db = await mysql.createConnection({ ...info.mariadb, multipleStatements: true });
    await db.query(SHOP_SCHEMA);
    await db.query(SEED);
    const pgAdmin = new pg.Client({ ...info.postgres });
    await pgAdmin.connect();
    await pgAdmin.query("DROP DATABASE IF EXISTS reporting WITH (FORCE)");
    await pgAdmin.query("CREATE DATABASE reporting");
    await pgAdmin.end();
    const reporting = new pg.Client({ ...info.postgres, database: "reporting" });
    await reporting.connect();
    say("created shop.customers and shop.orders in MariaDB (500 customers, 2,000 orders) and an empty reporting database in PostgreSQL");

    const adminPort = await freePort();
    const env = {
      ...process.env,
      KAFKA_BROKERS: info.kafka.brokers.join(","),
      ADMIN_PORT: String(adminPort),
      LOG_LEVEL: "warn",
      MARIADB_HOST: info.mariadb.host,
      MARIADB_PORT: String(info.mariadb.port),
      MARIADB_USER: info.mariadb.user,
      MARIADB_PASSWORD: info.mariadb.password,
      POSTGRES_HOST: info.postgres.host,
      POSTGRES_PORT: String(info.postgres.port),
      POSTGRES_USER: info.postgres.user,
      POSTGRES_PASSWORD: info.postgres.password,
      POSTGRES_DATABASE: "reporting",
    };
    say("liberator run -c connectors.yaml");
    liberator = spawn(process.execPath, [...cli, "run", "-c", "connectors.yaml"], { cwd: repoRoot, env, stdio: ["ignore", "inherit", "inherit"] });
    // Ctrl-C or a kill of the demo must not leave the daemon running
    const child = liberator;
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => child.kill("SIGTERM"));
    const admin = `http://127.0.0.1:${adminPort}`;
    await until(async () => (await fetch(`${admin}/readyz`).catch(() => undefined))?.status === 200, 60_000, "liberator to be ready");
    say(`ready: admin API, metrics and schema registry at ${admin} (try ${admin}/status, ${admin}/connectors, ${admin}/subjects)`);
    say(`watch it: ${admin}/ in a browser, or ADMIN_PORT=${adminPort} npm run liberator -- status --watch -c connectors.yaml   (or GET ${admin}/status/stream)`);

    const counts = async () => {
      const [[src]] = (await db.query("SELECT (SELECT COUNT(*) FROM shop.orders) AS orders, (SELECT COUNT(*) FROM shop.customers) AS customers")) as unknown as [[{ orders: string; customers: string }]];
      const dst = await reporting
        .query<{ orders: string; customers: string }>(
          "SELECT (SELECT COUNT(*) FROM orders) AS orders, (SELECT COUNT(*) FROM customers) AS customers",
        )
        .then((r) => r.rows[0]!)
        .catch(() => ({ orders: "-", customers: "-" }));
      const status = (await (await fetch(`${admin}/connectors`)).json()) as { name: string; records: number; state: string }[];
      const kafka = status.find((s) => s.name === "shop-cdc")?.records ?? 0;
      return { src, dst, kafka, status };
    };

    say(`4 writers insert, update and delete orders for ${seconds} s:`);
    const writers = startWriters(info.mariadb, seconds * 1000);
    writers.catch(() => undefined); // awaited below; a failure must not crash the demo before its clean-up
    const started = Date.now();
    while (Date.now() - started < seconds * 1000 + 500) {
      await sleep(1000);
      const c = await counts();
      say(
        `  ${String(Math.round((Date.now() - started) / 1000)).padStart(3)} s  MariaDB orders ${String(c.src.orders).padStart(6)}  → Kafka records ${String(c.kafka).padStart(7)}  → PostgreSQL orders ${String(c.dst.orders).padStart(6)}`,
      );
    }
    const written = await writers;
    say(`writers done: ${written.inserts} inserts, ${written.updates} updates, ${written.deletes} deletes`);
    await until(async () => {
      const c = await counts();
      return String(c.src.orders) === String(c.dst.orders) && String(c.src.customers) === String(c.dst.customers);
    }, 120_000, "PostgreSQL to catch up");
    const c = await counts();
    say(`caught up: MariaDB ${c.src.orders} orders / ${c.src.customers} customers = PostgreSQL ${c.dst.orders} / ${c.dst.customers}`);

    say("liberator verify --source shop-cdc --sink shop-to-postgres (row counts and checksums per key range):");
    const verify = spawnSync(process.execPath, [...cli, "verify", "--source", "shop-cdc", "--sink", "shop-to-postgres", "-c", "connectors.yaml"], {
      cwd: repoRoot,
      env,
      stdio: "inherit",
    });
    await db.end();
    await reporting.end();
    if (verify.status !== 0) throw new Error(`verify found differences (exit ${verify.status})`);
    say("done: every change went MariaDB → Kafka → PostgreSQL exactly once.");
  } finally {
    if (liberator && liberator.exitCode === null) {
      liberator.kill("SIGTERM");
      await new Promise((resolve) => liberator!.once("exit", resolve));
    }
    await stop();
  }
}

/** Writers that keep the shop busy: about 70% inserts, 20% updates, 10% deletes, by primary key. */
async function startWriters(conn: HarnessInfo["mariadb"], ms: number): Promise<{ inserts: number; updates: number; deletes: number }> {
  const totals = { inserts: 0, updates: 0, deletes: 0 };
  const deadline = Date.now() + ms;
  let maxId = 2000;
  const someId = () => 1 + Math.floor(Math.random() * maxId);
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      const c = await mysql.createConnection({ ...conn, database: "shop" });
      try {
        while (Date.now() < deadline) {
          const r = Math.random();
          if (r < 0.7) {
            const [res] = await c.query("INSERT INTO orders (customer_id, amount, status, note) VALUES (?, ?, 'new', ?)", [
              1 + Math.floor(Math.random() * 500),
              (Math.random() * 1000).toFixed(2),
              Math.random() < 0.1 ? "gift wrap 🎁" : null,
            ]);
            maxId = Math.max(maxId, (res as { insertId: number }).insertId);
            totals.inserts++;
          } else if (r < 0.9) {
            const [res] = await c.query("UPDATE orders SET status = 'paid', amount = amount + 1 WHERE id = ?", [someId()]);
            totals.updates += (res as { affectedRows: number }).affectedRows;
          } else {
            const [res] = await c.query("DELETE FROM orders WHERE id = ?", [someId()]);
            totals.deletes += (res as { affectedRows: number }).affectedRows;
          }
        }
      } finally {
        await c.end();
      }
    }),
  );
  return totals;
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

function say(text: string): void {
  process.stdout.write(`[demo] ${text}\n`);
}

const SHOP_SCHEMA = `
DROP DATABASE IF EXISTS shop;
CREATE DATABASE shop CHARACTER SET utf8mb4;
CREATE TABLE shop.customers (
  id INT AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(100) NOT NULL,
  email VARCHAR(200) NOT NULL,
  created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
);
CREATE TABLE shop.orders (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  customer_id INT NOT NULL,
  amount DECIMAL(10,2) NOT NULL,
  status ENUM('new','paid','shipped') NOT NULL,
  note VARCHAR(200) NULL,
  created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6)
);`;

const SEED = `
USE shop;
INSERT INTO shop.customers (name, email)
  SELECT CONCAT('customer ', seq), CONCAT('c', seq, '@example.com') FROM seq_1_to_500;
INSERT INTO shop.orders (customer_id, amount, status)
  SELECT 1 + (seq % 500), ROUND(seq * 1.37 % 1000, 2), 'new' FROM seq_1_to_2000;`;

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`[demo] failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
