import { describe, expect, it } from "vitest";
import type { ChangeRecord, Position, Source, SourceBatch } from "../../../src/runtime/connector.js";
import { uniqueName, waitFor } from "../../harness/index.js";
import { pgcdcSource, scratchDatabase } from "./support.js";

type Envelope = { op: string; before: Record<string, unknown> | null; after: Record<string, unknown> | null };

/** Reads (acking each batch, as the runtime does after its commit) until `done` says so. */
async function readUntil(source: Source, done: (records: ChangeRecord[]) => boolean, timeoutMs = 30_000): Promise<{ records: ChangeRecord[]; last: SourceBatch }> {
  const records: ChangeRecord[] = [];
  const deadline = Date.now() + timeoutMs;
  let last: SourceBatch | null = null;
  while (!done(records)) {
    if (Date.now() > deadline) throw new Error(`gave up after ${records.length} records`);
    last = await source.read();
    if (!last) break;
    records.push(...last.records);
    await source.ack(last.position);
  }
  return { records, last: last! };
}

describe("pgcdc streaming", () => {
  const db = scratchDatabase();

  it("delivers the real value of a large TOASTed column an update did not touch: from the old row under FULL, read back under DEFAULT", async () => {
    await db.client.query("CREATE TABLE docs (id INT PRIMARY KEY, v INT NOT NULL, body TEXT NOT NULL)");
    await db.client.query("CREATE TABLE docs_full (id INT PRIMARY KEY, v INT NOT NULL, body TEXT NOT NULL)");
    await db.client.query("ALTER TABLE docs_full REPLICA IDENTITY FULL");
    // random hex, 64 KB: stored out of line even after compression
    for (const t of ["docs", "docs_full"]) await db.client.query(`INSERT INTO ${t} SELECT 1, 1, string_agg(md5(random()::text), '') FROM generate_series(1, 2000)`);
    const { rows } = await db.client.query<{ t: string; body: string }>("SELECT 'docs' AS t, body FROM docs UNION ALL SELECT 'docs_full', body FROM docs_full");
    const toasted = await db.client.query<{ out_of_line: boolean }>("SELECT pg_relation_size(reltoastrelid) > 0 AS out_of_line FROM pg_class WHERE relname IN ('docs', 'docs_full')");
    expect(toasted.rows).toEqual([{ out_of_line: true }, { out_of_line: true }]);
    const source = pgcdcSource(db.name, { include: ["public.docs", "public.docs_full"], snapshot: { mode: "never" } });
    await source.open(null);
    try {
      await source.read();
      await db.client.query("UPDATE docs SET v = 2 WHERE id = 1");
      await db.client.query("UPDATE docs_full SET v = 2 WHERE id = 1");
      const { records } = await readUntil(source, (r) => r.length >= 2);
      const byTopic = new Map(records.map((r) => [r.topic.split(".").pop(), r.value as Envelope]));
      const want = new Map(rows.map((r) => [r.t, r.body]));
      expect(byTopic.get("docs")).toMatchObject({ op: "u", before: null, after: { id: 1, v: 2, body: want.get("docs") } });
      expect(byTopic.get("docs_full")).toMatchObject({ op: "u", before: { id: 1, v: 1, body: want.get("docs_full") }, after: { id: 1, v: 2, body: want.get("docs_full") } });
    } finally {
      await source.close();
    }
  });

  it("splits only a transaction larger than maxTransactionRecords, and resumes inside it without a repeat or a gap", async () => {
    await db.client.query("CREATE TABLE big (id INT PRIMARY KEY)");
    const name = uniqueName("split");
    const open = async (position: Position | null): Promise<Source> => {
      const source = pgcdcSource(db.name, { name, include: ["public.big"], maxTransactionRecords: 1000, snapshot: { mode: "never" } });
      await source.open(position);
      return source;
    };
    const first = await open(null);
    await first.read();
    await db.client.query("INSERT INTO big (id) SELECT generate_series(1, 2500)");
    const { last: part } = await readUntil(first, (r) => r.length > 0);
    await first.close();
    // the server ends the closed connection's walsender a moment later: until then the slot is
    // active and a new stream on it is refused (55006, which the runtime retries; this test reads
    // the source without the runtime)
    await waitFor(
      async () => (await db.client.query("SELECT 1 FROM pg_replication_slots WHERE database = $1 AND active", [db.name])).rowCount === 0 || undefined,
      { timeoutMs: 10_000, message: "the slot released by the closed stream" },
    );
    expect(part.records.length).toBe(1000);
    expect(part.position).toMatchObject({ row: 1000 });

    const second = await open(part.position);
    const { records } = await readUntil(second, (r) => r.length >= 1500);
    await second.close();
    const ids = [...part.records, ...records].map((r) => (r.key as { id: number }).id);
    expect(ids.sort((x, y) => x - y)).toEqual(Array.from({ length: 2500 }, (_, i) => i + 1));
  });

  it("keeps before images as the replica identity gives them: the old key when it changed, nothing when it did not", async () => {
    await db.client.query("CREATE TABLE keyed (id INT PRIMARY KEY, label TEXT NOT NULL)");
    const source = pgcdcSource(db.name, { include: ["public.keyed"], snapshot: { mode: "never" } });
    await source.open(null);
    try {
      await source.read();
      await db.client.query("INSERT INTO keyed VALUES (1, 'a')");
      await db.client.query("UPDATE keyed SET label = 'b' WHERE id = 1");
      await db.client.query("UPDATE keyed SET id = 2 WHERE id = 1");
      await db.client.query("DELETE FROM keyed WHERE id = 2");
      await db.client.query("TRUNCATE keyed");
      const { records } = await readUntil(source, (r) => r.some((x) => (x.value as Envelope | null)?.op === "t"));
      const ops = records.map((r) => (r.value === null ? `tombstone ${JSON.stringify(r.key)}` : `${(r.value as Envelope).op} ${JSON.stringify(r.key)}`));
      expect(ops).toEqual(['c {"id":1}', 'u {"id":1}', 'd {"id":1}', 'tombstone {"id":1}', 'c {"id":2}', 'd {"id":2}', 'tombstone {"id":2}', "t null"]);
      expect((records[1]!.value as Envelope).after).toEqual({ id: 1, label: "b" });
    } finally {
      await source.close();
    }
  });

  it("stops with PGCDC_SLOT_MISSING when its slot was dropped, and copies the tables again under snapshot.mode when_needed", async () => {
    await db.client.query("CREATE TABLE lost (id INT PRIMARY KEY)");
    await db.client.query("INSERT INTO lost VALUES (1), (2)");
    const name = uniqueName("lost");
    const open = (mode: string) => pgcdcSource(db.name, { name, include: ["public.lost"], snapshot: { mode } });
    const first = open("initial");
    await first.open(null);
    const { last } = await readUntil(first, (r) => r.length >= 2);
    await first.close();
    await db.client.query("SELECT pg_drop_replication_slot($1)", [`liberator_${name}`]);

    const strict = open("initial");
    await expect(strict.open(last.position)).rejects.toMatchObject({ code: "PGCDC_SLOT_MISSING", fix: expect.stringMatching(/when_needed/) });
    await strict.close();

    const healing = open("when_needed");
    await healing.open(last.position);
    const { records } = await readUntil(healing, (r) => r.length >= 2);
    await healing.close();
    expect(records.map((r) => (r.value as Envelope).op)).toEqual(["r", "r"]);
  });

  it("moves the slot's confirmed position with heartbeats while a captured table is idle and another is busy, and not without them", async () => {
    await db.client.query("CREATE TABLE idle (id INT PRIMARY KEY)");
    await db.client.query("CREATE TABLE busy (id SERIAL PRIMARY KEY, pad TEXT)");
    const confirmedAfterBusyWrites = async (intervalMs: number): Promise<{ moved: boolean }> => {
      const name = uniqueName("hb");
      const source = pgcdcSource(db.name, { name, include: ["public.idle"], snapshot: { mode: "never" }, heartbeat: { intervalMs } });
      await source.open(null);
      try {
        await source.read();
        const start = (await db.client.query<{ lsn: string }>("SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1", [`liberator_${name}`])).rows[0]!.lsn;
        for (let i = 0; i < 6; i++) {
          await db.client.query("INSERT INTO busy (pad) SELECT repeat('x', 1000) FROM generate_series(1, 100)");
          const batch = await source.read();
          expect(batch!.records).toEqual([]);
          await source.ack(batch!.position);
        }
        const { rows } = await db.client.query<{ moved: boolean }>("SELECT confirmed_flush_lsn > $2::pg_lsn AS moved FROM pg_replication_slots WHERE slot_name = $1", [`liberator_${name}`, start]);
        return rows[0]!;
      } finally {
        await source.close();
      }
    };
    expect(await confirmedAfterBusyWrites(200)).toEqual({ moved: true });
    expect(await confirmedAfterBusyWrites(0)).toEqual({ moved: false });
  });
});
