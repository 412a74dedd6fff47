/**
 * Poison records under `liberator run`, for every sink: a record that is not the wire format and
 * one whose schema id the registry does not know (magic byte 0, id 32767). Two connectors read the
 * same topic in one daemon, as in production: one with `errors.tolerance: all` sends both to its
 * dead-letter topic with the cause in headers and writes everything else; one with `none` stops at
 * the exact record, names itself (not the other connector, which met the same unknown id), and is
 * started again past the record by `PUT …/offsets?force=true`. A record of valid Avro that the
 * sql sink cannot map (no row) is dead-lettered too. A registry that is down is no record's
 * fault: nothing is dead-lettered.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERROR_CATALOGUE, isErrorCode } from "../../../src/runtime/errors.js";
import { harness, readTopic, uniqueName, waitFor, type TopicRecord } from "../../harness/index.js";
import { logLines, startDaemon, type Daemon } from "../../support/daemon.js";
import { testKafka } from "../../support/kafka.js";
import { startTcpProxy } from "../../support/tcp-proxy.js";
import { testQueue } from "./bullmq-fixture.js";
import { ChangeProducer, ORDER_COLUMNS, changeEvent, orderRow, ordersStream, targetDatabase, type TargetDatabase } from "./support.js";

/** A schema id no registry of the test has: the wire format's header is right, the id unknown. */
const UNKNOWN_ID = 32767;
const unknownSchemaRecord = () => Buffer.concat([Buffer.from([0, 0, 0, 0x7f, 0xff]), Buffer.from("a body no schema reads")]);
const NOT_AVRO = Buffer.from("not avro at all");

/** Where a sink writes, and the ids of the orders it holds (one entry per row or job, so doubles show). */
interface Target {
  kind: string;
  connector(name: string, topic: string): Record<string, unknown>;
  ids(name: string): Promise<number[]>;
  close(): Promise<void>;
}

async function sqlTarget(dialect: "postgres" | "mariadb"): Promise<Target> {
  const db: TargetDatabase = await targetDatabase(dialect === "postgres" ? "postgres" : "mysql");
  return {
    kind: dialect,
    connector: (name, topic) => ({ name, type: "sql", dialect, connection: db.connection, topics: [topic], table: name }),
    ids: async (name) => (await db.rows(`SELECT id FROM ${name} ORDER BY id`).catch(() => [])).map((r) => Number(r.id)),
    close: () => db.drop(),
  };
}

function bullmqTarget(): Target {
  const queues = new Map<string, ReturnType<typeof testQueue>>();
  const queue = (name: string) => {
    let q = queues.get(name);
    if (!q) queues.set(name, (q = testQueue()));
    return q;
  };
  return {
    kind: "bullmq",
    connector: (name, topic) => {
      const q = queue(name);
      return { name, type: "bullmq", redis: harness().redis.url, topics: [topic], queue: q.name, prefix: q.prefix, offsetsKey: q.prefix };
    },
    ids: async (name) => {
      const jobs = await queue(name).jobs.getJobs(["waiting", "active", "delayed", "completed", "failed", "prioritized"]);
      return jobs.map((j) => Number((j.data as { after: { id: string } }).after.id)).sort((a, b) => a - b);
    },
    close: async () => {
      for (const q of queues.values()) await q.close();
    },
  };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const text = (h: TopicRecord["headers"]) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k, String(v)]));

