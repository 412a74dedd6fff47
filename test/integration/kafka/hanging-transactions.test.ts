/**
 * Hanging transactions (KIP-664), made on purpose as a broker's crash left them in
 * shutdown-states.test.ts: a transactional id registered (its coordinator Empty) and a
 * transactional batch appended to a partition without the coordinator hearing of it. A broker that
 * checks each transactional write with the coordinator (KIP-890) refuses that; this private broker
 * does not, so the state the crash left can be made at will. Kafka's own tooling judges what
 * Liberator finds: `Admin.describeProducers` and `listOffsets` of the Java client.
 */
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Admin, Kafka } from "kafkajs";
import { ensureTopics } from "../../../src/runtime/kafka/admin.js";
import { CompactedTopicLog } from "../../../src/runtime/kafka/compacted-log.js";
import { abortHanging, findHanging, maxTransactionTimeout } from "../../../src/runtime/kafka/hanging-transactions.js";
import { startKafka, uniqueName, waitFor, type KafkaServer } from "../../harness/index.js";
import { kafkaLibs } from "../../harness/kafka.js";
import { repoRoot } from "../../harness/paths.js";
import { startDaemon } from "../../support/daemon.js";
import { silentLog, testKafka } from "../../support/kafka.js";

const require = createRequire(import.meta.url);
type Request = { request: unknown; response: unknown };
const initProducerId = (require("kafkajs/src/protocol/requests/initProducerId") as { protocol(v: { version: number }): (a: object) => Request }).protocol({ version: 1 });
const produce = (require("kafkajs/src/protocol/requests/produce") as { protocol(v: { version: number }): (a: object) => Request }).protocol({ version: 3 });
type Sending = Admin & { sendRequest<T>(to: { nodeId?: number; transactionalId?: string; request: Request }): Promise<T> };

/** Registers `transactionalId` and appends one transactional record to topic/partition behind its coordinator's back. */
async function hang(admin: Admin, topic: string, partition: number): Promise<void> {
  const transactionalId = uniqueName("hanging");
  const sending = admin as Sending;
  const registered = await waitFor(
    () => sending.sendRequest<{ producerId: string; producerEpoch: number }>({ transactionalId, request: initProducerId({ transactionalId, transactionTimeout: 60_000 }) }).catch(() => undefined),
    { timeoutMs: 30_000, message: "the transactional id registered" },
  );
  const { brokers } = await admin.describeCluster();
  await sending.sendRequest({
    nodeId: brokers[0]!.nodeId,
    request: produce({ acks: -1, timeout: 30_000, transactionalId, ...registered, topicData: [{ topic, partitions: [{ partition, firstSequence: 0, messages: [{ key: "k", value: "held" }] }] }] }),
  });
}

let libs: string;

interface PartitionView {
  hw: number;
  lso: number;
  /** "producerId/epoch@offset" of each transaction open on the partition. */
  open: string[];
}

/** The Java client's view of partitions: high watermark, last stable offset, and the transactions open (one JVM for all). */
function javaView(brokers: string[], topic: string, ...partitions: number[]): PartitionView[] {
  const out = execFileSync("java", ["-cp", join(libs, "*"), join(repoRoot, "test", "support", "java", "PartitionView.java"), brokers[0]!, topic, ...partitions.map(String)], { encoding: "utf8" });
  return JSON.parse(out) as PartitionView[];
}

