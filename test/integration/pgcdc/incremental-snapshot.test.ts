import { spawnSync } from "node:child_process";
import { join } from "node:path";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { harness, pgClient, uniqueName, waitFor } from "../../harness/index.js";
import { repoRoot } from "../../harness/paths.js";
import { startDaemon, type Daemon } from "../../support/daemon.js";
import { checkHistories, untilStreaming } from "../binlog/support.js";
import { expectTopicEqualsPgTable, pgcdcConnector, scratchDatabase } from "./support.js";

const ROWS = 3000;
const WRITERS = 4;
const WRITE_PAUSE_MS = 4;

interface Incremental {
  tables: string[];
  lastKey: unknown[] | null;
}

/**
 * Bumps versions of random rows, deletes some and inserts new ones at version 1, until told to
 * stop; a statement every WRITE_PAUSE_MS at most. Flat out, four writers on a quiet machine offered
 * more 1-row transactions than the stream could carry, so it never reached a chunk's watermark.
 */
function writer(client: pg.Client, stop: () => boolean): Promise<number> {
  return (async () => {
    let n = 0;
    for (; !stop(); n++) {
      await new Promise((r) => setTimeout(r, WRITE_PAUSE_MS));
      const r = Math.random();
      const id = 1 + Math.floor(Math.random() * ROWS);
      if (r < 0.1) await client.query("INSERT INTO items (v) VALUES (1)");
      else if (r < 0.9) await client.query("UPDATE items SET v = v + 1 WHERE id = $1", [id]);
      else await client.query("DELETE FROM items WHERE id = $1", [id]);
    }
    return n;
  })();
}

/** The incremental snapshot of the committed position, and of the connector's status. */
async function incremental(daemon: Daemon, name: string): Promise<{ committed: Incremental | null; running: Incremental | null }> {
  const s = await daemon.status(name);
  const committed = (s?.position as { incremental?: Incremental | null } | null | undefined)?.incremental ?? null;
  const running = (s?.details as { incremental?: Incremental | null } | undefined)?.incremental ?? null;
  return { committed, running };
}

describe("pgcdc incremental snapshots while streaming", () => {
  const db = scratchDatabase();
  let daemon: Daemon | undefined;
  const writers: pg.Client[] = [];
  let stopping = false;
  let writing: Promise<number>[] = [];
  const first = uniqueName("pgcdc_incremental");

  beforeAll(async () => {
    await db.client.query("CREATE TABLE items (id SERIAL PRIMARY KEY, v INT NOT NULL)");
    // the whole old row with deletes, so each key's history can be checked version by version
    await db.client.query("ALTER TABLE items REPLICA IDENTITY FULL");
    await db.client.query(`INSERT INTO items (v) SELECT 1 FROM generate_series(1, ${ROWS})`);
    await db.client.query("CREATE TABLE keyless (n INT NOT NULL)");
    await db.client.query("ALTER TABLE keyless REPLICA IDENTITY FULL");
    for (let i = 0; i < WRITERS; i++) writers.push(await pgClient(harness(), db.name));
  });

  afterAll(async () => {
    stopping = true;
    await Promise.all(writing);
    await daemon?.stop();
    await Promise.all(writers.map((w) => w.end()));
  });

  const cli = (...args: string[]) =>
    spawnSync(process.execPath, ["--import", "tsx", join(repoRoot, "src/cli.ts"), "snapshot", ...args, "-c", daemon!.configFile], { cwd: repoRoot, encoding: "utf8" });

  /** Writers run from the request until the copy is done, and a little after. */
  async function copyUnderWriters(name: string, during?: () => Promise<void>): Promise<number> {
    stopping = false;
    writing = writers.map((w) => writer(w, () => stopping));
    try {
      await new Promise((r) => setTimeout(r, 300));
      const run = cli(name, "--table", "public.items");
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/accepted/);
      await during?.();
      await waitFor(async () => {
        const { committed, running } = await incremental(daemon!, name);
        return committed === null && running === null;
      }, { timeoutMs: 120_000, message: "the incremental snapshot to finish" });
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      stopping = true;
    }
    return (await Promise.all(writing)).reduce((a, b) => a + b, 0);
  }

  function expectCopied(changes: Awaited<ReturnType<typeof expectTopicEqualsPgTable>>): void {
    const reads = changes.filter((c) => c.value?.op === "r");
    // rows changed while their chunk was read are dropped from it: the stream carries their newer state
    expect(reads.length).toBeGreaterThan(ROWS * 0.5);
    expect(reads.every((c) => c.value!.source.snapshot === "incremental" && c.value!.before === null)).toBe(true);
    checkHistories(changes);
  }

  it(`copies a table on \`liberator snapshot\` under ${WRITERS} concurrent writers: the compacted topic equals the table, each key's history in commit order`, async () => {
    daemon = await startDaemon({ connectors: [pgcdcConnector(first, db.name, { snapshot: { mode: "never", chunkSize: 300 } })] });
    await untilStreaming(daemon, first);
    const writes = await copyUnderWriters(first);
    expect(writes).toBeGreaterThan(100);
    expectCopied(await expectTopicEqualsPgTable(`${first}.public.items`, db.name, "items"));
  }, 240_000);

  it("refuses a table the connector does not capture, and one without a primary key, saying why", () => {
    const missing = cli(first, "--table", "pg_catalog.pg_class");
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/pg_catalog\.pg_class: no such table, or not captured by this connector/);
    const keyless = cli(first, "--table", "public.keyless");
    expect(keyless.status).toBe(1);
    expect(keyless.stderr).toMatch(/public\.keyless has no primary key/);
  });

  it("resumes an incremental snapshot killed with SIGKILL mid-table at its next chunk, nothing lost or doubled", async () => {
    await daemon?.stop();
    const name = uniqueName("pgcdc_incremental_kill");
    daemon = await startDaemon({ connectors: [pgcdcConnector(name, db.name, { snapshot: { mode: "never", chunkSize: 200, maxRowsPerSecond: 800 } })] });
    await untilStreaming(daemon, name);
    let killedAt: Incremental | undefined;
    await copyUnderWriters(name, async () => {
      killedAt = await waitFor(
        async () => {
          const { committed } = await incremental(daemon!, name);
          return committed?.lastKey ? committed : undefined;
        },
        { timeoutMs: 60_000, message: "a committed incremental chunk" },
      );
      await daemon!.kill();
      daemon = await daemon!.restart();
      await untilStreaming(daemon, name);
    });
    expect(killedAt?.tables).toEqual(["public.items"]);
    expect(daemon.output()).toMatch(/incremental snapshot of table done/);
    expectCopied(await expectTopicEqualsPgTable(`${name}.public.items`, db.name, "items"));
  }, 300_000);
});
