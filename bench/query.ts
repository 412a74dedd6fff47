/**
 * The query source's initial load as users run it: `liberator run` compiled to JavaScript (as the
 * Dockerfile runs it) in a child process, a 1,000,000-row 6-column MariaDB table (int pk,
 * varchar(64), int, decimal(10,2), datetime(6), tinyint), Avro through the embedded registry,
 * exactly-once Kafka transactions, default settings (batches of 10,000 rows, delayMs 1000), on the
 * harness MariaDB and Kafka (same 2 cores).
 *
 * - rows/s: from the first batch committed to the last (the load itself);
 * - end to end: from the connector running (it first waits delayMs for the safe horizon) to the last;
 * - CPU of the liberator process per row over the load (user + system): what the machine's other
 *   work cannot blur;
 * - RSS of the liberator process once the connector runs, before the load, and its peak (VmHWM).
 * Reference: Confluent's JDBC source polls a single task through Kafka Connect; no figure of it was
 * measured on this machine, so none is printed beside ours.
 */
import { execFileSync, spawn } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import mysql from "mysql2/promise";
import { stringify } from "yaml";
import { freePort } from "../test/harness/ports.js";
import { repoRoot } from "../test/harness/paths.js";
import { uniqueName } from "../test/harness/util.js";
import { childNodeArgs } from "./node-args.js";
import type { BenchContext, BenchResult } from "./report.js";

const ROWS = 1_000_000;
const GOAL_ROWS_PER_S = 100_000;
const GOAL_RSS_MB = 256;

