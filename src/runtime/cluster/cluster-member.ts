import { createHash } from "node:crypto";
import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { DelayedError, WaitingError, Worker as BullWorker } from "bullmq";
import type { Json, TaskRef } from "../connector.js";
import type { ConnectorConfig, LoadedConfig } from "../config/load.js";
import { ErrorCode, LiberatorError } from "../errors.js";
import type { Logger } from "../log.js";
import { offsetChangeSchema } from "../offsets/connector-offsets.js";
import { stableJson } from "../json.js";
import type { ConfigDiff } from "../reload.js";
import type { Worker } from "../worker.js";
import type { ClusterClient, ConnectorJob, ConnectorJobData } from "./cluster-client.js";
import type { ClusterConfig } from "./config.js";
import type { ControlRequest } from "./control-bus.js";
import { connectorJobId, QUEUE_NAME, taskOfJob } from "./keys.js";
import { connectorOfTask, SINGLE_TASK, taskKey, tasksOf } from "../tasks.js";
import { LeaseWatchdog, leaseTimeout } from "./lease-watchdog.js";
import type { MemberInfo } from "./membership.js";
import { shouldPass, surplus, type MemberLoad } from "./share.js";

/** Why this worker gave a connector up; also the `reason` label of liberator_cluster_releases_total. */
export type Release = "shutdown" | "rebalance" | "lease_lost" | "fenced" | "removed" | "finished" | "error";

const RELEASE_LOG: Record<Release, string> = {
  shutdown: "handing it to another worker: this one is shutting down",
  rebalance: "handing it to a worker that runs fewer connectors",
  lease_lost: "its lock was not renewed in time: another worker may run it now, this copy stops",
  fenced: "another copy took over (fenced): this copy stops",
  removed: "removed from the config",
  finished: "the source has nothing more",
  error: "an unexpected error; another worker (or this one) takes it again",
};

/** After this many passes in a row a worker keeps a connector, even if another looks less busy. */
const MAX_PASSES = 3;

interface Held {
  /** The task's key: the connector's name, or `<name>#<index>` for one of several tasks. */
  name: string;
  job: ConnectorJob;
  token: string;
  takenAt: number;
  release(reason: Release): void;
}

export const configHash = (c: ConnectorConfig) => createHash("sha256").update(`${c.type}\n${stableJson(c.config)}`).digest("hex").slice(0, 16);

/**
 * A worker's part in cluster mode: takes connectors from the BullMQ queue (each one a long-lived
 * job whose lock says who runs it), runs them through the Worker, and gives them up when it shuts
 * down (handed over at once), when it runs more than its share, or when it can no longer be sure
 * it holds them (lock renewal failed or overdue). The choices below come from FACTS-bullmq.md.
 */
export class ClusterMember {
  private readonly held = new Map<string, Held>();
  private readonly passes = new Map<string, number>();
  /** Connectors handed over for balance, and until when this worker leaves them to the others. */
  private readonly handedBack = new Map<string, number>();
  private readonly handedOver: { id: string; token: string }[] = [];
  /** Sinks handed over on shutdown that are still closing. */
  private readonly sinksClosing: Promise<void>[] = [];
  private readonly watchdog: LeaseWatchdog;
  private readonly startedAt = new Date().toISOString();
  private bull: BullWorker<ConnectorJobData, string> | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private quietUntil = 0;
  private closing = false;
  private joined = false;
  /** What connectors share is open: a connector handed over starts without waiting for it. */
  private prepared = false;
  private lastBullError = "";

  constructor(
    private readonly worker: Worker,
    private readonly client: ClusterClient,
    private readonly log: Logger,
  ) {
    this.watchdog = new LeaseWatchdog(leaseTimeout(this.config.lockDurationMs), (jobId, silentMs) => {
      const held = this.held.get(taskOfJob(jobId));
      if (held) void this.verifyLease(held, silentMs);
    });
    worker.onConnectorState((_name, state, error, key) => {
      const held = this.held.get(key);
      if (!held) return;
      if (state === "finished") held.release("finished");
      // a fenced copy is not a failed connector: the copy that fenced it runs on
      if (state === "failed" && error?.code === ErrorCode.FENCED) held.release("fenced");
    });
  }

