/**
 * The outbox through the real `liberator run`: events land in Kafka (read_committed) with their
 * key, headers, timestamp and Avro value; late commits, bad payloads and per-aggregate order.
 */
import { describe, expect, it } from "vitest";
import { harness, readTopic, waitFor } from "../../harness/index.js";
import { startDaemon } from "../../support/daemon.js";
import { decodeAvro, header, orderPlaced, outboxSuite, subjects, type Kind } from "./fixtures.js";

const brokers = () => harness().kafka.brokers;

describe.each<Kind>(["postgres", "mariadb"])("the outbox relay through liberator run, on %s", (kind) => {
  const suite = outboxSuite(kind);

  it("publishes an event whose transaction commits after a later event was published, exactly once", async () => {
    const { fixture } = suite;
    const late = await fixture.app();
    await late.begin();
    const lateId = await late.write(orderPlaced(1, 1, "1.50"));
    const lateCreatedAt = (await late.rows(`SELECT created_at AS at FROM outbox WHERE id = ${lateId}`))[0]!.at as Date;
    const app = await fixture.app();
    const earlyId = await app.write(orderPlaced(2, 1, "2.50"));
    expect(lateId).toBeLessThan(earlyId);

    const daemon = (suite.daemon = await startDaemon({ connectors: [fixture.raw({ errors: { tolerance: "all" } })] }));
    await daemon.waitReady();
    const topic = `${fixture.name}.Order`;
    const first = await readTopic(brokers(), topic, { expect: 1 });
    expect(first.map((r) => header(r.headers, "id"))).toEqual([String(earlyId)]);

    await late.commit();
    const records = await readTopic(brokers(), topic, { expect: 2 });
    expect(records.map((r) => header(r.headers, "id"))).toEqual([String(earlyId), String(lateId)]);
    await waitFor(async () => (await fixture.pending()) === 0, { message: "the outbox to be empty" });

    const [published] = records.slice(-1);
    expect(published!.key!.readInt32BE(1)).toBeGreaterThan(0);
    expect(await decodeAvro(daemon.adminUrl, published!.key)).toBe("1");
    expect(await decodeAvro(daemon.adminUrl, published!.value)).toEqual({ orderId: 1n, seq: 1, amount: "1.50", note: null });
    expect(header(published!.headers, "trace")).toBe("t-1-1");
    expect(header(published!.headers, "liberator.connector")).toBe(fixture.name);
    expect(Number(published!.timestamp)).toBe(lateCreatedAt.getTime());
    expect(await subjects(daemon.adminUrl)).toEqual(expect.arrayContaining([`${topic}-key`, `${topic}-shop.events.OrderPlaced`]));
    await Promise.all([late.close(), app.close()]);
  });

  it("sends an invalid payload and an unknown event type to the dead-letter topic with the reason, and publishes the events around them", async () => {
    const { fixture, daemon } = suite;
    const app = await fixture.app();
    await app.write(orderPlaced(3, 1));
    await app.exec(`INSERT INTO outbox (aggregate_type, aggregate_id, type, payload) VALUES ('Order', '3', 'OrderPlaced', '{"orderId": 3, "seq": 2, "amount": "ten"}')`);
    await app.write(orderPlaced(3, 3));
    await app.exec(`INSERT INTO outbox (aggregate_type, aggregate_id, type, payload) VALUES ('Order', '3', 'OrderLost', '{"orderId": 3}')`);
    await app.write(orderPlaced(3, 4));
    await app.close();

    const events = await readTopic(brokers(), `${fixture.name}.Order`, { expect: (rs) => rs.length >= 5 });
    const order3 = await Promise.all(events.slice(2).map((r) => decodeAvro(daemon!.adminUrl, r.value)));
    expect(order3.map((v) => (v as { seq: number }).seq)).toEqual([1, 3, 4]);

    const dead = await readTopic(brokers(), `_liberator_dlq.${fixture.name}`, { expect: 2 });
    expect(dead.map((r) => header(r.headers, "liberator.error.code"))).toEqual(["OUTBOX_PAYLOAD_INVALID", "OUTBOX_EVENT_TYPE_UNKNOWN"]);
    expect(header(dead[0]!.headers, "liberator.error.message")).toMatch(/outbox row \d+ \(type "OrderPlaced", aggregate Order\/3\): field "amount": "ten" is not a valid decimal/);
    expect(header(dead[1]!.headers, "liberator.error.message")).toMatch(/event type "OrderLost" has no schema.*add events\.OrderLost/);
    expect(header(dead[0]!.headers, "liberator.original.topic")).toBe(`${fixture.name}.Order`);
    expect(JSON.parse(dead[0]!.value!.toString())).toEqual({ orderId: 3, seq: 2, amount: "ten" });
    expect(dead[0]!.key!.toString()).toBe("3");
    await waitFor(async () => (await fixture.pending()) === 0, { message: "the outbox to be empty" });
  });
});

describe.each<Kind>(["postgres", "mariadb"])("order per aggregate on %s", (kind) => {
  const suite = outboxSuite(kind);

  it("delivers the events of one aggregate in the order their transactions committed", async () => {
    const { fixture } = suite;
    const setup = await fixture.app();
    await setup.exec("CREATE TABLE orders (id int PRIMARY KEY, version int NOT NULL)");
    await setup.exec("INSERT INTO orders VALUES (1, 0), (2, 0), (3, 0), (4, 0)");
    await setup.close();
    const daemon = (suite.daemon = await startDaemon({
      connectors: [fixture.raw({ batch: { maxRecords: 7 } })],
      root: { kafka: { brokers: brokers(), topics: { partitions: 3, replicationFactor: 1 } } },
    }));
    await daemon.waitReady();

    // six writers change four orders at once; each transaction locks its order first, as a state change does
    const writer = async (w: number) => {
      const app = await fixture.app();
      for (let i = 0; i < 25; i++) {
        const order = ((w + i) % 4) + 1;
        await app.begin();
        await app.exec(`UPDATE orders SET version = version + 1 WHERE id = ${order}`);
        const [{ version }] = (await app.rows(`SELECT version FROM orders WHERE id = ${order}`)) as [{ version: number }];
        await new Promise((r) => setTimeout(r, Math.random() * 3));
        await app.write(orderPlaced(order, version));
        await new Promise((r) => setTimeout(r, Math.random() * 3));
        await app.commit();
      }
      await app.close();
    };
    await Promise.all([0, 1, 2, 3, 4, 5].map(writer));

    const records = await readTopic(brokers(), `${fixture.name}.Order`, { expect: 150 });
    const byOrder = new Map<number, number[]>();
    for (const r of records) {
      const v = (await decodeAvro(daemon.adminUrl, r.value)) as { orderId: bigint; seq: number };
      byOrder.set(Number(v.orderId), [...(byOrder.get(Number(v.orderId)) ?? []), v.seq]);
    }
    for (const [, versions] of byOrder) expect(versions).toEqual(versions.map((_, i) => i + 1));
    expect([...byOrder.values()].flat()).toHaveLength(150);
  });
});
