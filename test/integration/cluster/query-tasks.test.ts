/**
 * Issue 19: a query connector with four tables and `tasks: 2` on two worker processes. Each
 * table is read by one task, the tasks run on both workers, a pause or an offsets change through
 * one worker reaches both, and a kill -9 of one worker moves its
 * task to the other, which resumes from that task's positions: every row reaches Kafka once. Its
 * task count changed, or its tables reordered at the same count, by a reload of one worker and,
 * seconds later, of the other: the new generation's tasks fence the old one's, so a task of the old
 * one left running produces nothing twice, and none of them loses another's position.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import { SourceOffsetStore } from "../../../src/runtime/offsets/source-offsets.js";
import { uniqueName, waitFor } from "../../harness/index.js";
import type { Daemon } from "../../support/daemon.js";
import { silentLog, testKafka } from "../../support/kafka.js";
import { connectorEntry, databaseFor, type TestDatabase } from "../query/fixtures.js";
import { adminCall, createTables, expectEachRowOnce, expectTablesSplit, insertRows, runningTasks, TABLES, tasksIn, type TaskView } from "../query/tasks-support.js";
import { editConnectors, logLines, startCluster, type TestCluster } from "./support.js";

/** A row in every table each 20 ms until the returned function is called (and awaited). */
function writeRows(db: TestDatabase): () => Promise<void> {
  let writing = true;
  const writer = (async () => {
    while (writing) {
      await insertRows(db, 1);
      await sleep(20);
    }
  })();
  return async () => {
    writing = false;
    await writer;
  };
}

describe("cluster mode: a query connector's tasks on two workers", () => {
  const db = databaseFor("mariadb");
  let cluster: TestCluster | undefined;
  afterAll(() => cluster?.close());

  it("reads each table in one task, and every row exactly once through a kill -9 of a worker", async () => {
    await createTables(db);
    await insertRows(db, 100);
    const name = uniqueName("qc");
    const prefix = `${name}.${db.schema}`;
    cluster = await startCluster({
      workers: 2,
      connectors: [connectorEntry(db, name, { tables: TABLES.map((t) => `${db.schema}.${t}`), mode: "incrementing", batchSize: 20, tasks: 2 })],
    });
    const spread = await runningTasks(cluster.workers[0]!, name, 2, (views) => new Set(views.map((v) => v.worker)).size === 2);
    expectTablesSplit(spread, db.schema);

    // pause, resume and offsets through one worker's API reach both tasks, on both workers
    const api = (method: string, action: string, body?: unknown) => adminCall(cluster!.workers[0]!, method, `/connectors/${name}/${action}`, body);
    const refused = await api("PUT", "offsets", { reset: true });
    expect(refused).toMatchObject({ status: 409, body: { code: "CONNECTOR_RUNNING", connector: name, fix: expect.stringContaining("pause it first") } });
    expect(refused.body.message).toMatch(/^task [01] of 2 is running on worker w[12]:/);
    // every row read, so that no task holds a batch while paused: the position then stays where it is.
    // Judged by the stored position, not the tasks' record counts: a task that moved to the other
    // worker as the second one joined counts only what it read there.
    const lastIds = await Promise.all(TABLES.map(async (t) => Number(((await db.exec(`SELECT MAX(id) AS id FROM ${t}`)) as { id: number }[])[0]!.id)));
    const cursors = async () => ((await api("GET", "offsets")).body.position as { streams?: Record<string, { id?: unknown }> } | null)?.streams ?? {};
    await waitFor(async () => (await cursors().then((streams) => TABLES.every((t, i) => Number(streams[`${prefix}.${t}`]?.id) === lastIds[i]))) || undefined, {
      timeoutMs: 30_000,
      message: "every row read",
    });
    expect((await api("POST", "pause")).status).toBe(200);
    await tasksIn(cluster.workers[1]!, name, "paused", 2, 2);
    const { position } = (await api("GET", "offsets")).body;
    // every task stopped, on each worker, the position written once, each started again from it: still paused
    const stops = () => cluster!.workers.map((w) => logLines(w).filter((l) => l.connector === name && l.msg === "connector stopped").length);
    const before = stops();
    expect(await api("PUT", "offsets", { position })).toMatchObject({ status: 200, body: { position } });
    await waitFor(() => stops().every((n, i) => n === before[i]! + 1) || undefined, { timeoutMs: 5_000, message: "a task stopped on each worker" });
    await tasksIn(cluster.workers[1]!, name, "paused", 2, 2);
    expect((await api("POST", "resume")).status).toBe(200);
    await tasksIn(cluster.workers[1]!, name, "running", 2, 2);

    // rows written across the kill
    const stopWriting = writeRows(db);
    await sleep(1500);
    const victim = cluster.ids.indexOf(spread[0]!.worker!);
    const survivor = cluster.workers[1 - victim]!;
    const killedAt = Date.now();
    await cluster.workers[victim]!.kill();
    const moved = await runningTasks(survivor, name, 2, (views) => views.every((v) => v.worker === cluster!.ids[1 - victim]), 15_000);
    expect(Date.now() - killedAt).toBeLessThan(15_000);
    expect(moved[0]!.details.tables).toEqual(spread[0]!.details.tables);
    await sleep(1500);
    await stopWriting();

    await expectEachRowOnce(db, survivor.adminUrl, prefix);
    // each task's position holds its own tables only
    const store = await SourceOffsetStore.open(testKafka(), silentLog, 1);
    try {
      const stored = await store.readTasks(name);
      const topicsOf = (index: number) => Object.keys((stored.find((s) => s.key.startsWith(`${name}#${index}/2.`))?.position as { streams: object } | undefined)?.streams ?? {}).sort();
      expect([topicsOf(0), topicsOf(1)]).toEqual(spread.map((v) => v.details.tables!.map((t) => `${name}.${t}`).sort()));
    } finally {
      await store.close();
    }
  });
});