  get id(): string {
    return this.worker.id;
  }

  private get config(): ClusterConfig {
    return this.client.config;
  }

  async start(): Promise<void> {
    await this.announce();
    await this.client.bus.start((request) => this.handle(request));
    await this.reconcile(this.worker.loaded, "all-unknown");
    void this.worker.prepareShared().then(() => (this.prepared = true));
    const bull = new BullWorker<ConnectorJobData, string>(QUEUE_NAME, (job, token, signal) => this.process(job, token, signal), {
      connection: this.client.connect("worker"),
      prefix: this.config.queuePrefix,
      name: this.id,
      concurrency: this.config.capacity,
      lockDuration: this.config.lockDurationMs,
      stalledInterval: this.config.stalledIntervalMs,
      // whichever worker runs the stall check applies its own limit: every worker must never fail a connector for stalling
      maxStalledCount: Number.MAX_SAFE_INTEGER,
      // a frozen or cut-off worker's pending BZPOPMIN can swallow the wake-up of a connector that
      // stalled back to the queue; the others then see it at their next poll, so poll every second
      drainDelay: 1,
    });
    bull.on("locksRenewed", ({ jobIds }) => this.watchdog.renewed(jobIds));
    bull.on("lockRenewalFailed", (jobIds) => {
      for (const id of jobIds) this.held.get(taskOfJob(id))?.release("lease_lost");
    });
    bull.on("completed", (job, result) => {
      if (result === "removed") void job.remove().catch((err: unknown) => this.log.warn({ err, connector: job.data.connector }, "could not remove the job of a removed connector"));
    });
    bull.on("failed", (job, err) => this.log.error({ err, connector: job?.data.connector }, "a connector's job failed; the next reconcile (start or reload of a worker) retries it"));
    bull.on("error", (err) => {
      // BullMQ repeats connection errors while Redis is away: one line per distinct error
      if (err.message === this.lastBullError) return;
      this.lastBullError = err.message;
      this.log.warn({ err }, "cluster worker: Redis error");
    });
    this.bull = bull;
    this.watchdog.start(Math.max(50, Math.round(this.config.lockDurationMs / 20)));
    const every = Math.max(100, Math.round(this.config.lockDurationMs / 3));
    this.heartbeat = setInterval(() => void this.beat(), every);
    this.joined = true;
    this.log.info({ worker: this.id, prefix: this.config.queuePrefix, capacity: this.config.capacity }, "joined the cluster");
  }

  /**
   * Joined, ready to take a connector at once, not leaving, and every connector it runs is up: a
   * rolling restart that stops the next worker only once this one is ready hands its connectors
   * to a worker that can start them without first opening the schema registry.
   */
  ready(): boolean {
    return this.joined && this.prepared && !this.closing && this.worker.ready();
  }

  /**
   * Hand-off on SIGTERM (FACTS-bullmq.md, "what worked"): leave the membership so the others count
   * one worker fewer; close the BullMQ worker, which stops fetching at once; stop every connector
   * (committing what is in flight); once the worker is closed, so that its own pending fetch
   * cannot take them back, put the jobs back in the queue with their lock tokens. Another worker
   * starts them within milliseconds, and no stall is counted.
   */
  async stop(): Promise<void> {
    const started = Date.now();
    this.closing = true;
    clearInterval(this.heartbeat);
    this.watchdog.stop();
    await this.client.membership.leave(this.id).catch((err: unknown) => this.log.warn({ err }, "could not leave the cluster's membership"));
    const closed = this.bull?.close();
    for (const held of this.held.values()) held.release("shutdown");
    await closed;
    const back = await Promise.all(this.handedOver.map(({ id, token }) => this.requeue(id, token)));
    this.log.info({ connectors: back.filter(Boolean).length, ms: Date.now() - started }, "left the cluster: connectors handed back");
    await Promise.all(this.sinksClosing);
    await this.client.close();
  }

