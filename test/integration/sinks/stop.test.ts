/**
 * Stopping a sql sink while it writes flat out: the batch in flight is committed or rolled back at
 * once, never waited out, and nothing is lost or written twice across the stop.
 */
import { describe, expect, it } from "vitest";
import { uniqueName, waitFor } from "../../harness/index.js";
import { logLines, type Daemon } from "../../support/daemon.js";
import { changeEvent, daemonRig, orderRow, ordersStream } from "./support.js";

/** Far above a prompt stop on a loaded machine, far below the 5 s a sink took when it waited out its batch. */
const STOP_BUDGET_MS = 2_000;

describe("sql sink: stopping under load", () => {
  const rig = daemonRig();
  let daemon: Daemon | undefined;

  it("stops within 2 s on restart and on SIGTERM while a backlog is written, exits 0, and ends with every record once", async () => {
    const name = uniqueName("stop");
    const topic = `${name}.shop.orders`;
    await rig.producer.createTopics(topic);
    const stream = ordersStream(topic);
    // a backlog the sink needs several seconds for: it is mid-batch whenever it is stopped
    const total = 120_000;
    for (let i = 0; i < total; i += 5_000) {
      await rig.producer.send(Array.from({ length: 5_000 }, (_, j) => changeEvent(stream, "orders", "c", null, orderRow(i + j + 1))));
    }
    const count = async () => Number((await rig.db.rows(`SELECT count(*) AS n FROM ${name}`).catch(() => [{ n: 0 }]))[0]!.n);
    const connector = { name, type: "sql", dialect: "postgres", connection: rig.db.connection, topics: [topic], table: name, batch: { maxRecords: 5_000 } };
    daemon = await rig.daemon({ connectors: [connector], root: { shutdown: { gracePeriodMs: 10_000 } } });
    await daemon.waitReady();

    const writing = async () => {
      const before = await count();
      await waitFor(async () => (await count()) > before, { timeoutMs: 60_000, intervalMs: 50, message: "the sink to write" });
    };
    await writing();
    const postedAt = Date.now();
    const res = await fetch(`${daemon.adminUrl}/connectors/${name}/restart`, { method: "POST" });
    expect(res.status, await res.text()).toBe(200);
    // the daemon's own clock: when the runner reported the old run stopped
    // (its log line reaches us through a pipe, maybe after the API's answer)
    const stopped = await waitFor(() => logLines(daemon!).find((l) => l.state === "stopped"), { timeoutMs: 10_000, message: "the stopped state in the log" });
    const stoppedAt = Date.parse(stopped.time);
    console.log(`restart under load: stopped ${stoppedAt - postedAt} ms after the request`);
    expect(stoppedAt - postedAt).toBeLessThan(STOP_BUDGET_MS);

    await writing();
    const written = await count();
    expect(written).toBeLessThan(total);
    const end = await daemon.stop("SIGTERM");
    const stoppedMs = Number(logLines(daemon).find((l) => l.msg === "stopped")?.ms);
    console.log(`SIGTERM under load (${written} of ${total} rows written): stopped in ${stoppedMs} ms, exit ${end.code} ${end.ms} ms after the signal`);
    expect(end.code, daemon.output()).toBe(0);
    expect(stoppedMs).toBeLessThan(STOP_BUDGET_MS);
    expect(end.ms).toBeLessThan(10_000); // the grace period

    daemon = await daemon.restart();
    await waitFor(async () => (await count()) === total, { timeoutMs: 120_000, message: `${total} rows` });
    expect(Number((await rig.db.rows(`SELECT count(DISTINCT id) AS n FROM ${name}`))[0]!.n)).toBe(total);
    await daemon.stop();
  }, 300_000);
});
