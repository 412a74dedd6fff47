/**
 * The sql sink as users run it: the real `liberator run`, records produced into Kafka exactly as
 * a source produces them, crashes and takeovers at awkward moments.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import type { ChangeRecord } from "../../../src/runtime/connector.js";
import { harness, pgClient, readTopic, uniqueName, waitFor } from "../../harness/index.js";
import type { Daemon } from "../../support/daemon.js";
import { testKafka } from "../../support/kafka.js";
import { ChangeProducer, ORDER_COLUMNS, changeEvent, daemonRig, killRepeatedly, orderRow, ordersStream } from "./support.js";

describe("sql sink under liberator run", () => {
  const rig = daemonRig();

  /** A sink connector on a fresh topic; `events(n)` makes n records of it, numbered on. */
  async function fixture(options: { keyless?: boolean; sink?: Record<string, unknown> } = {}) {
    const name = uniqueName("eos");
    const topic = `${name}.shop.events`;
    await rig.producer.createTopics(topic);
    const stream = ordersStream(topic, { keyless: options.keyless });
    let next = 1;
    const table = name;
    return {
      name,
      topic,
      table,
      stream,
      connector: { name, type: "sql", dialect: "postgres", connection: rig.db.connection, topics: [topic], table, ...options.sink },
      events: (n: number): ChangeRecord[] => Array.from({ length: n }, () => changeEvent(stream, "events", "c", null, orderRow(next++))),
      count: async () => Number((await rig.db.rows(`SELECT count(*) AS n FROM ${table}`).catch(() => [{ n: 0 }]))[0]!.n),
      distinct: async () => Number((await rig.db.rows(`SELECT count(DISTINCT id) AS n FROM ${table}`))[0]!.n),
    };
  }

  async function daemon(connector: Record<string, unknown>): Promise<Daemon> {
    const d = await rig.daemon({ connectors: [connector] });
    await d.waitReady();
    return d;
  }

  it("ends with exactly the produced row count after 10 SIGKILLs mid-stream (insert mode, table without a primary key)", async () => {
    const f = await fixture({ keyless: true, sink: { mode: "insert", batch: { maxRecords: 200 } } });
    // a producer of its own: this one keeps writing in the background
    const background = await ChangeProducer.open();
    let produced = 0;
    let producing = true;
    const writer = (async () => {
      while (producing) {
        await background.send(f.events(50));
        produced += 50;
        await sleep(40);
      }
    })();
    let d = await daemon(f.connector);
    try {
      d = await killRepeatedly(d, 10, f.count, (next) => rig.track(next));
    } finally {
      producing = false;
      await writer;
      await background.close();
    }
    await waitFor(async () => (await f.count()) >= produced, { timeoutMs: 60_000, message: `${produced} rows` });
    await sleep(1000);
    expect(await f.count()).toBe(produced);
    expect(await f.distinct()).toBe(produced);
    await d.stop();
  }, 300_000);

  it("sends a record the target refuses and one it cannot decode to the dead-letter topic, with the error and origin in headers, and writes the rest", async () => {
    const f = await fixture({ sink: { errors: { tolerance: "all" } } });
    await rig.db.rows(`CREATE TABLE ${f.table} (id BIGINT PRIMARY KEY, name TEXT NOT NULL, qty INT NOT NULL CHECK (qty >= 0))`);
    const narrow = ordersStream(f.topic, { columns: [ORDER_COLUMNS[0]!, ORDER_COLUMNS[1]!, ORDER_COLUMNS[2]!] });
    const row = (id: number, qty: number) => changeEvent(narrow, "events", "c", null, { id: BigInt(id), name: `n${id}`, qty });
    await daemon(f.connector);
    await rig.producer.send([row(1, 1), row(2, 2)]);
    await rig.producer.sendRaw(f.topic, null, Buffer.from("not avro at all"));
    await rig.producer.send([row(3, -5), row(4, 4), row(5, 5)]);

    await waitFor(async () => (await f.count()) === 4, { timeoutMs: 30_000, message: "the 4 good rows" });
    expect((await rig.db.rows(`SELECT id FROM ${f.table} ORDER BY id`)).map((r) => String(r.id))).toEqual(["1", "2", "4", "5"]);
    const dead = await readTopic(harness().kafka.brokers, `_liberator_dlq.${f.name}`, { expect: 2, timeoutMs: 30_000 });
    const headers = dead.map((m) => Object.fromEntries(Object.entries(m.headers).map(([k, v]) => [k, String(v)])));
    expect(headers.map((h) => h["liberator.error.code"])).toEqual(["WIRE_FORMAT_INVALID", "SINK_ROW_REFUSED"]);
    for (const h of headers) expect(h).toMatchObject({ "liberator.original.topic": f.topic, "liberator.original.partition": "0", "liberator.error.connector": f.name });
    // the offsets name the very records: the raw one after the first transaction, the refused one first in the third
    expect(headers.map((h) => Number(h["liberator.original.offset"]))).toEqual([3, 5]);
    expect(headers[1]!["liberator.error.message"]).toMatch(/check constraint/);
    expect(dead[0]!.value!.toString()).toBe("not avro at all");
  });

  it("adds the column a source gained, and rows written before it keep NULL there", async () => {
    const f = await fixture();
    await daemon(f.connector);
    await rig.producer.send(f.events(3));
    await waitFor(async () => (await f.count()) === 3, { timeoutMs: 30_000, message: "3 rows" });
    const v2 = ordersStream(f.topic, { columns: [...ORDER_COLUMNS, { name: "coupon", dialect: "mysql", sqlType: "varchar(20)", nullable: true }] });
    await rig.producer.send([changeEvent(v2, "events", "c", null, { ...orderRow(100), coupon: "SPRING-24" })]);
    await waitFor(async () => (await f.count()) === 4, { timeoutMs: 30_000, message: "the row of the new schema" });
    const rows = await rig.db.rows(`SELECT id, coupon FROM ${f.table} ORDER BY id`);
    expect(rows.map((r) => r.coupon)).toEqual([null, null, null, "SPRING-24"]);
  });

  it("commits what it wrote to the connector's consumer group, where lag tools read it", async () => {
    const f = await fixture();
    await daemon(f.connector);
    await rig.producer.send(f.events(30));
    await waitFor(async () => (await f.count()) === 30, { timeoutMs: 30_000, message: "30 rows" });
    const admin = testKafka().admin();
    await admin.connect();
    try {
      const [end] = await admin.fetchTopicOffsets(f.topic);
      await waitFor(
        async () => {
          const [group] = await admin.fetchOffsets({ groupId: `liberator-${f.name}`, topics: [f.topic] });
          return group?.partitions[0]?.offset === end!.offset;
        },
        { timeoutMs: 20_000, intervalMs: 500, message: "the group's offset to reach the topic's end" },
      );
    } finally {
      await admin.disconnect();
    }
  });

  it("lingers: records that trickle in within batch.lingerMs are written in one transaction", async () => {
    const f = await fixture({ sink: { batch: { lingerMs: 1500 } } });
    await daemon(f.connector);
    const seen = new Set<string>();
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const [row] = await rig.db.rows(`SELECT next_offset FROM liberator_offsets WHERE connector = '${f.name}' AND topic = '${f.topic}'`);
        if (row) seen.add(String(row.next_offset));
        await sleep(10);
      }
    })();
    for (let i = 0; i < 10; i++) {
      await rig.producer.send(f.events(1));
      await sleep(50);
    }
    await waitFor(async () => (await f.count()) === 10, { timeoutMs: 30_000, message: "10 rows" });
    watching = false;
    await watcher;
    // ten single-record transactions, committed to the target as one or two batches
    expect(seen.size).toBeLessThanOrEqual(2);
  });

  it("lets a frozen sink that was replaced (SIGSTOP, a new instance, SIGCONT) commit nothing: its transaction fails on the epoch", async () => {
    const f = await fixture({ keyless: true, sink: { mode: "insert" } });
    const zombie = await daemon(f.connector);
    await rig.producer.send(f.events(100));
    await waitFor(async () => (await f.count()) === 100, { timeoutMs: 30_000, message: "100 rows" });

    // hold the zombie inside its next transaction: it waits on a table lock, then is frozen
    const locker = await pgClient(harness(), rig.db.name);
    await locker.query("BEGIN");
    await locker.query(`LOCK TABLE ${f.table} IN ACCESS EXCLUSIVE MODE`);
    await rig.producer.send(f.events(50));
    await waitFor(
      async () => (await locker.query("SELECT 1 FROM pg_stat_activity WHERE application_name = 'liberator' AND wait_event_type = 'Lock'")).rowCount === 1,
      { timeoutMs: 30_000, message: "the sink to wait inside its transaction" },
    );
    process.kill(zombie.child.pid!, "SIGSTOP");
    try {
      // the new instance claims the next epoch as it opens
      await daemon(f.connector);
    } finally {
      await locker.query("COMMIT");
      await locker.end();
      process.kill(zombie.child.pid!, "SIGCONT");
    }
    await waitFor(async () => (await zombie.status(f.name))?.state === "failed", { timeoutMs: 30_000, message: "the zombie to stop" });
    expect((await zombie.status(f.name))!.lastError).toMatchObject({ code: "FENCED" });
    expect(zombie.output()).toMatch(/another task or instance claimed it/);
    await waitFor(async () => (await f.count()) >= 150, { timeoutMs: 60_000, message: "the new instance to write the 50 rows" });
    await sleep(500);
    expect(await f.count()).toBe(150);
    expect(await f.distinct()).toBe(150);
  });

  it("writes every record again into a target emptied to be rebuilt, whatever the group's committed offset", async () => {
    const f = await fixture();
    const first = await daemon(f.connector);
    await rig.producer.send(f.events(20));
    await waitFor(async () => (await f.count()) === 20, { timeoutMs: 30_000, message: "20 rows" });
    expect((await first.stop()).code).toBe(0); // the group commits its offset on the way out
    await rig.db.rows(`DROP TABLE ${f.table}`);
    await rig.db.rows(`DELETE FROM liberator_offsets WHERE connector = '${f.name}'`);
    await daemon(f.connector);
    await waitFor(async () => (await f.count()) === 20, { timeoutMs: 30_000, message: "the 20 rows again" });
  });
});