  /**
   * A new config: removed connectors leave the cluster, changed ones running here restart with it,
   * added ones get a job that some worker takes. Every worker should be reloaded (or watch the
   * file): a worker restarts the changed connectors it runs itself.
   */
  async reload(next: LoadedConfig): Promise<ConfigDiff> {
    const diff = await this.worker.reload(next, { manage: false });
    await Promise.all(diff.changed.map((c) => this.restartHeld(c)));
    await this.reconcile(next, diff.removed);
    return diff;
  }

  /**
   * The tasks of a changed connector that run here start again with its new config, each as the
   * task of its index in the new count (a paused one stays paused); a task whose index the new
   * count no longer has is left to the reconcile, which removes its job. Tasks of the old count on
   * a worker not reloaded yet are fenced by the new count's tasks (source-generations.ts).
   */
  private async restartHeld(connector: ConnectorConfig): Promise<void> {
    const keys = [...this.held.keys()].filter((key) => connectorOfTask(key) === connector.name);
    if (keys.length === 0) return;
    const count = await this.worker.taskCount(connector).catch(() => this.worker.runner(keys[0]!)?.task.count ?? 1);
    await Promise.all(
      keys.map(async (key) => {
        const task = tasksOf(count).find((t) => taskKey(connector.name, t) === key);
        if (!task) return;
        const paused = this.worker.runner(key)?.isPaused ?? false;
        await this.worker.stopTask(key);
        this.worker.startConnector(connector, { paused, task });
      }),
    );
  }

  /**
   * Makes the queue match a config: a job for each task of each enabled connector (a failed or
   * finished one whose config changed runs again), and none for `remove` ("all-unknown": every
   * connector this config does not name, as when a worker starts) nor for tasks a connector no
   * longer has (its `tasks` changed, or `auto` counts other partitions now).
   */
  private async reconcile(config: LoadedConfig, remove: readonly string[] | "all-unknown"): Promise<void> {
    const enabled = config.connectors.filter((c) => c.config.enabled);
    const counts = await Promise.all(enabled.map((c) => this.worker.taskCount(c).catch((err: unknown) => {
      this.log.warn({ err, connector: c.name }, "cannot count the partitions of the sink's topics for tasks: auto; keeping its tasks as they are");
      return undefined;
    })));
    const jobs = (await this.client.queue.getJobs(["active", "waiting", "delayed", "prioritized", "failed", "completed"])).filter(Boolean);
    const present = new Map(jobs.map((j) => [taskOfJob(j.id!), j]));
    const wanted = new Map<string, { connector: ConnectorConfig; task: TaskRef }>();
    enabled.forEach((connector, i) => {
      const count = counts[i] ?? jobs.find((j) => j.data.connector === connector.name)?.data.task?.count ?? 1;
      for (const task of tasksOf(count)) wanted.set(taskKey(connector.name, task), { connector, task });
    });
    for (const [key, { connector, task }] of wanted) {
      const name = connector.name;
      const hash = configHash(connector);
      const job = present.get(key);
      if (!job) {
        const data: ConnectorJobData = task.count === 1 ? { connector: name, hash, by: this.id } : { connector: name, task, hash, by: this.id };
        await this.client.queue.add(name, data, { jobId: connectorJobId(key), removeOnComplete: false, removeOnFail: false });
        this.log.info({ connector: name, ...(task.count > 1 ? { task: task.index, tasks: task.count } : {}) }, "connector added to the cluster");
        continue;
      }
      const state = await job.getState();
      const changed = job.data.hash !== hash;
      // `<name>#<i>` of another count (the runner of the old one is restarted by its worker's reload, or fenced)
      const recounted = task.count > 1 && job.data.task?.count !== task.count;
      if (changed || recounted) await job.updateData({ ...job.data, hash, by: this.id, ...(task.count > 1 ? { task } : {}) });
      if (state === "failed" || (state === "completed" && changed)) {
        await job.retry(state);
        this.log.info({ connector: name, was: state }, "connector queued to run again");
      }
    }
    const removed = new Set(remove === "all-unknown" ? [] : remove);
    const unknown = [...present].filter(([key, job]) => removed.has(job.data.connector) || (!wanted.has(key) && (remove === "all-unknown" || enabled.some((c) => c.name === job.data.connector))));
    for (const [key] of unknown) await this.removeTask(key);
  }

