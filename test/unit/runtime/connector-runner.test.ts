import { describe, expect, it } from "vitest";
import { pino } from "pino";
import { ConnectorRunner } from "../../../src/runtime/connector-runner.js";
import type { PipelineLauncher } from "../../../src/runtime/pipeline/services.js";
import type { ConnectorConfig } from "../../../src/runtime/config/load.js";
import { ConnectionError, DataError, FencedError } from "../../../src/runtime/errors.js";
import type { ConnectorState } from "../../../src/runtime/connector-state.js";

const log = pino({ level: "silent" });

function connector(name: string, retries: number | undefined = 3): ConnectorConfig {
  return {
    name,
    type: "fake",
    spec: { kind: "source" } as ConnectorConfig["spec"],
    config: {
      name,
      type: "fake",
      enabled: true,
      tasks: 1,
      errors: { tolerance: "none" },
      retry: { retries, initialDelayMs: 1, maxDelayMs: 5, restartFailed: { initialDelayMs: 20, maxDelayMs: 40 } },
      batch: { maxRecords: 10, maxBytes: 1024 },
    },
  };
}

function runner(name: string, launch: PipelineLauncher, retries?: number) {
  const states: ConnectorState[] = [];
  const failures: string[] = [];
  const r = new ConnectorRunner(connector(name, retries), launch, log, (s) => states.push(s), {
    onFailure: (err, retried) => failures.push(`${err.code}${retried ? " retried" : ""}`),
  });
  return { r, states, failures };
}

const untilStopped = (signal: AbortSignal) => new Promise<"stopped">((resolve) => signal.addEventListener("abort", () => resolve("stopped")));

