/**
 * The relay as the runtime drives it (open, read, ack, close), against the real databases: the
 * table as the cursor, rows in flight, the cleanup a crash left unfinished, bad rows, wake-ups.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SourceBatch } from "../../../src/runtime/connector.js";
import { OutboxRelay } from "../../../src/sources/outbox/relay.js";
import { testContext } from "../../acceptance/source-suite.js";
import { harness, pgClient, waitFor } from "../../harness/index.js";
import { orderPlaced, outboxFixture, type Kind, type OutboxFixture } from "./fixtures.js";

const ids = (batch: SourceBatch) => batch.records.map((r) => Number(r.headers!.id));
const seqs = (batch: SourceBatch) => batch.records.map((r) => (r.value as { seq: number }).seq);

function relay(fixture: OutboxFixture, overrides: Record<string, unknown> = {}, signal?: AbortSignal): OutboxRelay {
  return new OutboxRelay(fixture.config({ batch: { maxRecords: 5 }, ...overrides }), testContext(fixture.name, signal));
}

describe.each<Kind>(["postgres", "mariadb"])("the outbox relay on %s", (kind) => {
  let fixture: OutboxFixture;
  beforeAll(async () => {
    fixture = await outboxFixture(kind);
  });
  afterAll(() => fixture.cleanup());

  it("hands a row that committed late to the next batch, before later ids, and never a row of the batch in flight", async () => {
    const late = await fixture.app();
    await late.begin();
    const lateId = await late.write(orderPlaced(1, 0));
    const app = await fixture.app();
    const written: number[] = [];
    for (let seq = 1; seq <= 10; seq++) written.push(await app.write(orderPlaced(2, seq)));
    const source = relay(fixture);
    await source.open(null);

    const first = await source.read();
    expect(seqs(first)).toEqual([1, 2, 3, 4, 5]);
    await late.commit();
    // the runtime reads the next batch while it commits the first one, and acks only after the commit
    const second = source.read();
    await new Promise((r) => setTimeout(r, 100));
    await source.ack(first.position);
    const next = await second;
    expect(ids(next)).toEqual([lateId, ...written.slice(5, 9)]);
    await source.ack(next.position);
    const third = await source.read();
    expect(ids(third)).toEqual([written[9]]);
    await source.ack(third.position);
    expect(await fixture.pending()).toBe(0);
    await source.close();
    await Promise.all([late.close(), app.close()]);
  });

  it("keeps an aggregate's order when its event commits, between ids read ahead, while the batch before commits", async () => {
    const app = await fixture.app();
    const before: number[] = [];
    for (let seq = 1; seq <= 5; seq++) before.push(await app.write(orderPlaced(7, seq)));
    const x = await fixture.app();
    await x.begin();
    const first = await x.write(orderPlaced(8, 1));
    const other = await app.write(orderPlaced(9, 1));
    const source = relay(fixture);
    await source.open(null);
    const inFlight = await source.read();
    expect(ids(inFlight)).toEqual(before);
    const next = source.read(); // reads ahead: only the other order's event is visible yet
    await new Promise((r) => setTimeout(r, 200));
    await x.commit();
    const second = await app.write(orderPlaced(8, 2)); // order 8's next event, committed after its first
    await source.ack(inFlight.position);
    const batch = await next;
    expect(ids(batch)).toEqual([first, other, second]);
    await source.ack(batch.position);
    await source.close();
    await Promise.all([app.close(), x.close()]);
  });

  it("finishes the cleanup a crash left undone before reading, so a committed batch is not published twice", async () => {
    const app = await fixture.app();
    for (let seq = 1; seq <= 7; seq++) await app.write(orderPlaced(3, seq));
    await app.close();
    const crashed = relay(fixture);
    await crashed.open(null);
    const committed = await crashed.read();
    expect(seqs(committed)).toEqual([1, 2, 3, 4, 5]);
    // the batch is in Kafka (its position committed) but the process dies before its cleanup
    await crashed.close();
    expect(await fixture.pending()).toBe(7);

    const restarted = relay(fixture);
    await restarted.open(committed.position);
    expect(await fixture.pending()).toBe(2);
    const rest = await restarted.read();
    expect(seqs(rest)).toEqual([6, 7]);
    await restarted.ack(rest.position);
    await restarted.close();
  });

  it("with errors.tolerance none, publishes the events before a bad one and then stops at it, naming row, type and field", async () => {
    const app = await fixture.app();
    await app.write(orderPlaced(4, 1));
    await app.exec(
      `INSERT INTO outbox (aggregate_type, aggregate_id, type, payload) VALUES ('Order', '4', 'OrderPlaced', '{"orderId": 4, "seq": 2, "amount": "12.345"}')`,
    );
    const badId = Number((await app.rows("SELECT MAX(id) AS id FROM outbox"))[0]!.id);
    await app.write(orderPlaced(4, 3));
    await app.close();
    const source = relay(fixture);
    await source.open(null);
    const before = await source.read();
    expect(seqs(before)).toEqual([1]);
    await source.ack(before.position);
    await expect(source.read()).rejects.toMatchObject({
      code: "OUTBOX_PAYLOAD_INVALID",
      retriable: false,
      message: expect.stringMatching(new RegExp(`outbox row ${badId} \\(type "OrderPlaced", aggregate Order/4\\): field "amount": "12.345" is not a valid decimal with scale 2`)),
    });
    await source.close();
    expect(await fixture.pending()).toBe(2);
    const fix = await fixture.app();
    await fix.exec(`DELETE FROM outbox WHERE id = ${badId}`);
    await fix.close();
    const resumed = relay(fixture);
    await resumed.open(before.position);
    const after = await resumed.read();
    expect(seqs(after)).toEqual([3]);
    await resumed.ack(after.position);
    await resumed.close();
  });

  it("returns an empty batch with the last position while idle, and wakes for a new event", async () => {
    const source = relay(fixture, { pollIntervalMs: 300 });
    await source.open(null);
    const idle = await source.read();
    expect(idle.records).toEqual([]);
    const pending = source.read();
    const app = await fixture.app();
    await app.write(orderPlaced(5, 1));
    await app.close();
    const woken = await pending.then(async (b) => (b.records.length > 0 ? b : source.read()));
    expect(seqs(woken)).toEqual([1]);
    await source.ack(woken.position);
    await source.close();
  });
});

describe("the outbox relay on PostgreSQL, woken by NOTIFY", () => {
  let fixture: OutboxFixture;
  beforeAll(async () => {
    fixture = await outboxFixture("postgres");
  });
  afterAll(() => fixture.cleanup());

  it("keeps relaying when its LISTEN connection is killed, and listens again", async () => {
    const ac = new AbortController();
    // polls would take a minute: only NOTIFY (or the fallback while it is down) can be this quick
    const source = relay(fixture, { pollIntervalMs: 60_000 }, ac.signal);
    await source.open(null);
    expect(source.status()).toMatchObject({ wake: "notify" });
    const write = async (seq: number) => {
      const app = await fixture.app();
      await app.write(orderPlaced(6, seq));
      await app.close();
    };
    const next = async () => {
      for (;;) {
        const batch = await source.read();
        await source.ack(batch.position);
        if (batch.records.length > 0) return seqs(batch);
      }
    };
    const t0 = Date.now();
    setTimeout(() => void write(1), 200);
    expect(await next()).toEqual([1]);
    expect(Date.now() - t0).toBeLessThan(10_000);

    const admin = await pgClient(harness(), fixture.database);
    await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND datname = current_database()");
    await waitFor(() => source.status().wake === "poll", { message: "the relay to notice its LISTEN connection is gone" });
    await write(2);
    expect(await next()).toEqual([2]);
    await waitFor(() => source.status().wake === "notify", { timeoutMs: 15_000, message: "the relay to listen again" });
    await write(3);
    expect(await next()).toEqual([3]);
    await admin.end();
    ac.abort();
    await source.close();
  });
});
