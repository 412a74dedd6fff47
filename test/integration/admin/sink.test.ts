import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, pgClient, uniqueName, waitFor } from "../../harness/index.js";
import { harness } from "../../harness/env.js";
import { repoRoot } from "../../harness/paths.js";
import { startDaemon, type Daemon } from "../../support/daemon.js";

/** The value of a Prometheus series, or undefined when it is not exported. */
function metric(text: string, name: string, labels: Record<string, string>): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
}

describe("a sql sink under operation: offsets and consumer lag", () => {
  let daemon: Daemon;
  let database: string;
  const names = { source: uniqueName("gen"), sink: uniqueName("sink"), liveSource: uniqueName("live"), liveSink: uniqueName("livesink") };
  const topic = `${names.source}.events`;
  const liveTopic = `${names.liveSource}.events`;
  const rows = async (table: string) => {
    const pg = await pgClient(harness(), database);
    try {
      return (await pg.query(`SELECT id, text FROM ${table} ORDER BY id`)).rows as { id: string; text: string }[];
    } finally {
      await pg.end();
    }
  };
  const sink = (name: string, from: string, table: string) => ({
    name,
    type: "sql",
    dialect: "postgres",
    connection: { ...harness().postgres, database },
    topics: [from],
    table,
    mode: "upsert",
    // one offsets table each: two sinks creating the same table at once collide in PostgreSQL (pg_type unique index)
    offsetsTable: `offsets_${table}`,
  });

  beforeAll(async () => {
    database = await createDatabase("postgres");
    daemon = await startDaemon({
      connectors: [
        { name: names.source, type: "generator", topic, ratePerSecond: 0, count: 300 },
        sink(names.sink, topic, "rewound"),
        { name: names.liveSource, type: "generator", topic: liveTopic, ratePerSecond: 100 },
        sink(names.liveSink, liveTopic, "live"),
      ],
      root: { metrics: { lagIntervalMs: 300 } },
    });
    await daemon.waitReady();
  });
  afterAll(() => daemon?.stop("SIGTERM"));

  it("liberator offsets set rewinds a running sink with --force: it replays, and the target ends the same", async () => {
    await waitFor(async () => (await daemon.status(names.sink))?.records === 300, { timeoutMs: 30_000, message: "300 records in the sink" });
    const before = await rows("rewound");
    expect(before).toHaveLength(300);

    const offsetsUrl = `${daemon.adminUrl}/connectors/${names.sink}/offsets`;
    const refused = await fetch(offsetsUrl, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ to: "earliest" }) });
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { fix: string }).fix).toContain("--force");

    // the command as users run it
    const set = spawnSync(
      process.execPath,
      ["--import", "tsx", join(repoRoot, "src/cli.ts"), "offsets", "set", "--to-earliest", "--force", "-c", daemon.configFile, "--connector", names.sink],
      { cwd: repoRoot, encoding: "utf8", timeout: 60_000 },
    );
    expect(set.status, set.stderr).toBe(0);
    const moved = JSON.parse(set.stdout) as { kind: string; partitions: { offset: string; end: string }[] };
    expect(moved.kind).toBe("sink");
    expect(moved.partitions.map((p) => p.offset)).toEqual(["0"]);

    await waitFor(async () => (await daemon.status(names.sink))?.records === 600, { timeoutMs: 30_000, message: "the 300 records written again" });
    expect(await rows("rewound")).toEqual(before);
    const got = (await (await fetch(offsetsUrl)).json()) as { partitions: { lag: number }[] };
    // stored: the offset after the last record; the partition ends one further, past the commit marker of its transaction
    expect(got.partitions.map((p) => p.lag)).toEqual([1]);
  });

  it("/metrics shows the sink's consumer lag rising while it is paused and falling after resume", async () => {
    const lag = async () => metric(await (await fetch(`${daemon.adminUrl}/metrics`)).text(), "liberator_sink_consumer_lag", { connector: names.liveSink, partition: "0" });
    await waitFor(async () => (await lag()) !== undefined && (await lag())! < 100, { timeoutMs: 30_000, message: "the live sink keeping up" });
    expect((await fetch(`${daemon.adminUrl}/connectors/${names.liveSink}/pause`, { method: "POST" })).status).toBe(200);
    const risen = await waitFor(async () => ((await lag()) ?? 0) > 300 && (await lag()), { timeoutMs: 20_000, message: "lag above 300 while paused" });
    expect((await daemon.status(names.liveSink))!.state).toBe("paused");
    expect((await fetch(`${daemon.adminUrl}/connectors/${names.liveSink}/resume`, { method: "POST" })).status).toBe(200);
    await waitFor(async () => ((await lag()) ?? Infinity) < 100, { timeoutMs: 30_000, message: "lag back under 100 after resume" });
    expect(risen).toBeGreaterThan(300);
    const status = (await (await fetch(`${daemon.adminUrl}/connectors/${names.liveSink}`)).json()) as { lag: { partitions: { lag: number }[] } };
    expect(status.lag.partitions[0]!.lag).toBeLessThan(100);
  });
});
