import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uniqueName } from "../../harness/index.js";
import { repoRoot } from "../../harness/paths.js";
import { startDaemon, type Daemon } from "../../support/daemon.js";
import { binlogConnector, checkHistories, expectTopicEqualsTable, scratchDatabase, untilStreaming } from "./support.js";

const ROWS = 3000;

describe("incremental snapshots while streaming", () => {
  const db = scratchDatabase();
  let daemon: Daemon | undefined;
  const name = uniqueName("binlog_incremental");

  beforeAll(async () => {
    await db.conn.query("CREATE TABLE items (id INT PRIMARY KEY, v INT NOT NULL)");
    await db.conn.query(`INSERT INTO items (id, v) SELECT seq, 1 FROM seq_1_to_${ROWS}`);
  });

  afterAll(async () => {
    await daemon?.stop();
  });

  const cli = (...args: string[]) =>
    spawnSync(process.execPath, ["--import", "tsx", join(repoRoot, "src/cli.ts"), "snapshot", ...args, "-c", daemon!.configFile], { cwd: repoRoot, encoding: "utf8" });

  it("copies a table on `liberator snapshot` while its changes stream, each key's history in commit order", async () => {
    daemon = await startDaemon({ connectors: [binlogConnector(name, db.name, { snapshot: { mode: "never", chunkSize: 400 } })] });
    await untilStreaming(daemon, name);

    let stopping = false;
    const touched = new Set<number>();
    const touch = (id: number) => (touched.add(id), id);
    const writing = (async () => {
      for (let n = 0; !stopping; n++) {
        await db.conn.query("UPDATE items SET v = v + 1 WHERE id = ?", [touch(1 + Math.floor(Math.random() * ROWS))]);
        if (n % 10 === 0) await db.conn.query("DELETE FROM items WHERE id = ?", [touch(1 + Math.floor(Math.random() * ROWS))]);
      }
    })();
    try {
      await new Promise((r) => setTimeout(r, 300));
      const run = cli(name, "--table", `${db.name}.items`);
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/accepted/);
      await new Promise((r) => setTimeout(r, 1500));
    } finally {
      stopping = true;
      await writing;
    }

    const changes = await expectTopicEqualsTable(`${name}.${db.name}.items`, db.name, "items");
    const reads = changes.filter((c) => c.value?.op === "r");
    // A key written while its chunk was open is dropped from the chunk (its change stands for it), and a deleted key
    // may never be read: how many depends on the machine's speed. A key no writer touched has exactly one read.
    const readsOf = new Map<unknown, number>();
    for (const c of reads) readsOf.set(c.key?.id, (readsOf.get(c.key?.id) ?? 0) + 1);
    const untouched = Array.from({ length: ROWS }, (_, i) => i + 1).filter((id) => !touched.has(id));
    expect(untouched.length).toBeGreaterThan(0);
    expect(untouched.filter((id) => readsOf.get(id) !== 1)).toEqual([]);
    expect(reads.every((c) => c.value!.source.snapshot === "incremental")).toBe(true);
    checkHistories(changes);
  });

  it("refuses a table the connector does not capture, saying so", () => {
    const run = cli(name, "--table", "mysql.user");
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/mysql\.user: no such table, or not captured by this connector/);
  });
});
