import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import "../../../src/connectors.js";
import { offsetsCommand } from "../../../src/commands/offsets.js";
import type { ConnectorView } from "../../../src/runtime/control.js";
import { uniqueName, waitFor } from "../../harness/index.js";
import type { Daemon } from "../../support/daemon.js";
import { generator, runningOn, spread, startCluster, type TestCluster } from "../cluster/support.js";

describe("admin API and offsets tools in cluster mode", () => {
  let cluster: TestCluster;
  const names = [uniqueName("ca"), uniqueName("cb")];
  /** The worker that runs `connector`, and the other one, whose API the test uses. */
  let on: { owner: Daemon; ownerId: string; asked: Daemon; connector: string };
  const call = async (daemon: Daemon, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${daemon.adminUrl}${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Partial<ConnectorView> & { kind?: string } };
  };

  beforeAll(async () => {
    cluster = await startCluster({ workers: 2, connectors: names.map((n) => generator(n, 100)) });
    const where = await waitFor(async () => {
      const running = await runningOn(cluster.workers[0]!);
      return running.size === 2 && spread(running).size === 2 ? running : undefined;
    }, { timeoutMs: 30_000, message: "one connector on each worker" });
    const connector = names[0]!;
    const ownerId = where.get(connector)!;
    const owner = cluster.workers[cluster.ids.indexOf(ownerId)]!;
    on = { owner, ownerId, asked: cluster.workers.find((w) => w !== owner)!, connector };
  });
  afterAll(() => cluster?.close());

  it("any worker's API lists every connector with the worker that runs it", async () => {
    for (const w of cluster.workers) {
      const { body } = await call(w, "GET", "/connectors");
      const views = body as unknown as { name: string; worker: string; state: string }[];
      expect(views.map((v) => [v.name, v.state]).sort()).toEqual(names.map((n) => [n, "running"]).sort());
      expect(views.find((v) => v.name === on.connector)!.worker).toBe(on.ownerId);
    }
    // "running" comes when the source opens; its position, when the owner commits its first
    // transaction, which under load can be a second or more later
    await expect
      .poll(async () => (await call(on.asked, "GET", `/connectors/${on.connector}`)).body, { timeout: 10_000, message: "the connector's committed position, asked of the other worker" })
      .toMatchObject({ name: on.connector, worker: on.ownerId, position: { seq: expect.any(Number) } });
  });

  it("moves the offsets of a connector on another worker, refused without force", async () => {
    expect((await call(on.asked, "PUT", `/connectors/${on.connector}/offsets`, { position: { seq: 3 } })).status).toBe(409);
    const forced = await call(on.asked, "PUT", `/connectors/${on.connector}/offsets?force=true`, { position: { seq: 3 } });
    expect(forced.status, JSON.stringify(forced.body)).toBe(200);
    expect(forced.body).toMatchObject({ kind: "source", position: { seq: 3 } });
    await waitFor(async () => (await call(on.owner, "GET", `/connectors/${on.connector}`)).body.state === "running", { message: "running again on its worker" });
  });

  it("liberator offsets reaches the worker that runs the connector through Redis", async () => {
    let out = "";
    const write = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => ((out += String(chunk)), true));
    try {
      expect(await offsetsCommand("get", { config: on.asked.configFile, connector: on.connector })).toBe(0);
    } finally {
      write.mockRestore();
    }
    expect(JSON.parse(out)).toMatchObject({ connector: on.connector, kind: "source", position: { seq: expect.any(Number) } });
  });

  it("pauses a connector on another worker, and it stays paused when it moves to the other worker", async () => {
    expect((await call(on.asked, "POST", `/connectors/${on.connector}/pause`)).body).toMatchObject({ state: "paused", worker: on.ownerId });
    expect((await call(on.owner, "GET", `/connectors/${on.connector}`)).body.state).toBe("paused");
    // the worker running it leaves: the other takes it, paused
    await on.owner.stop("SIGTERM");
    const view = await waitFor(async () => {
      const v = (await call(on.asked, "GET", `/connectors/${on.connector}`)).body;
      return v.worker !== on.ownerId && v.state === "paused" ? v : undefined;
    }, { timeoutMs: 10_000, message: "paused on the other worker" });
    expect(view.worker).toBe(cluster.ids[cluster.workers.indexOf(on.asked)]);
    expect((await call(on.asked, "POST", `/connectors/${on.connector}/resume`)).body.state).toBe("running");
  });
});
