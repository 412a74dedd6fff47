/**
 * Exactly once under crashes: 10,000 events written by 8 concurrent application transactions
 * while `liberator run` is killed with SIGKILL at random moments, 10 times. A read_committed
 * consumer then sees each event exactly once, and the outbox is empty.
 */
import { describe, expect, it } from "vitest";
import { writeOutboxEvents } from "../../../src/outbox.js";
import { harness, mysqlConnection, pgClient, readTopic, waitFor } from "../../harness/index.js";
import { startDaemon } from "../../support/daemon.js";
import { header, ORDER_EVENT, outboxSuite, type Kind, type OutboxFixture } from "./fixtures.js";

const EVENTS = 10_000;
const WRITERS = 8;
const KILLS = 10;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each<Kind>(["postgres", "mariadb"])("exactly once on %s", (kind) => {
  const suite = outboxSuite(kind);

  it(`publishes each of ${EVENTS} events exactly once while the relay is killed ${KILLS} times`, async () => {
    const { fixture } = suite;
    let daemon = (suite.daemon = await startDaemon({ connectors: [fixture.raw({ batch: { maxRecords: 500 } })] }));
    let firstKill!: () => void;
    const killed = new Promise<void>((resolve) => (firstKill = resolve));
    // the writers finish their second half only after a kill: kills fall while the application writes
    const done = Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(fixture, kind, w, killed)));

    for (let k = 0; k < KILLS; k++) {
      // kill at any moment of its work: catching up, mid-transaction, between commit and cleanup
      await daemon.waitReady();
      await sleep(50 + Math.random() * 750);
      await daemon.kill();
      firstKill();
      daemon = suite.daemon = await daemon.restart();
    }
    await done;
    await daemon.waitReady();
    await waitFor(async () => (await fixture.pending()) === 0, { timeoutMs: 60_000, message: "the outbox to be empty" });

    const records = await readTopic(harness().kafka.brokers, `${fixture.name}.Order`, { expect: EVENTS, timeoutMs: 60_000 });
    const seen = new Map<string, number>();
    for (const r of records) seen.set(header(r.headers, "id")!, (seen.get(header(r.headers, "id")!) ?? 0) + 1);
    expect([...seen.values()].filter((n) => n > 1)).toEqual([]);
    expect(records).toHaveLength(EVENTS);
    expect(seen.size).toBe(EVENTS);
  }, 300_000);
});

/** One application connection writing its share in transactions of 1 to 20 events; the second half after `resume`. */
async function writer(fixture: OutboxFixture, kind: Kind, w: number, resume: Promise<void>): Promise<void> {
  const info = harness();
  const share = EVENTS / WRITERS;
  const client = kind === "postgres" ? await pgClient(info, fixture.database) : await mysqlConnection(info, fixture.database);
  const query = (sql: string) => (client as { query(sql: string): Promise<unknown> }).query(sql);
  try {
    for (let i = 0; i < share; ) {
      if (i >= share / 2) await resume;
      const n = Math.min(share - i, 1 + Math.floor(Math.random() * 20));
      const events = Array.from({ length: n }, (_, j) => {
        const seq = w * share + i + j;
        return { aggregateType: "Order", aggregateId: seq % 97, type: "OrderPlaced", payload: { orderId: seq % 97, seq, amount: "1.00" } };
      });
      await query("BEGIN");
      await writeOutboxEvents(client, events, { schemas: { OrderPlaced: ORDER_EVENT } });
      await query("COMMIT");
      i += n;
      // spread the writing over the kills
      await sleep(Math.random() * 300);
    }
  } finally {
    await client.end();
  }
}
