import { setTimeout as sleep } from "node:timers/promises";
import type { Json, Position, TaskRef } from "./connector.js";
import type { ConnectorConfig } from "./config/load.js";
import type { ConnectorState } from "./connector-state.js";
import { ErrorCode, LiberatorError, toLiberatorError, type ErrorCategory } from "./errors.js";
import type { Logger } from "./log.js";
import { backoffDelay } from "./retry.js";
import { SINGLE_TASK, taskKey } from "./tasks.js";
import type { LiveConnector, PipelineLauncher } from "./pipeline/services.js";

export interface ConnectorStatusReport {
  name: string;
  type: string;
  kind: "source" | "sink";
  /** Which of the connector's tasks this is (task 0 of 1 for a connector that does not split). */
  task: TaskRef;
  state: ConnectorState;
  position: Position | null;
  committedAt: string | null;
  records: number;
  restarts: number;
  /**
   * The error the connector is in now: set while it is `retrying` or `failed`, cleared once it runs
   * again (it moves to `lastRecovery`). `category` says whether a person must act: `configuration`
   * and `data` failures are final, the others heal or are restarted by the worker.
   */
  lastError: { code: string; category: ErrorCategory; message: string; retriable: boolean; at: string } | null;
  /** While `retrying`: since when, the attempt, and when the next one starts. While `failed` and to be restarted: when. */
  retry: { since: string; attempt: number; nextAttemptAt: string | null } | null;
  /** The last fault it healed from, for history: what it was, when it began and when the connector ran again. */
  lastRecovery: { code: string; message: string; since: string; recoveredAt: string; attempts: number } | null;
  details: Record<string, Json>;
}

export interface ConnectorRunnerOptions {
  /** Start paused: a connector an operator paused keeps that state when it moves to another worker. */
  paused?: boolean;
  /** Every failure, at once (each attempt's too), for metrics; `retried` when another attempt follows. */
  onFailure?: (error: LiberatorError, retried: boolean) => void;
  /** The task it runs; task 0 of 1 by default. */
  task?: TaskRef;
}

/** Running this long without a failure makes the next fault start its backoff from the beginning. */
const STABLE_MS = 30_000;