  /** Stops a task wherever it runs and removes its job (its connector was removed, or has fewer tasks now). */
  private async removeTask(key: string): Promise<void> {
    const name = key;
    const held = this.held.get(name);
    if (held) return held.release("removed");
    const owner = await this.client.ownerOf(name);
    if (owner) {
      await this.client.bus.request(owner, "remove", { connector: connectorOfTask(name), task: name }).catch((err: unknown) => {
        this.log.warn({ err, connector: name, worker: owner }, "could not ask the worker running a removed connector to stop it; it will be removed at the next reconcile");
      });
      return;
    }
    const job = await this.client.job(name);
    // a job still locked by a worker that died cannot be removed before its lock expires
    await job?.remove().then(
      () => this.log.info({ connector: name }, "connector removed from the cluster: it is not in this worker's config"),
      (err: unknown) => this.log.warn({ err, connector: name }, "could not remove a connector's job yet; the next reconcile tries again"),
    );
  }

  /** BullMQ gives the processor an AbortSignal only when it declares three parameters (FACTS-bullmq.md). */
  private async process(job: ConnectorJob, token: string | undefined, signal: AbortSignal | undefined): Promise<string> {
    const task = job.data.task ?? SINGLE_TASK;
    // the task's key: held, owners, passes and hand-backs are per task
    const name = taskOfJob(job.id!);
    const connector = this.worker.connector(job.data.connector);
    if (!token) throw new Error("BullMQ gave a connector job without a lock token");
    if (this.closing) {
      // fetched just as the shutdown began: back to the queue with the others
      this.handedOver.push({ id: job.id!, token });
      throw new WaitingError();
    }
    if (!connector?.config.enabled) {
      this.log.warn({ connector: name, by: job.data.by }, "the cluster runs a connector this worker's config does not have; leaving it to the others (give every worker the same connectors.yaml)");
      return this.pass(job, token, this.config.lockDurationMs);
    }
    if (await this.shouldPass(name)) return this.pass(job, token, 100 + Math.round(Math.random() * 200));
    this.handedBack.delete(name);
    if (job.data.hash && job.data.hash !== configHash(connector)) {
      this.log.warn({ connector: name, by: job.data.by }, "this worker's config of the connector differs from the one the cluster was last given; give every worker the same connectors.yaml and reload them");
    }
    let release!: (reason: Release) => void;
    const released = new Promise<Release>((resolve) => (release = resolve));
    const held: Held = { name, job, token, takenAt: Date.now(), release };
    this.held.set(name, held);
    this.watchdog.track(job.id!);
    signal?.addEventListener("abort", () => release(this.closing ? "shutdown" : "lease_lost"), { once: true });
    let reason: Release;
    try {
      await this.client.redis.hset(this.client.keys.owners, name, this.id);
      void this.announce().catch(() => undefined);
      this.log.info({ connector: connector.name, ...(task.count > 1 ? { task: task.index } : {}), paused: job.data.paused === true, attempt: job.attemptsStarted }, "running the connector on this worker");
      this.worker.startConnector(connector, { paused: job.data.paused === true, task });
      reason = await released;
    } catch (err) {
      this.log.error({ err, connector: name }, "could not take the connector");
      reason = "error";
    }
    const stopped = this.worker.stopTask(name).then(() => {
      this.worker.metrics.releases.inc({ reason });
      this.log.info({ connector: name, reason }, `connector stopped on this worker: ${RELEASE_LOG[reason]}`);
    });
    // a sink abandons its write in flight, and the epoch the next copy claims fences whatever is
    // left of it: on shutdown its job goes back while it closes, and the next worker starts at once
    if (reason === "shutdown" && connector.spec.kind === "sink") this.sinksClosing.push(stopped);
    else await stopped;
    this.held.delete(name);
    this.watchdog.untrack(job.id!);
    void this.disown(name);
    void this.announce().catch(() => undefined);
    if (reason === "finished" || reason === "removed") return reason;
    if (reason === "shutdown") this.handedOver.push({ id: job.id!, token });
    // once BullMQ is done with the processor; the token check makes this a no-op if another worker holds it now
    else setTimeout(() => void this.requeue(job.id!, token), 0);
    throw new WaitingError();
  }