interface Split {
  tables: string[];
  tasks: number;
}

/**
 * The connector's split changed from `before` to `after` by a reload of one worker and, seconds
 * later, of the other, under writers: the tasks of the new split run beside the other worker's task
 * of the old one until it is fenced, and each row is in Kafka once.
 */
function splitChangedWhileRunning(title: string, before: Split, after: Split): void {
  describe("cluster mode: a query connector's tasks changed while it runs", () => {
    const db = databaseFor("mariadb");
    let cluster: TestCluster | undefined;
    afterAll(() => cluster?.close());

    it(title, async () => {
      await createTables(db);
      await insertRows(db, 50);
      const name = uniqueName("qn");
      const entry = ({ tables, tasks }: Split) => connectorEntry(db, name, { tables: tables.map((t) => `${db.schema}.${t}`), mode: "incrementing", batchSize: 20, tasks });
      cluster = await startCluster({ workers: 2, connectors: [entry(before)] });
      const [first, second] = cluster.workers as [Daemon, Daemon];
      await runningTasks(first, name, before.tasks, (views) => new Set(views.map((v) => v.worker)).size === 2);

      const stopWriting = writeRows(db);
      await sleep(1000);
      // the edit reaches one worker first: the other's task of the old split reads on meanwhile
      editConnectors(first, () => [entry(after)]);
      first.child.kill("SIGHUP");
      // task i of the new split reads every N-th table from the i-th
      const share = (index: number) => after.tables.filter((_, i) => i % after.tasks === index).map((t) => `${db.schema}.${t}`);
      const ofNewSplit = (v: TaskView) => v.task.count === after.tasks && JSON.stringify(v.details.tables) === JSON.stringify(share(v.task.index));
      const newSplit = async () => ((await first.statuses()) as unknown as TaskView[]).filter((v) => v.name === name && v.state === "running" && ofNewSplit(v));
      await waitFor(async () => (await newSplit()).length >= after.tasks - 1, {
        timeoutMs: 30_000,
        message: `${after.tasks - 1} task(s) of the new split running`,
      });
      await sleep(1500);
      editConnectors(second, () => [entry(after)]);
      second.child.kill("SIGHUP");
      expectTablesSplit(await runningTasks(first, name, after.tasks, (views) => views.every(ofNewSplit)), db.schema);
      await sleep(1000);
      await stopWriting();
      await expectEachRowOnce(db, first.adminUrl, `${name}.${db.schema}`);
    });
  });
}

splitChangedWhileRunning("2 -> 4 tasks, one worker reloaded well before the other: the old count's tasks are fenced, every row once", { tables: TABLES, tasks: 2 }, { tables: TABLES, tasks: 4 });
// every table changes task at the same count: the tasks' ids and position keys differ by their split
splitChangedWhileRunning(
  "2 tasks, the tables reordered, one worker reloaded well before the other: the old split's tasks are fenced, every row once",
  { tables: TABLES, tasks: 2 },
  { tables: ["t1", "t0", "t3", "t2"], tasks: 2 },
);
