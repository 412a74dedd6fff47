/**
 * The order of a new deployment: sinks may start before any source has produced. A sink whose
 * topics do not exist yet waits for them, and a topic pattern follows the topics that appear.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uniqueName, waitFor } from "../../harness/index.js";
import { startDaemon, type Daemon } from "../../support/daemon.js";
import { ChangeProducer, changeEvent, orderRow, ordersStream, targetDatabase, type TargetDatabase } from "./support.js";

describe("sink topics that do not exist yet", () => {
  let producer: ChangeProducer;
  let db: TargetDatabase;
  let daemon: Daemon | undefined;

  beforeAll(async () => {
    producer = await ChangeProducer.open();
    db = await targetDatabase("postgres");
  });
  afterAll(async () => {
    await daemon?.stop("SIGKILL");
    await producer.close();
    await db.drop();
  });

  const count = async (table: string) => Number((await db.rows(`SELECT count(*) AS n FROM ${table}`).catch(() => [{ n: 0 }]))[0]!.n);
  const errorsCounted = async (d: Daemon, connector: string) => {
    const text = await (await fetch(`${d.adminUrl}/metrics`)).text();
    return text.split("\n").filter((l) => l.startsWith("liberator_errors_total") && l.includes(`connector="${connector}"`));
  };

  it("waits (state waiting, one log line, no error) until its topics exist, then writes them; a pattern picks up topics created while it runs; a source creates its topics at start", async () => {
    const prefix = uniqueName("appear");
    const listed = `${prefix}.shop.orders`;
    const [fixed, pattern, copy] = [`${prefix}_fixed`, `${prefix}_pattern`, `${prefix}_copy`];
    const sink = (name: string, topics: string[], table: string) => ({ name, type: "sql", dialect: "postgres", connection: db.connection, topics, table });
    // a table nothing was ever written to: its topic exists once its source has started
    await db.rows(`CREATE TABLE ${prefix}_quiet (id bigint PRIMARY KEY, note text)`);
    const source = { name: `${prefix}_src`, type: "query", dialect: "postgres", connection: db.connection, tables: [`${prefix}_quiet`], mode: "incrementing", pollIntervalMs: 200, delayMs: 0 };
    daemon = await startDaemon({
      connectors: [
        sink(fixed, [listed], `${prefix}_orders`),
        sink(pattern, [`${prefix}.inventory.*`], `${prefix}_{table}`),
        source,
        sink(copy, [`${prefix}_src.public.${prefix}_quiet`], `${prefix}_copy`),
      ],
    });
    const d = daemon;
    const stateOf = async (name: string) => {
      if (d.child.exitCode !== null) throw new Error(`liberator exited with ${d.child.exitCode}:\n${d.output().slice(-3000)}`);
      return (await d.status(name).catch(() => undefined))?.state;
    };
    await waitFor(async () => (await stateOf(fixed)) === "waiting" && (await stateOf(pattern)) === "waiting", {
      timeoutMs: 60_000,
      message: "both sinks waiting",
    }).catch((err: Error) => {
      throw new Error(`${err.message}\n${d.output().slice(-3000)}`);
    });
    // waiting is a healthy state: a deployment that starts its sinks first becomes ready
    await d.waitReady();
    await waitFor(async () => (await stateOf(copy)) === "running", { timeoutMs: 30_000, message: "the sink of the quiet table running" });
    expect(await count(`${prefix}_quiet`)).toBe(0);

    const orders = ordersStream(listed);
    await producer.createTopics(listed);
    await producer.send([1, 2, 3].map((i) => changeEvent(orders, "orders", "c", null, orderRow(i))));
    await waitFor(async () => (await count(`${prefix}_orders`)) === 3, { timeoutMs: 30_000, message: "3 rows of the listed topic" });
    expect((await d.status(fixed))?.state).toBe("running");

    const shelves = ordersStream(`${prefix}.inventory.shelves`);
    await producer.createTopics(shelves.topic);
    await producer.send([1, 2].map((i) => changeEvent(shelves, "shelves", "c", null, orderRow(i))));
    await waitFor(async () => (await count(`${prefix}_shelves`)) === 2, { timeoutMs: 30_000, message: "2 rows of the first matching topic" });

    // a second table appears while the sink runs
    const bins = ordersStream(`${prefix}.inventory.bins`);
    await producer.createTopics(bins.topic);
    await producer.send([1, 2, 3, 4].map((i) => changeEvent(bins, "bins", "c", null, orderRow(i))));
    await producer.send([changeEvent(shelves, "shelves", "c", null, orderRow(3))]);
    await waitFor(async () => (await count(`${prefix}_bins`)) === 4 && (await count(`${prefix}_shelves`)) === 3, {
      timeoutMs: 30_000,
      message: "the rows of the topic created while running",
    });

    const lines = d.output().split("\n").filter((l) => l.includes('"state":"waiting"') || /waiting for/.test(l));
    expect(lines.filter((l) => l.includes(`"connector":"${fixed}"`) && /waiting for/.test(l))).toHaveLength(1);
    expect(lines.filter((l) => l.includes(`"connector":"${pattern}"`) && /waiting for/.test(l))).toHaveLength(1);
    expect(await errorsCounted(d, fixed)).toEqual([]);
    expect(await errorsCounted(d, pattern)).toEqual([]);
    expect((await d.status(fixed))?.lastError).toBeNull();
  });
});
