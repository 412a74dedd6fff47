import { describe, expect, it } from "vitest";
import { pino } from "pino";
import { ConnectorRunner } from "../../../src/runtime/connector-runner.js";
import type { PipelineLauncher } from "../../../src/runtime/pipeline/services.js";
import type { ConnectorConfig } from "../../../src/runtime/config/load.js";
import { ConnectionError, FencedError } from "../../../src/runtime/errors.js";
import type { ConnectorState } from "../../../src/runtime/connector-state.js";

const log = pino({ level: "silent" });

function connector(name: string): ConnectorConfig {
  return {
    name,
    type: "fake",
    spec: { kind: "source" } as ConnectorConfig["spec"],
    config: {
      name,
      type: "fake",
      enabled: true,
      errors: { tolerance: "none" },
      retry: { retries: 3, initialDelayMs: 1, maxDelayMs: 5 },
      batch: { maxRecords: 10, maxBytes: 1024 },
    },
  };
}

function runner(name: string, launch: PipelineLauncher) {
  const states: ConnectorState[] = [];
  const r = new ConnectorRunner(connector(name), launch, log, (s) => states.push(s));
  return { r, states };
}

const untilStopped = (signal: AbortSignal) => new Promise<"stopped">((resolve) => signal.addEventListener("abort", () => resolve("stopped")));

describe("connector runner", () => {
  it("restarts after retriable failures and runs on", async () => {
    let attempts = 0;
    const { r, states } = runner("flaky", async (_c, control) => {
      if (++attempts < 3) throw new ConnectionError("database went away");
      control.onOpened(null);
      return untilStopped(control.signal);
    });
    r.start();
    await expect.poll(() => r.state).toBe("running");
    expect(r.status().restarts).toBe(2);
    expect(r.status().lastError).toMatchObject({ code: "CONNECTION_FAILED", retriable: true });
    await r.stop();
    expect(states).toEqual(["starting", "retrying", "starting", "retrying", "starting", "running", "stopped"]);
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

  it("stops for good on a non-retriable error and keeps it for the status", async () => {
    const { r } = runner("fenced", async () => {
      throw new FencedError("another instance took over");
    });
    r.start();
    await expect.poll(() => r.state).toBe("failed");
    expect(r.status().lastError).toMatchObject({ code: "FENCED", retriable: false });
    expect(r.status().lastError!.message).toContain('connector "fenced": another instance took over');
  });

  it("gives up after the configured retries", async () => {
    let attempts = 0;
    const { r } = runner("down", async () => {
      attempts++;
      throw new ConnectionError("still down");
    });
    r.start();
    await expect.poll(() => r.state).toBe("failed");
    expect(attempts).toBe(4);
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