describe.each([
  ["PostgreSQL", () => sqlTarget("postgres")],
  ["MariaDB", () => sqlTarget("mariadb")],
  ["BullMQ", async () => bullmqTarget()],
])("poison records in a %s sink's topic", (_, makeTarget) => {
  let producer: ChangeProducer;
  let target: Target;
  let daemon: Daemon | undefined;

  beforeAll(async () => {
    producer = await ChangeProducer.open();
    target = await makeTarget();
  });
  afterAll(async () => {
    if (daemon && daemon.child.exitCode === null) await daemon.stop("SIGKILL");
    await producer.close();
    await target.close();
  });

  it("under tolerance all dead-letters them with their cause and goes on; under none stops at each one until its offsets are set past it", async () => {
    const name = uniqueName("poison");
    const topic = `${name}.shop.orders`;
    const [all, none] = [`${name}_all`, `${name}_none`];
    await producer.createTopics(topic);
    const stream = ordersStream(topic);
    const orders = (ids: number[]) => ids.map((i) => changeEvent(stream, "orders", "c", null, orderRow(i)));

    daemon = await startDaemon({
      connectors: [
        { ...target.connector(all, topic), errors: { tolerance: "all" } },
        { ...target.connector(none, topic), errors: { tolerance: "none" } },
      ],
    });
    await daemon.waitReady();
    await producer.send(orders(range(1, 3)));
    await producer.sendRaw(topic, null, NOT_AVRO);
    await producer.sendRaw(topic, null, unknownSchemaRecord());
    await producer.send(orders(range(4, 6)));
    const produced = await readTopic(harness().kafka.brokers, topic, { expect: 8 });
    const notAvroAt = produced.find((r) => r.value?.equals(NOT_AVRO))!.offset;
    const unknownAt = produced.find((r) => r.value?.readInt32BE(1) === UNKNOWN_ID)!.offset;

    // tolerance all: both poison records in the dead-letter topic, each with its cause and origin
    await waitFor(async () => (await target.ids(all)).length === 6, { timeoutMs: 60_000, message: `${all} to write the 6 good records` });
    expect(await target.ids(all)).toEqual(range(1, 6));
    const dead = await readTopic(harness().kafka.brokers, `_liberator_dlq.${all}`, { expect: 2 });
    expect(dead.map((m) => text(m.headers))).toEqual([
      expect.objectContaining({ "liberator.error.code": "WIRE_FORMAT_INVALID", "liberator.original.offset": notAvroAt }),
      expect.objectContaining({ "liberator.error.code": "SCHEMA_NOT_FOUND", "liberator.original.offset": unknownAt }),
    ]);
    for (const m of dead) {
      expect(text(m.headers)).toMatchObject({ "liberator.original.topic": topic, "liberator.original.partition": "0", "liberator.error.connector": all });
      expect(text(m.headers)["liberator.error.message"]).toContain(`connector "${all}"`);
    }
    expect(dead[1]!.headers["liberator.error.message"]!.toString()).toContain(`Schema ${UNKNOWN_ID} not found`);
    expect(dead.map((m) => m.value)).toEqual([NOT_AVRO, unknownSchemaRecord()]);
    expect(await daemon.status(all)).toMatchObject({ state: "running", lastError: null });

    // tolerance none: stopped at the first poison record, having written what came before it
    const stopsAt = async (offset: string, code: string) => {
      await waitFor(async () => (await daemon!.status(none))?.state === "failed", { timeoutMs: 60_000, message: `${none} to stop at ${offset}` });
      const { lastError } = (await daemon!.status(none))!;
      expect(lastError!.code).toBe(code);
      expect(isErrorCode(code) && ERROR_CATALOGUE[code].category).toBe("data");
      // its own name, never the other connector's that met the same record
      expect(lastError!.message).toContain(`connector "${none}": stopped at record ${topic}/0@${offset}`);
      expect(lastError!.message).not.toContain(all);
      const next = String(BigInt(offset) + 1n);
      expect(lastError!.message).toContain(`liberator offsets set --connector ${none} --topic ${topic} --partition 0 --offset ${next} --force`);
      expect(await target.ids(none)).toEqual(range(1, 3));
      return next;
    };
    const skip = async (next: string) => {
      const res = await fetch(`${daemon!.adminUrl}/connectors/${none}/offsets?force=true`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ offsets: [{ topic, partition: 0, offset: next }] }),
      });
      expect(res.status, await res.clone().text()).toBe(200);
    };
    await skip(await stopsAt(notAvroAt, "WIRE_FORMAT_INVALID"));
    await skip(await stopsAt(unknownAt, "SCHEMA_NOT_FOUND"));
    await waitFor(async () => (await target.ids(none)).length === 6, { timeoutMs: 60_000, message: `${none} to write the records after the poison` });
    await waitFor(async () => (await daemon!.status(none))?.state === "running", { timeoutMs: 10_000, message: `${none} running` });

    // both go on with what comes next, each record once
    await producer.send(orders(range(7, 9)));
    for (const c of [all, none]) {
      await waitFor(async () => (await target.ids(c)).length >= 9, { timeoutMs: 60_000, message: `${c} to write the later records` });
      expect(await target.ids(c)).toEqual(range(1, 9));
    }
    expect(await readTopic(harness().kafka.brokers, `_liberator_dlq.${none}`, { timeoutMs: 5_000 }).catch(() => [])).toEqual([]);
  }, 240_000);
});