describe("connector runner", () => {
  it("stays retrying from the first failure until it runs again, then clears the error", async () => {
    let attempts = 0;
    const { r, states, failures } = runner("flaky", async (_c, control) => {
      if (++attempts < 3) throw new ConnectionError("database went away");
      control.onOpened(null);
      return untilStopped(control.signal);
    });
    r.start();
    await expect.poll(() => r.state).toBe("running");
    const status = r.status();
    expect(status.restarts).toBe(2);
    // recovered: no current error, the fault kept as history
    expect(status.lastError).toBeNull();
    expect(status.retry).toBeNull();
    expect(status.lastRecovery).toMatchObject({ code: "CONNECTION_FAILED", attempts: 2 });
    expect(failures).toEqual(["CONNECTION_FAILED retried", "CONNECTION_FAILED retried"]);
    await r.stop();
    expect(states).toEqual(["starting", "retrying", "running", "stopped"]);
  });

  it("is retrying at a write's first failed attempt inside the pipeline, and running at its next commit", async () => {
    let fail!: () => void;
    let heal!: () => void;
    const { r, states } = runner("writes", async (_c, control) => {
      control.onOpened(null);
      await new Promise<void>((resolve) => (fail = resolve));
      control.onRetry(new ConnectionError("connection refused"), 1, 100);
      await new Promise<void>((resolve) => (heal = resolve));
      control.onCommitted({ at: 1 }, 5);
      return untilStopped(control.signal);
    });
    r.start();
    await expect.poll(() => r.state).toBe("running");
    fail();
    await expect.poll(() => r.state).toBe("retrying");
    expect(r.status().lastError).toMatchObject({ code: "CONNECTION_FAILED", category: "transient" });
    expect(r.status().retry).toMatchObject({ attempt: 1 });
    expect(r.retryingForMs()).toBeGreaterThanOrEqual(0);
    heal();
    await expect.poll(() => r.state).toBe("running");
    expect(r.status().lastError).toBeNull();
    expect(r.retryingForMs()).toBe(0);
    await r.stop();
    expect(states).toEqual(["starting", "running", "retrying", "running", "stopped"]);
  });

  it("has no give-up count by default: it retries for as long as the fault lasts", async () => {
    let attempts = 0;
    const { r } = runner(
      "patient",
      async (_c, control) => {
        if (++attempts < 40) throw new ConnectionError("still down");
        control.onOpened(null);
        return untilStopped(control.signal);
      },
      undefined,
    );
    r.start();
    await expect.poll(() => r.state, { timeout: 10_000 }).toBe("running");
    expect(attempts).toBe(40);
    await r.stop();
  });

  it("shows a pipeline waiting for its input as waiting, with no error and no restart, then running", async () => {
    let appear!: () => void;
    const { r, states } = runner("early", async (_c, control) => {
      control.onWaiting();
      await new Promise<void>((resolve) => (appear = resolve));
      control.onOpened(null);
      return untilStopped(control.signal);
    });
    r.start();
    await expect.poll(() => r.state).toBe("waiting");
    expect(r.status()).toMatchObject({ lastError: null, restarts: 0 });
    appear();
    await expect.poll(() => r.state).toBe("running");
    await r.stop();
    expect(states).toEqual(["starting", "waiting", "running", "stopped"]);
  });

  it("fails for good on a configuration error, saying so", async () => {
    let attempts = 0;
    const { r } = runner("fenced", async () => {
      attempts++;
      throw new FencedError("another instance took over");
    });
    r.start();
    await expect.poll(() => r.state).toBe("failed");
    expect(r.status().lastError).toMatchObject({ code: "FENCED", category: "configuration", retriable: false });
    expect(r.status().lastError!.message).toContain('connector "fenced": another instance took over');
    expect(r.status().retry).toMatchObject({ nextAttemptAt: null });
    await new Promise((res) => setTimeout(res, 100));
    expect(attempts).toBe(1);
  });

  it("fails for good on a data error", async () => {
    const { r } = runner("poisoned", async () => {
      throw new DataError("SINK_ROW_REFUSED", "row refused");
    });
    r.start();
    await expect.poll(() => r.state).toBe("failed");
    expect(r.status().lastError).toMatchObject({ code: "SINK_ROW_REFUSED", category: "data" });
  });

  it("restarts a connector failed on an unclassified error after the long backoff", async () => {
    let attempts = 0;
    const { r, states } = runner("odd", async (_c, control) => {
      if (++attempts === 1) throw new Error("something nobody classified");
      control.onOpened(null);
      return untilStopped(control.signal);
    });
    r.start();
    await expect.poll(() => r.state).toBe("running");
    expect(attempts).toBe(2);
    expect(r.status().lastRecovery).toMatchObject({ code: "INTERNAL" });
    await r.stop();
    expect(states).toEqual(["starting", "failed", "starting", "running", "stopped"]);
  });

  it("after the configured retries it is failed, then started again after the long backoff", async () => {
    let attempts = 0;
    const { r, states } = runner("down", async (_c, control) => {
      if (++attempts <= 4) throw new ConnectionError("still down");
      control.onOpened(null);
      return untilStopped(control.signal);
    });
    r.start();
    await expect.poll(() => r.state).toBe("running");
    expect(attempts).toBe(5);
    await r.stop();
    expect(states).toEqual(["starting", "retrying", "failed", "starting", "running", "stopped"]);
  });

  it("start() restarts a failed connector at once instead of waiting out its backoff", async () => {
    let attempts = 0;
    const c = connector("waits");
    c.config.retry.restartFailed = { initialDelayMs: 3_600_000, maxDelayMs: 3_600_000 };
    const r = new ConnectorRunner(c, async (_c, control) => {
      if (++attempts === 1) throw new Error("unclassified");
      control.onOpened(null);
      return untilStopped(control.signal);
    }, log, () => undefined);
    r.start();
    await expect.poll(() => r.state).toBe("failed");
    r.start();
    await expect.poll(() => r.state).toBe("running");
    await r.stop();
  });

  it("pauses and resumes: the pipeline waits at whenResumed", async () => {
    let passes = 0;
    const { r } = runner("pausable", async (_c, control) => {
      control.onOpened(null);
      while (!control.signal.aborted) {
        await control.whenResumed();
        passes++;
        await new Promise((res) => setTimeout(res, 5));
      }
      return "stopped";
    });
    r.start();
    await expect.poll(() => passes).toBeGreaterThan(2);
    r.pause();
    expect(r.state).toBe("paused");
    await new Promise((res) => setTimeout(res, 30));
    const frozen = passes;
    await new Promise((res) => setTimeout(res, 50));
    expect(passes).toBeLessThanOrEqual(frozen + 1);
    r.resume();
    await expect.poll(() => passes).toBeGreaterThan(frozen + 2);
    await r.stop();
    expect(r.state).toBe("stopped");
  });

  it("one failing connector does not disturb another", async () => {
    const bad = runner("bad", async () => {
      throw new FencedError("x");
    });
    const good = runner("good", async (_c, control) => {
      control.onOpened(null);
      return untilStopped(control.signal);
    });
    bad.r.start();
    good.r.start();
    await expect.poll(() => bad.r.state).toBe("failed");
    expect(good.r.state).toBe("running");
    await good.r.stop();
  });
});