describe("hanging transactions", () => {
  let kafka: KafkaServer;
  let client: Kafka;
  let admin: Admin;
  beforeAll(async () => {
    libs = await kafkaLibs();
    kafka = await startKafka({ brokerConfig: { "transaction.partition.verification.enable": false, "transaction.max.timeout.ms": 120_000 } });
    client = testKafka(kafka.brokers);
    admin = client.admin();
    await admin.connect();
  }, 180_000);
  afterAll(async () => {
    await admin?.disconnect();
    await kafka?.stop();
  });

  it("finds a transaction no coordinator knows, leaves a live one alone, and aborts only the first", async () => {
    const topic = uniqueName("hanging_topic");
    await ensureTopics(client, [{ topic, partitions: 2, replicationFactor: 1 }]);
    await hang(admin, topic, 0);
    // a transaction going on, its coordinator knowing it
    const live = client.producer({ transactionalId: uniqueName("live"), idempotent: true, maxInFlightRequests: 1 });
    await live.connect();
    const tx = await live.transaction();
    await tx.send({ topic, messages: [{ partition: 1, key: "k", value: "live" }] });
    try {
      const before = javaView(kafka.brokers, topic, 0, 1);
      expect(before).toMatchObject([{ hw: 1, lso: 0 }, { hw: 1, lso: 0 }]);
      expect(before.map((p) => p.open.length)).toEqual([1, 1]);

      const { hanging } = await findHanging(admin, [topic]);
      expect(hanging.map((t) => ({ partition: t.partition, startOffset: t.startOffset }))).toEqual([{ partition: 0, startOffset: 0n }]);

      expect(await abortHanging(admin, [topic], silentLog)).toBe("");
      // the abort marker follows the record: both offsets readable past it
      const after = javaView(kafka.brokers, topic, 0, 1);
      expect(after[0]).toEqual({ hw: 2, lso: 2, open: [] });
      expect(after[1]).toMatchObject({ lso: 0, open: before[1]!.open });
      await tx.commit();
      expect(javaView(kafka.brokers, topic, 1)).toEqual([{ hw: 2, lso: 2, open: [] }]);
    } finally {
      await live.disconnect();
    }
  });

  it("looks at topics created a moment ago (their leader not serving them yet) without failing", async () => {
    const topics = Array.from({ length: 5 }, (_, i) => uniqueName(`hanging_new${i}`));
    await ensureTopics(client, topics.map((topic) => ({ topic, partitions: 3, replicationFactor: 1 })));
    expect(await abortHanging(admin, topics, silentLog)).toBe("");
  });

  it("reads how long a transaction may last on the brokers, the age past which a transaction whose producer no coordinator lists hangs", async () => {
    const { brokers } = await admin.describeCluster();
    expect(await maxTransactionTimeout(admin, brokers[0]!.nodeId)).toBe(120_000);
  });

  it("reads a compacted topic to its end past a hanging transaction", async () => {
    const topic = uniqueName("hanging_log");
    const log = new CompactedTopicLog<string>({ kafka: client, topic, log: silentLog, replicationFactor: 1, decode: (b) => b.toString() });
    await log.start();
    try {
      await log.write("before", Buffer.from("1"));
      await hang(admin, topic, 0);
      await log.write("after", Buffer.from("2"));
      const t0 = Date.now();
      await log.readToEnd();
      console.log(`[hanging] readToEnd got past a hanging transaction in ${Date.now() - t0} ms`);
      expect(log.get("after")).toBe("2");
      expect(javaView(kafka.brokers, topic, 0)[0]!.open).toEqual([]);
    } finally {
      await log.stop();
    }
  });

  it("a source starting on a topic with a hanging transaction aborts it, so its readers go on", async () => {
    const name = uniqueName("hanging_gen");
    const topic = `${name}.events`;
    await ensureTopics(client, [{ topic, partitions: 1, replicationFactor: 1 }]);
    await hang(admin, topic, 0);
    const daemon = await startDaemon({
      connectors: [{ name, type: "generator", topic, ratePerSecond: 100 }],
      root: { kafka: { brokers: kafka.brokers, topics: { replicationFactor: 1 } } },
    });
    await waitFor(async () => ((await daemon.status(name))?.records ?? 0) > 10, { timeoutMs: 60_000, message: "records committed" }).catch(async (err: Error) => {
      await daemon.stop("SIGKILL");
      throw new Error(`${err.message}\nthe daemon's output:\n${daemon.output().slice(-6000)}`, { cause: err });
    });
    // stopped: its own last transaction ended, none may be left open
    expect((await daemon.stop("SIGTERM")).code, daemon.output().slice(-3000)).toBe(0);
    const [view] = javaView(kafka.brokers, topic, 0);
    expect(view).toEqual({ hw: view!.hw, lso: view!.hw, open: [] });
    expect(view!.hw).toBeGreaterThan(10);
    expect(daemon.output()).toContain(`open on ${topic}/0 since offset 0, which no transaction coordinator knows`);
  });
});
