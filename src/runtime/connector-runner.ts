import { setTimeout as sleep } from "node:timers/promises";
import type { Json, Position } from "./connector.js";
import type { ConnectorConfig } from "./config/load.js";
import type { ConnectorState } from "./connector-state.js";
import { ErrorCode, LiberatorError, toLiberatorError } from "./errors.js";
import type { Logger } from "./log.js";
import { backoffDelay } from "./retry.js";
import type { LiveConnector, PipelineLauncher } from "./pipeline/services.js";

export interface ConnectorStatusReport {
  name: string;
  type: string;
  kind: "source" | "sink";
  state: ConnectorState;
  position: Position | null;
  committedAt: string | null;
  records: number;
  restarts: number;
  lastError: { code: string; message: string; retriable: boolean; at: string } | null;
  details: Record<string, Json>;
}

function pauseGate(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * Runs one connector: opens its pipeline, restarts it with backoff after retriable failures
 * (from its last committed position, so nothing is lost or doubled), and stops for good on a
 * non-retriable one. Failures stay inside: other connectors keep running.
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
  private runController: AbortController | undefined;
  private live: LiveConnector | undefined;

  constructor(
    readonly connector: ConnectorConfig,
    private readonly launch: PipelineLauncher,
    private readonly log: Logger,
    private readonly onState: (state: ConnectorState, error?: LiberatorError) => void,
    /** Start paused: a connector an operator paused keeps that state when it moves to another worker. */
    options: { paused?: boolean } = {},
  ) {
    if (options.paused) this.paused = pauseGate();
  }

  get name(): string {
    return this.connector.name;
  }

  get state(): ConnectorState {
    return this.stateValue;
  }

  start(): void {
    if (this.loop) return;
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
    if (this.loop) this.setState("running");
  }

  async restart(): Promise<void> {
    await this.stop();
    this.resume();
    this.start();
  }

  status(): ConnectorStatusReport {
    return {
      name: this.connector.name,
      type: this.connector.type,
      kind: this.connector.spec.kind,
      state: this.stateValue,
      position: this.position,
      committedAt: this.committedAt,
      records: this.records,
      restarts: this.restarts,
      lastError: this.lastError
        ? { code: this.lastError.code, message: this.lastError.describe(), retriable: this.lastError.retriable, at: this.lastErrorAt! }
        : null,
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
    if (state === this.stateValue && !error) return;
    this.stateValue = state;
    this.onState(state, error);
  }

  private async run(): Promise<void> {
    const policy = this.connector.config.retry;
    const stop = this.stopController.signal;
    let failures = 0;
    while (!stop.aborted) {
      this.setState("starting");
      const run = new AbortController();
      this.runController = run;
      let progressed = false;
      try {
        const end = await this.launch(this.connector, {
          signal: run.signal,
          paused: () => this.paused !== undefined,
          whenResumed: () => this.paused?.promise ?? Promise.resolve(),
          onOpened: (position, live) => {
            this.position = position;
            this.live = live;
            this.setState(this.paused ? "paused" : "running");
          },
          onWaiting: () => this.setState("waiting"),
          onCommitted: (position, records) => {
            this.position = position;
            this.committedAt = new Date().toISOString();
            this.records += records;
            progressed = true;
          },
        });
        this.live = undefined;
        this.setState(end === "finished" ? "finished" : "stopped");
        if (end === "finished") this.log.info({ records: this.records }, "connector finished: the source has nothing more");
        return;
      } catch (raw) {
        this.live = undefined;
        const err = toLiberatorError(raw, this.connector.name);
        this.lastError = err;
        this.lastErrorAt = new Date().toISOString();
        if (stop.aborted) {
          this.log.warn({ code: err.code, err: raw }, "connector failed while stopping");
          this.setState("stopped", err);
          return;
        }
        if (progressed) failures = 0;
        if (!err.retriable || failures >= policy.retries) {
          this.log.error({ code: err.code, err: raw }, `connector stopped: ${err.describe()}`);
          this.setState("failed", err);
          return;
        }
        const delay = backoffDelay(failures, { retries: policy.retries, initialDelayMs: policy.initialDelayMs, maxDelayMs: policy.maxDelayMs, factor: 2 });
        failures++;
        this.restarts++;
        this.log.warn({ code: err.code, attempt: failures, delayMs: delay, err: raw }, `connector failed, restarting from its last committed position: ${err.describe()}`);
        this.setState("retrying", err);
        await sleep(delay, undefined, { signal: stop }).catch(() => undefined);
      }
    }
    this.setState("stopped");
  }
}