describe("a schema registry that is down while a sink meets a new schema id", () => {
  it("is no record's fault: the sink waits for it, dead-letters nothing, and writes every record once it is back", async () => {
    const producer = await ChangeProducer.open();
    const db = await targetDatabase("postgres");
    // a real registry: another daemon's embedded one over the same schema topic, behind a proxy the test cuts
    const registry = await startDaemon({ connectors: [] });
    const proxy = await startTcpProxy({ host: "127.0.0.1", port: Number(new URL(registry.adminUrl).port) });
    let sink: Daemon | undefined;
    try {
      await registry.waitReady();
      const name = uniqueName("regdown");
      const topic = `${name}.shop.orders`;
      await producer.createTopics(topic);
      sink = await startDaemon({
        root: { schemaRegistry: { url: `http://${proxy.host}:${proxy.port}` } },
        connectors: [{ name, type: "sql", dialect: "postgres", connection: db.connection, topics: [topic], table: name, errors: { tolerance: "all" } }],
      });
      await sink.waitReady();
      const count = async () => Number((await db.rows(`SELECT count(*) AS n FROM ${name}`).catch(() => [{ n: 0 }]))[0]!.n);
      await producer.send(range(1, 3).map((i) => changeEvent(ordersStream(topic), "orders", "c", null, orderRow(i))));
      await waitFor(async () => (await count()) === 3, { timeoutMs: 30_000, message: "the first 3 rows" });

      // a column more: a schema id the sink has not met, to be fetched while the registry is away
      proxy.cut();
      const wider = ordersStream(topic, { columns: [...ORDER_COLUMNS, { name: "coupon", dialect: "mysql", sqlType: "varchar(20)", nullable: true }] });
      await producer.send(range(4, 6).map((i) => changeEvent(wider, "orders", "c", null, { ...orderRow(i), coupon: `C${i}` })));
      await waitFor(async () => sink!.output().includes("schema registry request failed: retrying"), { timeoutMs: 30_000, message: "the sink to meet the registry down" });
      proxy.restore();

      await waitFor(async () => (await count()) === 6, { timeoutMs: 90_000, message: "the rows of the new schema" });
      expect((await db.rows(`SELECT coupon FROM ${name} ORDER BY id`)).map((r) => r.coupon)).toEqual([null, null, null, "C4", "C5", "C6"]);
      const admin = testKafka().admin();
      await admin.connect();
      try {
        expect(await admin.listTopics()).not.toContain(`_liberator_dlq.${name}`);
      } finally {
        await admin.disconnect();
      }
      expect(logLines(sink).filter((l) => l.msg.includes("dead-letter"))).toEqual([]);
      expect((await sink.status(name))!.state).toBe("running");
    } finally {
      if (sink && sink.child.exitCode === null) await sink.stop("SIGKILL");
      await registry.stop("SIGKILL");
      await proxy.close();
      await producer.close();
      await db.drop();
    }
  }, 240_000);
});

describe("a record the sql sink cannot map", () => {
  it("is dead-lettered under tolerance all: a value of a registered schema that is no row, between rows", async () => {
    const producer = await ChangeProducer.open();
    const db = await targetDatabase("postgres");
    let daemon: Daemon | undefined;
    try {
      const name = uniqueName("notrow");
      const topic = `${name}.shop.orders`;
      await producer.createTopics(topic);
      const stream = ordersStream(topic);
      daemon = await startDaemon({ connectors: [{ name, type: "sql", dialect: "postgres", connection: db.connection, topics: [topic], table: name, errors: { tolerance: "all" } }] });
      await daemon.waitReady();
      await producer.send([1, 2].map((i) => changeEvent(stream, "orders", "c", null, orderRow(i))));
      // valid Avro under a subject of its own, so no compatibility rule refuses it: only the sink cannot map it
      await producer.send([{ topic, key: null, keySchema: null, value: "a note, not a row", valueSchema: "string", valueSubject: `${topic}-notes` }]);
      await producer.send([3, 4].map((i) => changeEvent(stream, "orders", "c", null, orderRow(i))));
      await waitFor(async () => (await db.rows(`SELECT id FROM ${name}`).catch(() => [])).length === 4, { timeoutMs: 60_000, message: "the 4 rows" });
      const produced = await readTopic(harness().kafka.brokers, topic, { expect: 5 });
      const dead = await readTopic(harness().kafka.brokers, `_liberator_dlq.${name}`, { expect: 1 });
      expect(dead.map((m) => text(m.headers))).toEqual([
        expect.objectContaining({ "liberator.error.code": "SINK_RECORD_NOT_A_ROW", "liberator.original.topic": topic, "liberator.original.offset": produced[2]!.offset }),
      ]);
      expect((await daemon.status(name))!.state).toBe("running");
    } finally {
      if (daemon && daemon.child.exitCode === null) await daemon.stop("SIGKILL");
      await producer.close();
      await db.drop();
    }
  }, 180_000);
});