  /**
   * A lock unrenewed for too long: either Redis cannot be reached (or answers too late), or this
   * process did not run for a while (starved of CPU, frozen). One renewal of our own tells them
   * apart, if Redis answers while the lock may still be ours; otherwise the copy stops, before the
   * lock can lapse and another worker start the connector.
   */
  private async verifyLease(held: Held, silentMs: number): Promise<void> {
    const budget = this.config.lockDurationMs * 0.9 - silentMs;
    const renewed =
      budget > 0 &&
      (await Promise.race([
        held.job.extendLock(held.token, this.config.lockDurationMs).then((n) => n === 1, () => false),
        sleep(budget).then(() => false),
      ]));
    if (!this.held.has(held.name)) return;
    if (renewed) {
      this.watchdog.track(held.job.id!);
      this.log.info({ connector: held.name, silentMs }, "lock renewal was late, but the lock is still this worker's");
      return;
    }
    this.log.warn({ connector: held.name, silentMs }, "no lock renewal for too long (Redis unreachable, or this process was frozen)");
    held.release("lease_lost");
  }

  /** Leaves the job to other workers for `delayMs`; BullMQ then hands this worker another one. */
  private async pass(job: ConnectorJob, token: string, delayMs: number): Promise<never> {
    await job.moveToDelayed(Date.now() + delayMs, token);
    throw new DelayedError();
  }

  /**
   * Whether to leave a connector just fetched to the others: one of them with room runs fewer, or
   * this worker handed it over for balance a moment ago and another worker still has room for it.
   * Without that last condition the worker it went to could shut down and leave it with nobody
   * taking it until the moment passed (3 lock durations).
   */
  private async shouldPass(name: string): Promise<boolean> {
    const others = loads(await this.client.membership.live(), this.id);
    if ((this.handedBack.get(name) ?? 0) > Date.now() && others.some((m) => m.running < m.capacity)) return true;
    const me: MemberLoad = { id: this.id, running: this.held.size, capacity: this.config.capacity };
    if (!shouldPass(me, [me, ...others])) {
      this.passes.delete(name);
      return false;
    }
    const n = (this.passes.get(name) ?? 0) + 1;
    if (n > MAX_PASSES) {
      this.passes.delete(name);
      return false;
    }
    this.passes.set(name, n);
    return true;
  }

  private async requeue(id: string, token: string): Promise<boolean> {
    try {
      const job = await this.client.queue.getJob(id);
      await job?.moveToWait(token);
      return job !== undefined;
    } catch (err) {
      this.log.debug({ err, job: id }, "job not put back: another worker holds it already");
      return false;
    }
  }

  private async disown(name: string): Promise<void> {
    await this.client.redis.eval(DISOWN, 1, this.client.keys.owners, name, this.id).catch(() => undefined);
  }

  private async announce(): Promise<void> {
    // once leaving, a renewal would count this worker in again, and the others would pass it connectors
    if (this.closing) return;
    const info: MemberInfo = {
      id: this.id,
      host: hostname(),
      pid: process.pid,
      capacity: this.config.capacity,
      connectors: [...this.held.keys()],
      startedAt: this.startedAt,
    };
    await this.client.membership.renew(info);
  }

