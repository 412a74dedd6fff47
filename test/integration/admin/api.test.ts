import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConnectorView } from "../../../src/runtime/control.js";
import { uniqueName, waitFor } from "../../harness/index.js";
import { startDaemon, type Daemon } from "../../support/daemon.js";

/** Whatever the admin API answers here: a connector's view, an offsets view or an error. */
type Answer = Partial<Omit<ConnectorView, "position">> & {
  position?: { seq: number } | null;
  kind?: string;
  error?: string;
  code?: string;
  fix?: string;
};

const TOKEN = "s3cret-token";

describe("admin API of one process", () => {
  let daemon: Daemon;
  let a: string;
  let b: string;
  const call = async (method: string, path: string, body?: unknown, token: string | null = TOKEN) => {
    const res = await fetch(`${daemon.adminUrl}${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json().catch(() => ({}))) as Answer };
  };
  const view = async (name: string) => (await call("GET", `/connectors/${name}`)).body;

  beforeAll(async () => {
    [a, b] = [uniqueName("apia"), uniqueName("apib")];
    daemon = await startDaemon({
      connectors: [a, b].map((name) => ({ name, type: "generator", topic: `${name}.events`, ratePerSecond: 200 })),
      root: { admin: { token: TOKEN } },
    });
    await daemon.waitReady();
  });
  afterAll(() => daemon?.stop("SIGTERM"));

  it("lists every connector with its state, worker, position, records, lag and last error", async () => {
    await waitFor(async () => (await view(a)).records! > 0, { message: "records" });
    const { status, body } = await call("GET", "/connectors");
    expect(status).toBe(200);
    const views = body as unknown as Answer[];
    expect(views.map((v) => v.name).sort()).toEqual([a, b].sort());
    expect(await view(a)).toMatchObject({
      name: a,
      type: "generator",
      kind: "source",
      state: "running",
      worker: expect.stringMatching(/-\d+$/),
      position: { seq: expect.any(Number) },
      lastError: null,
      lag: null,
      snapshot: null,
    });
  });

  it("answers 404 for a connector it does not have, naming those it has", async () => {
    const { status, body } = await call("GET", "/connectors/nope");
    expect(status).toBe(404);
    expect(body).toMatchObject({ code: "CONNECTOR_UNKNOWN" });
    expect(body.fix).toContain(a);
  });

  it("pauses, resumes and restarts a connector", async () => {
    expect((await call("POST", `/connectors/${a}/pause`)).body.state).toBe("paused");
    const held = (await view(a)).records;
    await new Promise((r) => setTimeout(r, 500));
    expect((await view(a)).records, "no record while paused").toBeLessThanOrEqual(held! + 200);
    const stillHeld = (await view(a)).records;
    await new Promise((r) => setTimeout(r, 300));
    expect((await view(a)).records).toBe(stillHeld);
    expect((await call("POST", `/connectors/${a}/resume`)).body.state).toBe("running");
    await waitFor(async () => (await view(a)).records! > stillHeld!, { message: "records after resume" });
    const restarted = await call("POST", `/connectors/${a}/restart`);
    expect(restarted.status).toBe(200);
    await waitFor(async () => (await view(a)).state === "running", { message: "running after restart" });
  });

  it("refuses a snapshot from a source that has no such command (409)", async () => {
    const { status, body } = await call("POST", `/connectors/${b}/snapshot`, { tables: ["x"] });
    expect(status).toBe(409);
    expect(body.code).toBe("COMMAND_UNAVAILABLE");
  });

  it("refuses to move a running source's offsets (409), and with force stops it, rewinds it and starts it again", async () => {
    await waitFor(async () => ((await view(b)).position?.seq ?? 0) > 100, { message: "100 records" });
    expect((await call("GET", `/connectors/${b}/offsets`)).body).toMatchObject({ connector: b, kind: "source", position: { seq: expect.any(Number) } });
    const refused = await call("PUT", `/connectors/${b}/offsets`, { position: { seq: 10 } });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: "CONNECTOR_RUNNING" });
    expect(refused.body.fix).toContain("force");
    const forced = await call("PUT", `/connectors/${b}/offsets?force=true`, { position: { seq: 10 } });
    expect(forced.status).toBe(200);
    expect(forced.body).toMatchObject({ kind: "source", position: { seq: 10 } });
    const after = await waitFor(async () => {
      const v = await view(b);
      return v.state === "running" && (v.position?.seq ?? 0) >= 10 ? v : undefined;
    }, { message: "running from the new position" });
    expect(after.position!.seq).toBeLessThan(100);
  });

  it("moves a paused source's offsets without force, and it stays paused", async () => {
    await call("POST", `/connectors/${a}/pause`);
    const moved = await call("PUT", `/connectors/${a}/offsets`, { reset: true });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ kind: "source", position: null });
    await waitFor(async () => (await view(a)).state === "paused", { message: "paused again after the move" });
    const held = (await view(a)).records;
    await new Promise((r) => setTimeout(r, 300));
    expect((await view(a)).records).toBe(held);
    await call("POST", `/connectors/${a}/resume`);
    await waitFor(async () => ((await view(a)).position?.seq ?? 0) > 0, { message: "running again from the start" });
  });

  it("says what a body that is not an offsets change lacks (400)", async () => {
    const { status, body } = await call("PUT", `/connectors/${a}/offsets?force=true`, { to: "yesterday" });
    expect(status).toBe(400);
    expect(body.code).toBe("OFFSETS_INVALID");
    expect(body.fix).toContain('"position"');
  });

  it("asks for the bearer token everywhere but the probes and /metrics", async () => {
    expect((await call("GET", "/connectors", undefined, null)).status).toBe(401);
    expect((await call("GET", "/connectors", undefined, "wrong")).status).toBe(401);
    expect((await fetch(`${daemon.adminUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${daemon.adminUrl}/metrics`)).status).toBe(200);
  });
});

describe("admin API without a token (the default)", () => {
  let daemon: Daemon;
  const name = uniqueName("open");
  beforeAll(async () => {
    // an admin block of our own: the helper's auth none would hide the default
    daemon = await startDaemon({ connectors: [{ name, type: "generator", topic: `${name}.events`, ratePerSecond: 50 }], root: { admin: {} } });
    await daemon.waitReady();
  });
  afterAll(() => daemon?.stop("SIGTERM"));

  it("refuses every request that changes something, saying how to set the token, and leaves reads and probes open", async () => {
    for (const [method, path, body] of [
      ["POST", `/connectors/${name}/pause`, undefined],
      ["POST", `/connectors/${name}/restart`, undefined],
      ["PUT", `/connectors/${name}/offsets`, { to: "earliest" }],
      ["PUT", `/config/${name}.events-value`, { compatibility: "NONE" }],
      ["PUT", "/config", { compatibility: "NONE" }],
    ] as const) {
      const res = await fetch(`${daemon.adminUrl}${path}`, { method, ...(body ? { headers: { "content-type": "application/json" }, body: JSON.stringify(body) } : {}) });
      expect(res.status, `${method} ${path}`).toBe(403);
      const answer = (await res.json()) as { message: string };
      expect(answer.message).toContain(`${method} ${path} changes the daemon, and the admin API has no token`);
      expect(answer.message).toContain("set admin.token");
      expect(answer.message).toContain("admin.auth: none");
    }
    expect((await daemon.status(name))?.state).toBe("running");
    for (const path of ["/connectors", `/connectors/${name}`, "/config", "/subjects", "/healthz", "/readyz", "/metrics"]) {
      expect((await fetch(`${daemon.adminUrl}${path}`)).status, path).toBe(200);
    }
  });
});