function pauseGate(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * Runs one connector: opens its pipeline, and keeps it `retrying` with capped exponential backoff
 * and jitter from the first failed read or write of a transient fault until it runs again (from its
 * last committed position, so nothing is lost or doubled). A connector that failed on an error that
 * may pass is started again after a long backoff; only configuration and data errors are final.
 * Failures stay inside: other connectors keep running.
 */
export class ConnectorRunner {
  private stateValue: ConnectorState = "stopped";
  private stopController = new AbortController();
  private paused: { promise: Promise<void>; resolve: () => void } | undefined;
  private loop: Promise<void> | undefined;
  private position: Position | null = null;
  private committedAt: string | null = null;
  private records = 0;
  private restarts = 0;
  private lastError: LiberatorError | undefined;
  private lastErrorAt: string | null = null;
  /** Set from the first failure of a fault until the connector runs again. */
  private fault: { since: number; attempts: number; nextAttemptAt: number | null } | undefined;
  private lastRecovery: ConnectorStatusReport["lastRecovery"] = null;
  private runController: AbortController | undefined;
  /** Aborted to end the wait of a failed connector before its restart (an operator's start). */
  private failedWait: AbortController | undefined;
  private live: LiveConnector | undefined;
  private readonly onFailure: (error: LiberatorError, retried: boolean) => void;
  readonly task: TaskRef;

  constructor(
    readonly connector: ConnectorConfig,
    private readonly launch: PipelineLauncher,
    private readonly log: Logger,
    /** Called on every change of state, with the error that caused it. */
    private readonly onState: (state: ConnectorState, error?: LiberatorError) => void,
    options: ConnectorRunnerOptions = {},
  ) {
    if (options.paused) this.paused = pauseGate();
    this.onFailure = options.onFailure ?? (() => undefined);
    this.task = options.task ?? SINGLE_TASK;
  }

  get name(): string {
    return this.connector.name;
  }

  /** The task's key: the connector's name, or `<name>#<index>` when it runs as several tasks. */
  get key(): string {
    return taskKey(this.connector.name, this.task);
  }

  get state(): ConnectorState {
    return this.stateValue;
  }

  /** How long it has been retrying, in ms; 0 when it is not. */
  retryingForMs(now = Date.now()): number {
    return this.stateValue === "retrying" && this.fault ? now - this.fault.since : 0;
  }

  start(): void {
    if (this.loop) {
      // a failed connector waiting for its restart starts now
      this.failedWait?.abort();
      return;
    }
    // stop() opened the gate to let the pipeline leave; a paused connector starts paused again
    if (this.paused) this.paused = pauseGate();
    this.stopController = new AbortController();
    this.loop = this.run().finally(() => {
      this.loop = undefined;
    });
  }

  /** Stops reading and closes the connector: a source commits its batch in flight, a sink abandons it. */
  async stop(): Promise<void> {
    this.stopController.abort();
    this.runController?.abort();
    this.paused?.resolve();
    await this.loop;
  }

  pause(): void {
    if (this.paused || !this.loop) return;
    this.paused = pauseGate();
    this.setState("paused");
  }

  get isPaused(): boolean {
    return this.paused !== undefined;
  }

  resume(): void {
    const p = this.paused;
    if (!p) return;
    this.paused = undefined;
    p.resolve();
    if (this.loop && this.stateValue === "paused") this.setState("running");
  }

  async restart(): Promise<void> {
    await this.stop();
    this.resume();
    this.start();
  }

  status(): ConnectorStatusReport {
    const iso = (ms: number) => new Date(ms).toISOString();
    const current = this.stateValue === "retrying" || this.stateValue === "failed" || this.stateValue === "starting";
    return {
      name: this.connector.name,
      type: this.connector.type,
      kind: this.connector.spec.kind,
      task: this.task,
      state: this.stateValue,
      position: this.position,
      committedAt: this.committedAt,
      records: this.records,
      restarts: this.restarts,
      lastError:
        this.lastError && current
          ? {
              code: this.lastError.code,
              category: this.lastError.category,
              message: this.lastError.describe(),
              retriable: this.lastError.retriable,
              at: this.lastErrorAt!,
            }
          : null,
      retry: this.fault && current ? { since: iso(this.fault.since), attempt: this.fault.attempts, nextAttemptAt: this.fault.nextAttemptAt === null ? null : iso(this.fault.nextAttemptAt) } : null,
      lastRecovery: this.lastRecovery,
      details: this.live?.status?.() ?? {},
    };
  }

  /** An operator command for the running connector (e.g. `snapshot` of one table). */
  async command(name: string, args: Record<string, Json>): Promise<Json> {
    const live = this.live;
    if (!live?.command || this.stateValue !== "running") {
      throw new LiberatorError(ErrorCode.COMMAND_UNAVAILABLE, `"${name}" needs the connector running and a ${this.connector.type} connector that supports it (state: ${this.stateValue})`, {
        connector: this.connector.name,
      });
    }
    return live.command(name, args);
  }

  private setState(state: ConnectorState, error?: LiberatorError): void {
    if (state === this.stateValue) return;
    this.stateValue = state;
    this.onState(state, error);
  }

  /** A failure: the current error from now on, counted at once. */
  private failed(err: LiberatorError, retried: boolean): void {
    this.lastError = err;
    this.lastErrorAt = new Date().toISOString();
    this.fault ??= { since: Date.now(), attempts: 0, nextAttemptAt: null };
    this.fault.attempts++;
    this.onFailure(err, retried);
  }

  /** Reads or writes succeed again: the fault is over, and its error history. */
  private recovered(state: ConnectorState = this.paused ? "paused" : "running"): void {
    const fault = this.fault;
    this.fault = undefined;
    this.setState(state);
    if (!fault || !this.lastError) return;
    const seconds = (Date.now() - fault.since) / 1000;
    this.lastRecovery = { code: this.lastError.code, message: this.lastError.describe(), since: new Date(fault.since).toISOString(), recoveredAt: new Date().toISOString(), attempts: fault.attempts };
    this.log.info({ code: this.lastError.code, attempts: fault.attempts, seconds }, `connector recovered after ${seconds.toFixed(1)} s and ${fault.attempts} failed attempt(s): ${this.lastError.code}`);
    this.lastError = undefined;
    this.lastErrorAt = null;
  }

  /** A read or write that the pipeline tries again itself: `retrying` from this first failure on. */
  private retriedInside(raw: unknown, attempt: number, delayMs: number): void {
    const err = toLiberatorError(raw, this.connector.name);
    this.failed(err, true);
    this.fault!.nextAttemptAt = Date.now() + delayMs;
    this.log.warn({ code: err.code, attempt, delayMs, err: raw }, `retrying in ${delayMs} ms (attempt ${attempt}): ${err.describe()}`);
    this.setState("retrying", err);
  }

  private async run(): Promise<void> {
    const config = this.connector.config.retry;
    const policy = { retries: config.retries ?? Infinity, initialDelayMs: config.initialDelayMs, maxDelayMs: config.maxDelayMs, factor: 2 };
    const longPolicy = { retries: Infinity, ...config.restartFailed, factor: 2 };
    const stop = this.stopController.signal;
    /** Failed attempts in a row: they set the backoff. */
    let failures = 0;
    /** Restarts of this connector after it failed, in a row. */
    let failedRestarts = 0;
    this.setState("starting");
    while (!stop.aborted) {
      const run = new AbortController();
      this.runController = run;
      let stableSince: number | undefined;
      let progressed = false;
      try {
        const end = await this.launch(this.connector, {
          task: this.task,
          signal: run.signal,
          paused: () => this.paused !== undefined,
          whenResumed: () => this.paused?.promise ?? Promise.resolve(),
          onOpened: (position, live) => {
            this.position = position;
            this.live = live;
            stableSince = Date.now();
            this.recovered();
          },
          onWaiting: () => this.recovered("waiting"),
          onCommitted: (position, records) => {
            this.position = position;
            this.committedAt = new Date().toISOString();
            this.records += records;
            progressed = true;
            if (this.stateValue === "retrying") this.recovered();
          },
          onRetry: (raw, attempt, delayMs) => this.retriedInside(raw, attempt, delayMs),
        });
        this.live = undefined;
        this.setState(end === "finished" ? "finished" : "stopped");
        if (end === "finished") this.log.info({ records: this.records }, "connector finished: the source has nothing more");
        return;
      } catch (raw) {
        this.live = undefined;
        const err = toLiberatorError(raw, this.connector.name);
        if (stop.aborted) {
          this.log.warn({ code: err.code, err: raw }, "connector failed while stopping");
          this.setState("stopped", err);
          return;
        }
        if (progressed || (stableSince !== undefined && Date.now() - stableSince >= STABLE_MS)) {
          failures = 0;
          failedRestarts = 0;
        }
        if (err.retriable && failures < policy.retries) {
          const delay = backoffDelay(failures, policy);
          failures++;
          this.restarts++;
          this.failed(err, true);
          this.fault!.nextAttemptAt = Date.now() + delay;
          this.log.warn({ code: err.code, attempt: failures, delayMs: delay, err: raw }, `retrying in ${delay} ms (attempt ${failures}), from the last committed position: ${err.describe()}`);
          this.setState("retrying", err);
          await sleep(delay, undefined, { signal: stop }).catch(() => undefined);
          continue;
        }
        this.failed(err, false);
        this.fault!.nextAttemptAt = null;
        const final = err.category === "configuration" || err.category === "data";
        if (final) {
          this.log.error({ code: err.code, category: err.category, err: raw }, `connector failed (${err.category} error: a person must act): ${err.describe()}`);
          this.setState("failed", err);
          return;
        }
        // an unclassified error, or a transient one that outlasted `retries`: it may well pass
        const delay = backoffDelay(failedRestarts++, longPolicy);
        this.fault!.nextAttemptAt = Date.now() + delay;
        this.log.error({ code: err.code, category: err.category, delayMs: delay, err: raw }, `connector failed (${err.category} error); started again in ${Math.round(delay / 1000)} s: ${err.describe()}`);
        this.setState("failed", err);
        const wait = (this.failedWait = new AbortController());
        await sleep(delay, undefined, { signal: AbortSignal.any([stop, wait.signal]) }).catch(() => undefined);
        this.failedWait = undefined;
        failures = 0;
        this.restarts++;
        this.setState("starting");
      }
    }
    this.setState("stopped");
  }
}
