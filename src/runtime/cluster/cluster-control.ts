import { setTimeout as sleep } from "node:timers/promises";
import type { Json } from "../connector.js";
import { unknownConnector, type ConnectorControl, type ConnectorView } from "../control.js";
import { ERROR_CATALOGUE, ErrorCode, LiberatorError } from "../errors.js";
import type { OffsetChange, OffsetsView } from "../offsets/connector-offsets.js";
import { idleView, type Worker } from "../worker.js";
import type { ClusterClient } from "./cluster-client.js";

/** Answers that mean "ask again": the connector moved between the look-up and the request. */
const MOVED: ReadonlySet<ErrorCode> = new Set([ErrorCode.CONNECTOR_MOVED, ErrorCode.WORKER_GONE]);

/**
 * The connectors of the whole cluster, from any worker (or from the CLI): each operation goes to
 * the worker that runs the connector, through Redis, or is done here when the connector runs here.
 * A connector no worker runs is `unassigned`; what can be done without a worker (offsets, pause
 * for when one takes it) is done here.
 */
export class ClusterControl implements ConnectorControl {
  constructor(
    /** This process's worker: runs what it holds, and acts for connectors nobody runs. */
    private readonly worker: Worker,
    private readonly client: ClusterClient,
  ) {}

  async list(): Promise<ConnectorView[]> {
    const owners = await this.client.owners();
    const byWorker = new Map<string, string[]>();
    for (const [connector, worker] of owners) byWorker.set(worker, [...(byWorker.get(worker) ?? []), connector]);
    const views = new Map<string, ConnectorView>();
    await Promise.all(
      [...byWorker].map(async ([worker, connectors]) => {
        const answer = worker === this.worker.id ? await this.worker.list() : await this.ask(worker, "list", {}).catch((err: unknown) => unreachable(err, worker, connectors, this.worker));
        for (const view of answer as ConnectorView[]) if (connectors.includes(view.name)) views.set(view.name, view);
      }),
    );
    const unowned = this.worker.loaded.connectors.filter((c) => c.config.enabled && !views.has(c.name));
    for (const view of await Promise.all(unowned.map((c) => this.unowned(c.name)))) views.set(view.name, view);
    return [...views.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  get(name: string): Promise<ConnectorView> {
    return this.route(name, "get", {}, () => this.worker.get(name), () => this.unowned(name));
  }

  pause(name: string): Promise<ConnectorView> {
    return this.setPaused(name, true);
  }

  resume(name: string): Promise<ConnectorView> {
    return this.setPaused(name, false);
  }

  restart(name: string): Promise<ConnectorView> {
    return this.route(name, "restart", {}, () => this.worker.restart(name), async () => {
      // a finished or failed connector's job runs again; a waiting one starts when a worker takes it
      const job = await this.client.job(name);
      const state = await job?.getState();
      if (job && (state === "completed" || state === "failed")) await job.retry(state);
      return this.unowned(name);
    });
  }

  command(name: string, command: string, args: Record<string, Json>): Promise<Json> {
    return this.route(name, "command", { command, args }, () => this.worker.command(name, command, args), async () => {
      this.require(name);
      throw new LiberatorError(ErrorCode.COMMAND_UNAVAILABLE, `"${command}" needs the connector running, and no worker runs it now`, { connector: name });
    });
  }

  offsets(name: string): Promise<OffsetsView> {
    return this.route(name, "offsets", {}, () => this.worker.offsets(name), () => this.worker.offsets(name));
  }

  setOffsets(name: string, change: OffsetChange, force: boolean): Promise<OffsetsView> {
    const local = () => this.worker.setOffsets(name, change, force);
    return this.route(name, "setOffsets", { change, force }, local, local);
  }

  /** Kept in the connector's job, so whichever worker runs it next starts it paused or not. */
  private async setPaused(name: string, paused: boolean): Promise<ConnectorView> {
    this.require(name);
    const job = await this.client.job(name);
    if (job) await job.updateData({ ...job.data, paused });
    const op = paused ? "pause" : "resume";
    return this.route(name, op, {}, () => this.worker[op](name), () => this.unowned(name));
  }

  private async route<T>(name: string, op: string, args: Record<string, Json>, here: () => Promise<T>, nowhere: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const owner = await this.client.ownerOf(name);
      try {
        if (owner === undefined || (owner === this.worker.id && !this.worker.runner(name))) return await nowhere();
        if (owner === this.worker.id) return await here();
        return (await this.ask(owner, op, { connector: name, ...args })) as T;
      } catch (err) {
        if (attempt < 2 && err instanceof LiberatorError && MOVED.has(err.code)) {
          await sleep(200);
          continue;
        }
        throw err;
      }
    }
  }

  /** Restarting, moving offsets and connector commands stop and start things: they get a grace period more. */
  private async ask(worker: string, op: string, args: Record<string, Json>): Promise<Json> {
    const slow = op === "restart" || op === "setOffsets" || op === "command";
    const timeout = this.client.config.requestTimeoutMs + (slow ? this.worker.root.shutdown.gracePeriodMs : 0);
    return this.client.bus.request(worker, op, args, timeout);
  }

  private async unowned(name: string): Promise<ConnectorView> {
    const connector = this.require(name);
    const job = await this.client.job(name);
    const state = await job?.getState();
    const view = idleView(connector, state === "completed" ? "finished" : state === "failed" ? "failed" : "unassigned");
    if (job?.data.paused) view.details = { paused: true };
    return view;
  }

  private require(name: string) {
    const connector = this.worker.connector(name);
    if (!connector) throw unknownConnector(name, this.worker.loaded.connectors.map((c) => c.name));
    return connector;
  }
}

/** What the list shows for the connectors of a worker that did not answer. */
function unreachable(err: unknown, worker: string, connectors: string[], local: Worker): ConnectorView[] {
  const at = new Date().toISOString();
  return connectors.flatMap((name) => {
    const connector = local.connector(name);
    if (!connector) return [];
    const view = idleView(connector, "unassigned");
    view.worker = worker;
    view.lastError = { code: ErrorCode.CLUSTER_TIMEOUT, category: ERROR_CATALOGUE.CLUSTER_TIMEOUT.category, message: `worker ${worker} runs it but did not answer: ${(err as Error).message}`, retriable: true, at };
    return [view];
  });
}
