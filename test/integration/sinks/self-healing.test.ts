/**
 * A sql sink whose database goes away while it writes: it is `retrying` at the first failed write
 * (status, /readyz, the error metric and one log line per attempt, each with its delay), and heals
 * by itself once the database is back, its stale error cleared and the time it spent retrying counted.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uniqueName, waitFor } from "../../harness/index.js";
import { logLines, startDaemon, type ConnectorStatusView, type Daemon } from "../../support/daemon.js";
import { startTcpProxy, type TcpProxy } from "../../support/tcp-proxy.js";
import { ChangeProducer, changeEvent, orderRow, ordersStream, targetDatabase, type TargetDatabase } from "./support.js";

/** A sample of a Prometheus text exposition: the value of the series with these labels. */
function sample(metrics: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of metrics.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return undefined;
}

describe("sql sink: self-healing through a database outage", () => {
  let producer: ChangeProducer;
  let db: TargetDatabase;
  let proxy: TcpProxy;
  let daemon: Daemon | undefined;

  beforeAll(async () => {
    producer = await ChangeProducer.open();
    db = await targetDatabase("postgres");
    proxy = await startTcpProxy(db.connection);
  });
  afterAll(async () => {
    if (daemon && daemon.child.exitCode === null) await daemon.stop("SIGKILL");
    await proxy?.close();
    await producer?.close();
    await db?.drop();
  });

  it("is retrying from the first failed write, unready, counted; then running again with no stale error", async () => {
    const name = uniqueName("heal");
    const topic = `${name}.shop.orders`;
    await producer.createTopics(topic);
    const stream = ordersStream(topic);
    const send = (from: number, n: number) => producer.send(Array.from({ length: n }, (_, i) => changeEvent(stream, "orders", "c", null, orderRow(from + i))));
    const count = async () => Number((await db.rows(`SELECT count(*) AS n FROM ${name}`).catch(() => [{ n: 0 }]))[0]!.n);
    await send(1, 100);
    const connector = { name, type: "sql", dialect: "postgres", connection: { ...db.connection, host: proxy.host, port: proxy.port }, topics: [topic], table: name };
    daemon = await startDaemon({ connectors: [connector] });
    await daemon.waitReady();
    await waitFor(async () => (await count()) === 100, { timeoutMs: 60_000, message: "the first 100 rows" });
    const d = daemon;
    const status = async () => (await d.status(name)) as ConnectorStatusView & { lastError: { category: string } | null; lastRecovery: { code: string } | null };
    const metrics = async () => (await fetch(`${d.adminUrl}/metrics`)).text();
    const errorsBefore = sample(await metrics(), "liberator_errors_total", { connector: name }) ?? 0;

    proxy.cut();
    await send(101, 100);
    await waitFor(async () => (await status()).state === "retrying", { timeoutMs: 20_000, intervalMs: 100, message: "the sink to be retrying" });
    const retrying = await status();
    expect(retrying.lastError).toMatchObject({ code: "CONNECTION_FAILED", category: "transient" });
    expect(retrying.retry).toMatchObject({ attempt: expect.any(Number) });
    // health.maxRetryingMs is 0 by default: unready from the first failure
    expect((await fetch(`${d.adminUrl}/readyz`)).status).toBe(503);
    const during = await metrics();
    expect(sample(during, "liberator_errors_total", { connector: name })).toBeGreaterThan(errorsBefore);
    expect(sample(during, "liberator_connector_state", { connector: name, state: "retrying" })).toBe(1);
    expect(sample(during, "liberator_connector_retrying_seconds_total", { connector: name })).toBeGreaterThanOrEqual(0);

    // long enough for attempts to follow one another
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    proxy.restore();
    await waitFor(async () => (await count()) === 200, { timeoutMs: 60_000, message: "all 200 rows after the outage" });
    await waitFor(async () => (await status()).state === "running", { timeoutMs: 30_000, message: "the sink to run again" });
    const healed = await status();
    expect(healed.lastError).toBeNull();
    expect(healed.lastRecovery).toMatchObject({ code: "CONNECTION_FAILED" });
    expect((await fetch(`${d.adminUrl}/readyz`)).status).toBe(200);
    const after = await metrics();
    expect(sample(after, "liberator_connector_retrying_seconds_total", { connector: name })).toBeGreaterThan(0);
    expect(sample(after, "liberator_connector_state", { connector: name, state: "running" })).toBe(1);

    // one log line per attempt, each naming its delay
    const attempts = logLines(d).filter((l) => l.connector === name && typeof l.msg === "string" && l.msg.startsWith("retrying in "));
    expect(attempts.length).toBeGreaterThan(1);
    for (const a of attempts) expect(a.delayMs).toEqual(expect.any(Number));
    expect(Number((await db.rows(`SELECT count(DISTINCT id) AS n FROM ${name}`))[0]!.n)).toBe(200);
    await daemon.stop();
  }, 240_000);
});