  private async beat(): Promise<void> {
    try {
      await this.announce();
      const members = await this.client.membership.live();
      this.worker.metrics.workers.set(members.length);
      await this.restoreLostQueue();
      if (this.config.rebalance && Date.now() >= this.quietUntil) await this.rebalance(members);
    } catch (err) {
      this.log.debug({ err }, "cluster heartbeat failed");
    }
  }

  /**
   * A Redis that restarted without its data (no persistence, a failover to an empty replica) has
   * no connector jobs left, and no worker would run anything until the next reconcile: do it now.
   */
  private async restoreLostQueue(): Promise<void> {
    if (!this.worker.loaded.connectors.some((c) => c.config.enabled)) return;
    const jobs = await this.client.queue.getJobCountByTypes("active", "waiting", "delayed", "prioritized", "completed", "failed");
    if (jobs > 0) return;
    this.log.warn("the cluster's queue holds no connector at all (did Redis lose its data?): adding them again");
    await this.reconcile(this.worker.loaded, []);
  }

  private async rebalance(members: MemberInfo[]): Promise<void> {
    const total = await this.client.queue.getJobCountByTypes("active", "waiting", "delayed", "prioritized");
    const me: MemberLoad = { id: this.id, running: this.held.size, capacity: this.config.capacity };
    const n = surplus(me, [me, ...loads(members, this.id)], total);
    if (n <= 0) return;
    // the newest first: they have done the least work here
    const newest = [...this.held.values()].sort((a, b) => b.takenAt - a.takenAt).slice(0, n);
    this.log.info({ connectors: newest.map((h) => h.name), workers: members.length, total }, "running more than a fair share: handing connectors over");
    // given to a worker with room: this one must not take them straight back (its own fetch is the nearest)
    const leaveUntil = Date.now() + 3 * this.config.lockDurationMs;
    for (const h of newest) {
      this.handedBack.set(h.name, leaveUntil);
      h.release("rebalance");
    }
    this.quietUntil = Date.now() + this.config.lockDurationMs;
  }

  /** Requests from other workers' admin APIs and from the CLI, for a connector that runs here. */
  private async handle(request: ControlRequest): Promise<Json> {
    const { connector: name, task, command, args, change, force } = request.args;
    if (request.op === "list") return (await this.worker.list()) as unknown as Json;
    if (typeof name !== "string") throw new LiberatorError(ErrorCode.COMMAND_UNAVAILABLE, `cluster request "${request.op}" names no connector`);
    // a request for one task of several names it; what it does (pause, offsets…) is for every task of the connector here
    const held = this.held.get(typeof task === "string" ? task : name);
    if (!held) throw new LiberatorError(ErrorCode.CONNECTOR_MOVED, `does not run on worker ${this.id}`, { connector: name });
    const w = this.worker;
    switch (request.op) {
      case "get":
        return (await w.get(name)) as unknown as Json;
      case "pause":
      case "resume":
      case "restart":
        return (await w[request.op](name)) as unknown as Json;
      case "command":
        return w.taskCommand(held.name, typeof command === "string" ? command : "", (args ?? {}) as Record<string, Json>);
      // one task held while its connector's offsets move: stopped (a source commits its batch in flight), then started again, paused if it was
      case "stopTask":
        await w.runner(held.name)?.stop();
        return true;
      case "startTask":
        w.runner(held.name)?.start();
        return true;
      case "offsets":
        return (await w.offsets(name)) as unknown as Json;
      case "setOffsets":
        return (await w.setOffsets(name, offsetChangeSchema.parse(change), force === true)) as unknown as Json;
      case "remove":
        held.release("removed");
        return true;
      default:
        throw new LiberatorError(ErrorCode.COMMAND_UNAVAILABLE, `unknown cluster request "${request.op}"`, { connector: name });
    }
  }
}

function loads(members: MemberInfo[], except: string): MemberLoad[] {
  return members.filter((m) => m.id !== except).map((m) => ({ id: m.id, running: m.connectors.length, capacity: m.capacity }));
}

/** Deletes the owner entry only if it still names this worker: another may have taken the connector since. */
const DISOWN = `if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end return 0`;
