import { Job, Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { TaskRef } from "../connector.js";
import type { Logger } from "../log.js";
import type { ClusterConfig } from "./config.js";
import { ControlBus } from "./control-bus.js";
import { clusterKeys, connectorJobId, QUEUE_NAME, type ClusterKeys } from "./keys.js";
import { Membership } from "./membership.js";
import { redisAddress, redisConnection } from "./redis.js";

/** What a connector's job carries. */
export interface ConnectorJobData {
  connector: string;
  /** Which of the connector's tasks the job runs; absent: its only one. */
  task?: TaskRef;
  /** Paused by an operator: whichever worker takes it starts it paused. */
  paused?: boolean;
  /** Hash of the connector's parsed config as the last worker to reconcile saw it, to spot drift. */
  hash?: string;
  /** That worker. */
  by?: string;
}

export type ConnectorJob = Job<ConnectorJobData, string>;

/**
 * The connections every cluster participant needs: a worker, and the CLI when it acts on a
 * cluster (`liberator offsets`). Nothing here takes connectors; ClusterMember does.
 */
export class ClusterClient {
  readonly keys: ClusterKeys;
  readonly redis: Redis;
  readonly queue: Queue<ConnectorJobData, string>;
  readonly membership: Membership;
  readonly bus: ControlBus;
  private readonly subscriber: Redis;
  private readonly queueRedis: Redis;

  constructor(
    readonly config: ClusterConfig,
    readonly clientId: string,
    private readonly log: Logger,
  ) {
    this.keys = clusterKeys(config.queuePrefix);
    this.redis = this.connect("commands");
    this.subscriber = this.connect("control");
    this.queueRedis = this.connect("queue");
    this.queue = new Queue<ConnectorJobData, string>(QUEUE_NAME, { connection: this.queueRedis, prefix: config.queuePrefix });
    this.queue.on("error", (err) => this.log.warn({ err }, "cluster queue: Redis error"));
    this.membership = new Membership(this.redis, this.keys, config.lockDurationMs);
    this.bus = new ControlBus(this.redis, this.subscriber, this.keys, clientId, config.requestTimeoutMs, log.child({ component: "control" }));
  }

  /** A connection named after this client, so `CLIENT LIST` shows who is who. */
  connect(purpose: string): Redis {
    const redis = redisConnection(this.config.redis, `liberator:${this.clientId}:${purpose}`);
    let down = false;
    redis.on("error", (err) => {
      if (down) return;
      down = true;
      this.log.warn({ err, redis: redisAddress(this.config.redis), purpose }, "lost the connection to Redis; reconnecting");
    });
    redis.on("ready", () => {
      if (down) this.log.info({ purpose }, "connected to Redis again");
      down = false;
    });
    return redis;
  }

  /** The job of a task, by its key (a connector's name when it runs as one task). */
  job(key: string): Promise<ConnectorJob | undefined> {
    return Job.fromId<ConnectorJobData, string>(this.queue, connectorJobId(key));
  }

  /** The jobs of every task of a connector. */
  async jobsOf(connector: string): Promise<ConnectorJob[]> {
    const jobs = await this.queue.getJobs(["active", "waiting", "delayed", "prioritized", "failed", "completed"]);
    return jobs.filter((j) => j?.data.connector === connector);
  }

  /** The live worker that runs the task, if any. */
  async ownerOf(key: string): Promise<string | undefined> {
    const [owner, live] = await Promise.all([this.redis.hget(this.keys.owners, key), this.liveIds()]);
    return owner !== null && live.has(owner) ? owner : undefined;
  }

  /** Every task (by key) with the live worker that runs it. */
  async owners(): Promise<Map<string, string>> {
    const [all, live] = await Promise.all([this.redis.hgetall(this.keys.owners), this.liveIds()]);
    return new Map(Object.entries(all).filter(([, worker]) => live.has(worker)));
  }

  async close(): Promise<void> {
    await this.bus.stop();
    await this.queue.close().catch(() => undefined);
    for (const r of [this.redis, this.subscriber, this.queueRedis]) r.disconnect();
  }

  private async liveIds(): Promise<Set<string>> {
    return new Set((await this.membership.live()).map((m) => m.id));
  }
}
