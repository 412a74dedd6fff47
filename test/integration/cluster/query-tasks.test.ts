/**
 * Issue 19: a query connector with four tables and `tasks: 2` on two worker processes. Each
 * table is read by one task, the tasks run on both workers, and a kill -9 of one worker moves its
 * task to the other, which resumes from that task's positions: every row reaches Kafka once.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import { SourceOffsetStore } from "../../../src/runtime/offsets/source-offsets.js";
import { uniqueName } from "../../harness/index.js";
import { silentLog, testKafka } from "../../support/kafka.js";
import { connectorEntry, databaseFor } from "../query/fixtures.js";
import { createTables, expectEachRowOnce, expectTablesSplit, insertRows, runningTasks, TABLES } from "../query/tasks-support.js";
import { startCluster, type TestCluster } from "./support.js";

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

    // a writer adds a row to every table each 20 ms across the kill
    let writing = true;
    const writer = (async () => {
      while (writing) {
        await insertRows(db, 1);
        await sleep(20);
      }
    })();
    await sleep(1500);
    const victim = cluster.ids.indexOf(spread[0]!.worker!);
    const survivor = cluster.workers[1 - victim]!;
    const killedAt = Date.now();
    await cluster.workers[victim]!.kill();
    const moved = await runningTasks(survivor, name, 2, (views) => views.every((v) => v.worker === cluster!.ids[1 - victim]), 15_000);
    expect(Date.now() - killedAt).toBeLessThan(15_000);
    expect(moved[0]!.details.tables).toEqual(spread[0]!.details.tables);
    await sleep(1500);
    writing = false;
    await writer;

    await expectEachRowOnce(db, survivor.adminUrl, prefix);
    // each task's position holds its own tables only
    const store = await SourceOffsetStore.open(testKafka(), silentLog, 1);
    try {
      const stored = await store.readTasks(name);
      const topicsOf = (index: number) => Object.keys((stored.find((s) => s.key === `${name}#${index}`)?.position as { streams: object } | undefined)?.streams ?? {}).sort();
      expect([topicsOf(0), topicsOf(1)]).toEqual(spread.map((v) => v.details.tables!.map((t) => `${name}.${t}`).sort()));
    } finally {
      await store.close();
    }
  });
});
