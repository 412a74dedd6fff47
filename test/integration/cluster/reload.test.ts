import { readFileSync, writeFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { uniqueName, waitFor } from "../../harness/index.js";
import { startDaemon, type Daemon } from "../../support/daemon.js";
import { editConnectors, generator, logLines, spread, startCluster, waitRunning, type TestCluster } from "./support.js";

const starts = (daemon: Daemon, connector: string) => logLines(daemon).filter((l) => l.connector === connector && l.msg === "connector starting").length;

describe("config reload without downtime", () => {
  let daemon: Daemon | undefined;
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await daemon?.stop("SIGTERM");
    await cluster?.close();
    daemon = cluster = undefined;
  });

  it("SIGHUP starts a connector added to the file and leaves the others running, not restarted", async () => {
    const [a, b, added] = ["a", "b", "added"].map((n) => uniqueName(n));
    daemon = await startDaemon({ connectors: [generator(a!), generator(b!)] });
    const d = daemon;
    await d.waitReady();
    editConnectors(d, (list) => [...list, generator(added!)]);
    d.child.kill("SIGHUP");
    await waitFor(async () => (await d.status(added!))?.state === "running", { timeoutMs: 20_000, message: "the added connector running" });
    for (const name of [a!, b!]) {
      const status = (await d.status(name))!;
      expect(status.state).toBe("running");
      expect(starts(d, name), `${name} started once`).toBe(1);
      expect(status.restarts).toBe(0);
    }
    expect(logLines(d).find((l) => l.msg.startsWith("config reloaded"))).toMatchObject({ added: [added], removed: [], changed: [] });
  });

  it("SIGHUP restarts a changed connector with its new config, stops a removed one, and refuses a broken file", async () => {
    const [kept, changed, removed] = ["kept", "changed", "removed"].map((n) => uniqueName(n));
    daemon = await startDaemon({ connectors: [generator(kept!), generator(changed!), generator(removed!)] });
    const d = daemon;
    await d.waitReady();
    editConnectors(d, (list) => list.filter((c) => c.name !== removed).map((c) => (c.name === changed ? { ...c, ratePerSecond: 7 } : c)));
    d.child.kill("SIGHUP");
    await waitFor(async () => (await d.statuses()).length === 2 && starts(d, changed!) === 2 && (await d.status(changed!))?.state === "running", {
      timeoutMs: 20_000,
      message: "the changed connector restarted and the removed one gone",
    });
    expect(starts(d, kept!)).toBe(1);
    expect((await d.status(kept!))!.state).toBe("running");

    writeFileSync(d.configFile, `${readFileSync(d.configFile, "utf8")}\n  - name: broken\n    type: generatr\n`);
    d.child.kill("SIGHUP");
    const refused = await waitFor(() => logLines(d).find((l) => l.msg.startsWith("config not reloaded")), { timeoutMs: 10_000, message: "the broken file refused" });
    expect(JSON.stringify(refused.problems)).toContain('did you mean \\"generator\\"');
    expect((await d.statuses()).map((s) => `${s.name}:${s.state}`).sort()).toEqual([`${changed}:running`, `${kept}:running`].sort());
  });

  it("in cluster mode, a connector added to every worker's file and signalled runs on one of them, the others untouched", async () => {
    const [a, b, added] = ["ca", "cb", "cadded"].map((n) => uniqueName(n));
    cluster = await startCluster({ workers: 2, connectors: [generator(a!), generator(b!)] });
    const c = cluster;
    // settled: one each, so adding a third moves nothing
    await waitFor(async () => spread(await waitRunning(c.workers[0]!, [a!, b!])).size === 2, { timeoutMs: 20_000, message: "one connector on each worker" });
    const before = c.workers.map((w) => [starts(w, a!), starts(w, b!)]);
    for (const w of c.workers) {
      editConnectors(w, (list) => [...list, generator(added!)]);
      w.child.kill("SIGHUP");
    }
    const on = await waitRunning(c.workers[1]!, [a!, b!, added!]);
    expect(c.ids).toContain(on.get(added!));
    expect(c.workers.map((w) => [starts(w, a!), starts(w, b!)])).toEqual(before);
  });
});
