import { setTimeout as sleep } from "node:timers/promises";
import type { Json } from "../connector.js";
import { answerPerTask, unknownConnector, type ConnectorControl, type ConnectorView } from "../control.js";
import { ERROR_CATALOGUE, ErrorCode, LiberatorError } from "../errors.js";
import type { OffsetChange, OffsetsView } from "../offsets/connector-offsets.js";
import { idleView, LIVE_STATES, type Worker } from "../worker.js";
import { connectorOfTask, taskKey } from "../tasks.js";
import type { ClusterClient } from "./cluster-client.js";
import { taskOfJob } from "./keys.js";

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

  /** One view per task: a connector that runs as several tasks shows each, with the worker that runs it. */
  async list(): Promise<ConnectorView[]> {
    const owners = await this.client.owners();
    const byWorker = new Map<string, string[]>();
    for (const [key, worker] of owners) byWorker.set(worker, [...(byWorker.get(worker) ?? []), key]);
    const views = new Map<string, ConnectorView>();
    await Promise.all(
      [...byWorker].map(async ([worker, keys]) => {
        const answer = worker === this.worker.id ? await this.worker.list() : await this.ask(worker, "list", {}).catch((err: unknown) => unreachable(err, worker, keys, this.worker));
        for (const view of answer as ConnectorView[]) {
          const key = taskKey(view.name, view.task);
          if (keys.includes(key)) views.set(key, view);
        }
      }),
    );
    const enabled = this.worker.loaded.connectors.filter((c) => c.config.enabled);
    const jobs = (await this.client.queue.getJobs(["active", "waiting", "delayed", "prioritized", "failed", "completed"])).filter(Boolean);
    for (const c of enabled) {
      const keys = jobs.filter((j) => j.data.connector === c.name).map((j) => taskOfJob(j.id!));
      for (const key of keys.length > 0 ? keys : [c.name]) if (!views.has(key)) views.set(key, await this.unowned(key));
    }
    return [...views.values()].sort((a, b) => a.name.localeCompare(b.name) || a.task.index - b.task.index);
  }

  get(name: string): Promise<ConnectorView> {
    return this.perTask(name, async (keys) => {
      if (keys.length === 1 && keys[0] === name) return this.route(name, "get", {}, () => this.worker.get(name), () => this.unowned(name));
      const tasks = (await this.list()).filter((v) => v.name === name);
      if (tasks.length === 0) return this.unowned(name);
      return { ...tasks[0]!, tasks };
    });
  }

  pause(name: string): Promise<ConnectorView> {
    return this.setPaused(name, true);
  }

  resume(name: string): Promise<ConnectorView> {
    return this.setPaused(name, false);
  }

  restart(name: string): Promise<ConnectorView> {
    return this.forEachTask(name, (key) =>
      this.route(key, "restart", {}, () => this.worker.restart(name), async () => {
        // a finished or failed connector's job runs again; a waiting one starts when a worker takes it
        const job = await this.client.job(key);
        const state = await job?.getState();
        if (job && (state === "completed" || state === "failed")) await job.retry(state);
        return this.unowned(key);
      }),
    );
  }

  /** To every task of the connector, wherever it runs: several answer as a list of `{task, result}`. */
  command(name: string, command: string, args: Record<string, Json>): Promise<Json> {
    return this.perTask(name, async (keys) => {
      const one = (key: string) =>
        this.route(key, "command", { command, args }, () => this.worker.taskCommand(key, command, args), async () => {
          this.require(name);
          const what = key === name ? "it" : `its task ${key}`;
          throw new LiberatorError(ErrorCode.COMMAND_UNAVAILABLE, `"${command}" needs the connector running, and no worker runs ${what} now`, { connector: name });
        });
      return answerPerTask(keys, (key) => key, one);
    });
  }

  offsets(name: string): Promise<OffsetsView> {
    return this.route(name, "offsets", {}, () => this.worker.offsets(name), () => this.worker.offsets(name));
  }

  setOffsets(name: string, change: OffsetChange, force: boolean): Promise<OffsetsView> {
    const local = () => this.worker.setOffsets(name, change, force);
    return this.perTask(name, (keys) => (keys.length === 1 && keys[0] === name ? this.route(name, "setOffsets", { change, force }, local, local) : this.setTaskOffsets(name, keys, change, force)));
  }

  /**
   * The offsets of a connector that runs as several tasks, maybe on several workers: moved only
   * when none of them reads (all paused, or forced), with every task stopped wherever it runs
   * (its batch in flight committed first), then each started again from them, paused if it was.
   * One stopped elsewhere whose worker cannot be reached keeps the change from being made.
   */
  private async setTaskOffsets(name: string, keys: string[], change: OffsetChange, force: boolean): Promise<OffsetsView> {
    this.require(name);
    const busy = (await this.list()).find((v) => v.name === name && v.worker !== null && v.state !== "unassigned" && v.state !== "paused" && LIVE_STATES.has(v.state));
    if (busy && !force) {
      throw new LiberatorError(ErrorCode.CONNECTOR_RUNNING, `task ${busy.task.index} of ${busy.task.count} is ${busy.state} on worker ${busy.worker}: moving its offsets now would fence it`, {
        connector: name,
        fix: "pause it first (a pause reaches every task on every worker), or force it (liberator offsets … --force, PUT …/offsets?force=true): every task is stopped, its offsets moved, and each starts again from them",
      });
    }
    const stopped: string[] = [];
    const hold = (key: string, op: "stopTask" | "startTask") =>
      this.route(key, op, {}, async () => {
        const runner = this.worker.runner(key);
        if (op === "stopTask") await runner?.stop();
        else runner?.start();
        return true;
      }, async () => false);
    try {
      for (const key of keys) if (await hold(key, "stopTask")) stopped.push(key);
      return await this.worker.setOffsets(name, change, true);
    } finally {
      for (const key of stopped) await hold(key, "startTask");
    }
  }

  /** Kept in each task's job, so whichever worker runs it next starts it paused or not. */
  private async setPaused(name: string, paused: boolean): Promise<ConnectorView> {
    this.require(name);
    const op = paused ? "pause" : "resume";
    return this.forEachTask(name, async (key) => {
      const job = await this.client.job(key);
      if (job) await job.updateData({ ...job.data, paused });
      return this.route(key, op, {}, () => this.worker[op](name), () => this.unowned(key));
    });
  }

  /** The task keys of a connector, from its jobs: its name alone when it runs as one task. */
  private async perTask<T>(name: string, fn: (keys: string[]) => Promise<T>): Promise<T> {
    const keys = (await this.client.jobsOf(name)).map((j) => taskOfJob(j.id!));
    return fn(keys.length > 0 ? keys.sort() : [name]);
  }

  /** `fn` for each task of the connector, one at a time; the connector's view after them. */
  private async forEachTask(name: string, fn: (key: string) => Promise<ConnectorView>): Promise<ConnectorView> {
    return this.perTask(name, async (keys) => {
      let view: ConnectorView | undefined;
      for (const key of keys) view = await fn(key);
      return keys.length === 1 ? view! : this.get(name);
    });
  }

  /** `key`: a task's (the connector's name when it runs as one task); the request names its connector and the task. */
  private async route<T>(key: string, op: string, args: Record<string, Json>, here: () => Promise<T>, nowhere: () => Promise<T>): Promise<T> {
    const name = connectorOfTask(key);
    for (let attempt = 0; ; attempt++) {
      const owner = await this.client.ownerOf(key);
      try {
        if (owner === undefined || (owner === this.worker.id && !this.worker.runner(key))) return await nowhere();
        if (owner === this.worker.id) return await here();
        return (await this.ask(owner, op, { connector: name, ...(key === name ? {} : { task: key }), ...args })) as T;
      } catch (err) {
        if (attempt < 2 && err instanceof LiberatorError && MOVED.has(err.code)) {
          await sleep(200);
          continue;
        }
        throw err;
      }
    }
  }

  /** Restarting, moving offsets, stopping a task and connector commands stop and start things: they get a grace period more. */
  private async ask(worker: string, op: string, args: Record<string, Json>): Promise<Json> {
    const slow = op === "restart" || op === "setOffsets" || op === "command" || op === "stopTask";
    const timeout = this.client.config.requestTimeoutMs + (slow ? this.worker.root.shutdown.gracePeriodMs : 0);
    return this.client.bus.request(worker, op, args, timeout);
  }

  /** The view of a task (by key) that no worker runs now. */
  private async unowned(key: string): Promise<ConnectorView> {
    const connector = this.require(connectorOfTask(key));
    const job = await this.client.job(key);
    const state = await job?.getState();
    const view = idleView(connector, state === "completed" ? "finished" : state === "failed" ? "failed" : "unassigned");
    if (job?.data.task) view.task = job.data.task;
    if (job?.data.paused) view.details = { paused: true };
    return view;
  }

  private require(name: string) {
    const connector = this.worker.connector(name);
    if (!connector) throw unknownConnector(name, this.worker.loaded.connectors.map((c) => c.name));
    return connector;
  }
}

/** What the list shows for the tasks (by key) of a worker that did not answer. */
function unreachable(err: unknown, worker: string, keys: string[], local: Worker): ConnectorView[] {
  const at = new Date().toISOString();
  return keys.flatMap((key) => {
    const connector = local.connector(connectorOfTask(key));
    if (!connector) return [];
    const view = idleView(connector, "unassigned");
    const index = /#(\d+)$/.exec(key)?.[1];
    if (index !== undefined) view.task = { index: Number(index), count: 0 };
    view.worker = worker;
    view.lastError = { code: ErrorCode.CLUSTER_TIMEOUT, category: ERROR_CATALOGUE.CLUSTER_TIMEOUT.category, message: `worker ${worker} runs it but did not answer: ${(err as Error).message}`, retriable: true, at };
    return [view];
  });
}
