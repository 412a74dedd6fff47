/**
 * A sql sink whose records Kafka no longer holds when it comes back (retention, or a deletion of
 * records, while it was down): it stops with the offsets lost and the command to write on, and
 * writes on from there once told.
 */
import { describe, expect, it } from "vitest";
import type { ChangeRecord } from "../../../src/runtime/connector.js";
import { uniqueName, waitFor } from "../../harness/index.js";
import { testKafka } from "../../support/kafka.js";
import { changeEvent, daemonRig, orderRow, ordersStream } from "./support.js";

describe("sql sink: records gone from Kafka", () => {
  const rig = daemonRig();
  const daemon = (connector: Record<string, unknown>) => rig.daemon({ connectors: [connector] });

  it("stops with the offsets to write on from when retention deleted records it had still to write, and writes on from there once told", async () => {
    const name = uniqueName("gone");
    const topic = `${name}.shop.events`;
    await rig.producer.createTopics(topic);
    const stream = ordersStream(topic);
    let next = 1;
    const events = (n: number): ChangeRecord[] => Array.from({ length: n }, () => changeEvent(stream, "events", "c", null, orderRow(next++)));
    const count = async () => Number((await rig.db.rows(`SELECT count(*) AS n FROM ${name}`).catch(() => [{ n: 0 }]))[0]!.n);
    const connector = { name, type: "sql", dialect: "postgres", connection: rig.db.connection, topics: [topic], table: name };

    const first = await daemon(connector);
    await first.waitReady();
    await rig.producer.send(events(20)); // offsets 0-19, its commit marker 20
    await waitFor(async () => (await count()) === 20, { timeoutMs: 30_000, message: "20 rows" });
    expect((await first.stop()).code).toBe(0);
    await rig.producer.send(events(30)); // offsets 21-50 (ids 21-50), its marker 51
    const admin = testKafka().admin();
    await admin.connect();
    try {
      // what retention does to a sink that was down too long: the log now begins at offset 45
      await admin.fetchTopicMetadata({ topics: [topic] }); // kafkajs deletes only on a topic whose metadata it holds
      await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: "45" }] });
    } finally {
      await admin.disconnect();
    }
    const second = await daemon(connector);
    await waitFor(async () => (await second.status(name))?.state === "failed", { timeoutMs: 30_000, message: "the sink to stop" });
    const error = (await second.status(name))!.lastError!;
    expect(error.code).toBe("SINK_RECORDS_GONE");
    expect(error.message).toContain(`partition ${topic}/0: the records from offset 20 to 44 are no longer in Kafka, which begins at 45 now`);
    expect(error.message).toContain(`liberator offsets set --connector ${name} --topic ${topic} --partition 0 --offset 45 --force`);
    expect(await count()).toBe(20);

    const set = await fetch(`${second.adminUrl}/connectors/${name}/offsets?force=true`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ offsets: [{ topic, partition: 0, offset: "45" }] }),
    });
    expect(set.status).toBeLessThan(300);
    await waitFor(async () => (await count()) === 26, { timeoutMs: 30_000, message: "the 6 records Kafka still holds" });
    expect((await rig.db.rows(`SELECT min(id) AS lo, max(id) AS hi FROM ${name} WHERE id > 20`))[0]).toEqual({ lo: "45", hi: "50" });
  });
});