/** Compiles src/ the way the Dockerfile does, into a folder of its own under .cache (git-ignored). */
function build(): string {
  const out = join(repoRoot, ".cache", "bench-query");
  execFileSync(process.execPath, [join(repoRoot, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json", "--outDir", join(out, "dist")], { cwd: repoRoot, stdio: "inherit" });
  // cli.js reads ../package.json, and Node takes "type": "module" from it
  copyFileSync(join(repoRoot, "package.json"), join(out, "package.json"));
  return join(out, "dist", "cli.js");
}

/** VmRSS or VmHWM (kB), and user + system CPU (clock ticks) of a process. */
function usage(pid: number): { rssKb: number; peakKb: number; ticks: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return {
    rssKb: Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0),
    peakKb: Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0),
    // fields 14 and 15 of /proc/pid/stat, counted after the command name
    ticks: Number(stat[11]) + Number(stat[12]),
  };
}

const TICKS_PER_SECOND = 100;

interface Status {
  state: string;
  records: number;
}

export async function run(context: BenchContext): Promise<BenchResult> {
  const info = await context.servers();
  const database = uniqueName("bench_query");
  const name = uniqueName("bench_query");
  const conn = await mysql.createConnection({ ...info.mariadb });
  await conn.query(`CREATE DATABASE ${database}`);
  await conn.query(`USE ${database}`);
  try {
    await conn.query(
      `CREATE TABLE ${database}.orders (id INT PRIMARY KEY, name VARCHAR(64) NOT NULL, qty INT NOT NULL, price DECIMAL(10,2) NOT NULL, created DATETIME(6) NOT NULL, active TINYINT NOT NULL)`,
    );
    for (let start = 1; start <= ROWS; start += 100_000) {
      await conn.query(
        `INSERT INTO ${database}.orders SELECT seq, CONCAT('name ', seq), seq % 1000, seq / 100, NOW(6), seq % 2 FROM seq_${start}_to_${start + 99_999}`,
      );
    }

    const dir = mkdtempSync(join(tmpdir(), "liberator-bench-query-"));
    const file = join(dir, "connectors.yaml");
    const port = await freePort();
    writeFileSync(
      file,
      stringify({
        kafka: { brokers: info.kafka.brokers, topics: { replicationFactor: 1 } },
        schemaRegistry: { topic: uniqueName("bench_query_schemas") },
        admin: { host: "127.0.0.1", port },
        log: { level: "warn" },
        connectors: [{ name, type: "query", dialect: "mariadb", connection: { ...info.mariadb }, tables: [`${database}.orders`], mode: "incrementing" }],
      }),
    );

    const child = spawn(process.execPath, [...childNodeArgs(), build(), "run", "-c", file], { cwd: repoRoot, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    let running = 0;
    let first = 0;
    let last = 0;
    let before = { rssKb: 0, peakKb: 0, ticks: 0 };
    let atFirst = before;
    let atLast = before;
    try {
      const deadline = Date.now() + 600_000;
      for (;;) {
        if (child.exitCode !== null) throw new Error(`liberator exited with ${child.exitCode}: ${stderr}`);
        if (Date.now() > deadline) throw new Error("the initial load did not finish in 10 minutes");
        const res = await fetch(`http://127.0.0.1:${port}/connectors/${name}`).catch(() => undefined);
        const s = res?.ok ? ((await res.json()) as Status) : undefined;
        const now = Date.now();
        if (s?.state === "running" && !running) {
          running = now;
          before = usage(child.pid!);
        }
        if (s && s.records > 0 && !first) {
          first = now;
          atFirst = usage(child.pid!);
        }
        if (s && s.records >= ROWS) {
          last = now;
          atLast = usage(child.pid!);
          break;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    } finally {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    }

    const topic = `${name}.${database}.orders`;
    const kafka = new Kafka({ clientId: "bench-query", brokers: info.kafka.brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    // the committed offsets include one transaction marker per batch
    const endOffset = (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
    await admin.disconnect();
    if (endOffset < ROWS) throw new Error(`the topic holds ${endOffset} offsets, fewer than ${ROWS} rows`);

    // the load's rate: the first batch's rows count from when it was committed, so count the rest
    const batch = 10_000;
    const rowsPerS = ((ROWS - batch) * 1000) / (last - first);
    const endToEnd = (ROWS * 1000) / (last - running);
    const cpuMicrosPerRow = (((atLast.ticks - atFirst.ticks) / TICKS_PER_SECOND) * 1e6) / (ROWS - batch);
    const rssMb = atLast.peakKb / 1024;
    return {
      figures: [
        { name: "initial load, first batch to last", value: rowsPerS, unit: "rows/s", reference: { value: GOAL_ROWS_PER_S, label: "goal" } },
        { name: "initial load, connector start to last", value: endToEnd, unit: "rows/s" },
        { name: "liberator CPU per row (user + system)", value: cpuMicrosPerRow, unit: "µs" },
        { name: "RSS of liberator before the load", value: before.rssKb / 1024, unit: "MB" },
        { name: "peak RSS of liberator", value: rssMb, unit: "MB", reference: { value: GOAL_RSS_MB, label: "goal: below" } },
      ],
      fields: { rows_per_s: Math.round(rowsPerS), rss_mb: Math.round(rssMb) },
      notes: [
        `${ROWS.toLocaleString("en-US")} rows of (int pk, varchar(64), int, decimal(10,2), datetime(6), tinyint) from MariaDB, mode incrementing, default batchSize and delayMs`,
        "liberator run (compiled, node dist/cli.js) in a child process: Avro with the embedded registry, one Kafka transaction per 10,000-row batch, all on these 2 cores",
        `load took ${((last - first) / 1000).toFixed(1)} s after the first batch; ${((first - running) / 1000).toFixed(1)} s from the connector running to its first batch (delayMs, first page)`,
        `one free core at ${cpuMicrosPerRow.toFixed(1)} µs/row would give ${Math.round(1e6 / cpuMicrosPerRow).toLocaleString("en-US")} rows/s; load average while measuring: ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`,
      ],
    };
  } finally {
    await conn.query(`DROP DATABASE IF EXISTS ${database}`);
    await conn.end();
  }
}
