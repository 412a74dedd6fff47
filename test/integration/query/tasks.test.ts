/**
 * A query connector split over tasks in one process (issue 19): each table read by exactly one
 * task, and a change of the task count (2 -> 1 -> 4) finds each table's position wherever the new
 * count puts it, so no row is lost or produced twice.
 */
import { afterAll, describe, expect, it } from "vitest";
import { uniqueName, waitFor } from "../../harness/index.js";
import { startDaemon, type Daemon } from "../../support/daemon.js";
import { connectorEntry, databaseFor } from "./fixtures.js";
import { createTables, expectEachRowOnce, expectTablesSplit, insertRows, runningTasks, TABLES } from "./tasks-support.js";

describe("query source: tasks in one process", () => {
  const db = databaseFor("mariadb");
  let daemon: Daemon | undefined;
  afterAll(async () => {
    await daemon?.stop();
  });

  it("splits four tables over two tasks, then keeps every table's position through 2 -> 1 -> 4 tasks", async () => {
    await createTables(db);
    await insertRows(db, 50);
    const name = uniqueName("qt");
    const prefix = `${name}.${db.schema}`;
    const entry = (tasks: number | "auto") => connectorEntry(db, name, { tables: TABLES.map((t) => `${db.schema}.${t}`), mode: "incrementing", batchSize: 20, tasks });

    daemon = await startDaemon({ connectors: [entry(2)] });
    expectTablesSplit(await runningTasks(daemon, name, 2), db.schema);
    await expectEachRowOnce(db, daemon.adminUrl, prefix);
    // the kill lands while rows written now are being read
    await insertRows(db, 30);
    await waitFor(async () => ((await daemon!.statuses()).filter((v) => v.name === name).reduce((n, v) => n + v.records, 0)) > 200, { timeoutMs: 30_000, message: "new rows read" });
    await daemon.kill();

    daemon = await startDaemon({ connectors: [entry(1)] });
    const [single] = await runningTasks(daemon, name, 1);
    expect(single!.details.tables?.length).toBe(4);
    await insertRows(db, 10);
    await expectEachRowOnce(db, daemon.adminUrl, prefix);
    expect((await daemon.stop()).code).toBe(0);

    await insertRows(db, 10);
    // auto: a task per table
    daemon = await startDaemon({ connectors: [entry("auto")] });
    const four = await runningTasks(daemon, name, 4);
    expectTablesSplit(four, db.schema);
    expect(four.map((v) => v.details.tables!.length)).toEqual([1, 1, 1, 1]);
    await insertRows(db, 10);
    await expectEachRowOnce(db, daemon.adminUrl, prefix);
  });
});
