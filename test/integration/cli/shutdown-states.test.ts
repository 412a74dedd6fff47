/**
 * SIGTERM exits 0 within the grace period whatever state the connectors are in: one running
 * under load, one retrying (its database unreachable), one failed (refused credentials), and, on
 * a daemon of its own, with the Kafka broker gone. What was committed before the signal stays
 * consistent: the source's committed position is exactly the last record consumers see.
 */
import { afterAll, describe, expect, it } from "vitest";
import { harness, readTopic, startKafka, uniqueName, waitFor, type KafkaServer } from "../../harness/index.js";
import { logLines, startDaemon, type Daemon } from "../../support/daemon.js";
import { committedPosition, generatorIds } from "../../support/kafka.js";
import { startTcpProxy } from "../../support/tcp-proxy.js";

const GRACE_MS = 5_000;


/** The generator's records in the topic are 1..committed.seq, each once. */
async function expectConsistent(connector: string, topic: string, brokers: string[]): Promise<void> {
  const committed = (await committedPosition<{ seq: number }>(connector, brokers))!;
  const ids = generatorIds(await readTopic(brokers, topic));
  expect(committed.seq).toBeGreaterThan(0);
  expect(ids).toEqual(Array.from({ length: committed.seq }, (_, i) => i + 1));
}

const stateOf = async (daemon: Daemon, name: string) => (await daemon.status(name).catch(() => undefined))?.state;

describe("liberator run: SIGTERM from every state", () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });

  it("exits 0 within the grace period with a connector running under load, one retrying and one failed", async () => {
    const name = uniqueName("sigterm");
    const pg = harness().postgres;
    const unreachable = await startTcpProxy(pg);
    cleanup.push(() => unreachable.close());
    unreachable.cut();
    const sink = (suffix: string, connection: Record<string, unknown>) => ({ name: `${name}_${suffix}`, type: "sql", dialect: "postgres", connection, topics: [`${name}.events`] });
    const daemon = await startDaemon({
      connectors: [
        { name: `${name}_gen`, type: "generator", topic: `${name}.events`, ratePerSecond: 5000 },
        sink("retrying", { host: unreachable.host, port: unreachable.port, user: pg.user, password: pg.password, database: pg.database, connectTimeoutMs: 1000 }),
        sink("failed", { host: pg.host, port: pg.port, user: "no_such_user", password: "x", database: pg.database }),
      ],
      root: { shutdown: { gracePeriodMs: GRACE_MS } },
    });
    cleanup.push(() => daemon.stop("SIGKILL"));
    await waitFor(async () => (await stateOf(daemon, `${name}_retrying`)) === "retrying", { timeoutMs: 60_000, message: "a connector retrying" });
    await waitFor(async () => (await stateOf(daemon, `${name}_failed`)) === "failed", { timeoutMs: 60_000, message: "a connector failed" });
    await waitFor(async () => ((await daemon.status(`${name}_gen`))?.records ?? 0) > 2000, { timeoutMs: 60_000, message: "the generator under load" });

    const end = await daemon.stop("SIGTERM");
    const stopped = logLines(daemon).find((l) => l.msg === "stopped");
    console.log(`[sigterm] running+retrying+failed: exit ${end.code} after ${end.ms} ms (stopped in ${String(stopped?.ms)} ms, clean ${String(stopped?.clean)})`);
    expect(end.code, daemon.output().slice(-3000)).toBe(0);
    expect(end.ms).toBeLessThan(GRACE_MS);
    await expectConsistent(`${name}_gen`, `${name}.events`, harness().kafka.brokers);
  }, 180_000);

  it("exits 0 within the grace period with the Kafka broker gone", async () => {
    const kafka: KafkaServer = await startKafka();
    cleanup.push(() => kafka.stop());
    const name = uniqueName("sigterm_nokafka");
    const config = {
      connectors: [{ name, type: "generator", topic: `${name}.events`, ratePerSecond: 2000 }],
      root: { kafka: { brokers: kafka.brokers, topics: { replicationFactor: 1 } }, shutdown: { gracePeriodMs: GRACE_MS } },
    };
    const daemon = await startDaemon(config);
    cleanup.push(() => daemon.stop("SIGKILL"));
    await daemon.waitReady();
    await waitFor(async () => ((await daemon.status(name))?.records ?? 0) > 1000, { timeoutMs: 60_000, message: "records committed" });

    await kafka.halt("SIGKILL");
    // the connector meets the broker's absence mid-transaction
    await new Promise((r) => setTimeout(r, 2_000));
    const end = await daemon.stop("SIGTERM");
    const stopped = logLines(daemon).find((l) => l.msg === "stopped");
    console.log(`[sigterm] broker gone: exit ${end.code} after ${end.ms} ms (stopped in ${String(stopped?.ms)} ms, clean ${String(stopped?.clean)})`);
    expect(end.code, daemon.output().slice(-3000)).toBe(0);
    expect(end.ms).toBeLessThan(GRACE_MS);

    await kafka.relaunch();
    // the transaction the broker's death left open holds back read_committed readers until the
    // next start of the connector aborts it; in some runs (1 of about 40 here, and the last CI
    // run) the restarted broker's coordinator knew nothing of it (a hanging transaction), which
    // only an abort marker ends: Liberator writes it (hanging-transactions.ts), and this start
    // goes on from what was committed, with no gap and nothing twice
    const next = await startDaemon(config);
    cleanup.push(() => next.stop("SIGKILL"));
    const restarted = Date.now();
    await waitFor(async () => ((await next.status(name))?.records ?? 0) > 500, { timeoutMs: 60_000, message: "records committed after the restart" }).catch(async (err: Error) => {
      const status = await next.status(name).catch((e: Error) => e.message);
      throw new Error(`${err.message}\nthe connector now: ${JSON.stringify(status)}\nthe daemon's output:\n${next.output().slice(-6000)}`, { cause: err });
    });
    const healed = next.output().includes("which no transaction coordinator knows") ? " (a hanging transaction aborted)" : "";
    console.log(`[sigterm] broker gone: after the broker's relaunch, 500 records committed ${Date.now() - restarted} ms after the daemon's start${healed}`);
    expect((await next.stop("SIGTERM")).code, next.output().slice(-3000)).toBe(0);
    await expectConsistent(name, `${name}.events`, kafka.brokers);
  }, 300_000);
});
