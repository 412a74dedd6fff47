import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { ConnectorStatus, Sink, SinkBatch, SinkContext, TopicPartition, TopicPartitionOffset } from "../../runtime/connector.js";
import { ConnectionError, LiberatorError, toLiberatorError } from "../../runtime/errors.js";
import type { BullmqSinkConfig } from "./config.js";
import { jobOf, type JobSpec } from "./jobs.js";
import { RedisOffsets } from "./offsets.js";

/**
 * Kafka → BullMQ jobs, one per record, each job's id derived from the record (its event id, else
 * topic-partition-offset) so that a redelivered record is never a second job. See offsets.ts for
 * how the offsets and the epoch follow the jobs.
 */
export class BullmqSink implements Sink {
  private redis: Redis | undefined;
  private offsetsStore: RedisOffsets | undefined;
  private readonly queues = new Map<string, Queue>();
  private Queue: typeof Queue | undefined;
  private added = 0;

  constructor(
    private readonly config: BullmqSinkConfig,
    private readonly ctx: SinkContext,
  ) {}

  async open(): Promise<void> {
    // loaded here, not with the module: most workers run no BullMQ sink (runtime/cluster/load.ts)
    const [{ Redis }, { Queue }] = await Promise.all([import("ioredis"), import("bullmq")]);
    this.Queue = Queue;
    // a queue that only adds jobs fails fast while Redis is away (BullMQ's own advice): the
    // pipeline retries with backoff, and a stop is not held up by commands queued forever
    const redis = new Redis(this.config.redis, { maxRetriesPerRequest: 1, lazyConnect: true, connectionName: `liberator-${this.ctx.connector}` });
    redis.on("error", () => undefined); // reported by the command that fails
    this.redis = redis;
    try {
      await redis.connect();
      this.offsetsStore = new RedisOffsets(redis, this.config.offsetsKey, this.ctx.connector);
    } catch (err) {
      throw this.classify(err, "cannot open the BullMQ sink");
    }
  }

  async claim(partitions: readonly TopicPartition[]): Promise<TopicPartitionOffset[]> {
    try {
      return await this.store().claim(partitions);
    } catch (err) {
      throw this.classify(err, "cannot claim the sink's partitions");
    }
  }

  release(partitions: readonly TopicPartition[]): void {
    this.offsetsStore?.release(partitions);
  }

  async offsets(topics: readonly string[]): Promise<TopicPartitionOffset[]> {
    try {
      return await this.store().read(topics);
    } catch (err) {
      throw this.classify(err, "cannot read the sink's offsets");
    }
  }

  async write(batch: SinkBatch): Promise<void> {
    const store = this.store();
    const jobs = new Map<string, JobSpec[]>();
    for (const record of batch.records) {
      if (record.value === null && !this.config.tombstones) continue;
      const job = jobOf(record, this.config);
      const list = jobs.get(job.queue);
      if (list) list.push(job);
      else jobs.set(job.queue, [job]);
    }
    try {
      // a fenced instance adds nothing; one fenced after this check adds only ids the new one adds too
      await store.check(batch.offsets);
      for (const [name, list] of jobs) {
        await this.queue(name).addBulk(list.map((j) => ({ name: j.name, data: j.data, opts: { ...this.config.jobOptions, jobId: j.jobId } })));
        this.ctx.metrics.recordsIn(name, list.length);
      }
      await store.commit(batch.offsets);
    } catch (err) {
      throw this.classify(err, `adding ${batch.records.length} job(s)`);
    }
    this.added += batch.records.length;
  }

  async close(): Promise<void> {
    // cut, not QUIT (which waits for the commands sent): jobs added before the offsets moved are
    // added again under the same ids at the next start, so an abandoned write doubles nothing
    this.redis?.disconnect();
    this.redis = undefined;
    const queues = [...this.queues.values()];
    this.queues.clear();
    await Promise.all(queues.map((q) => q.close().catch(() => undefined)));
  }

  status(): ConnectorStatus {
    return { partitions: this.offsetsStore?.holding() ?? [], queues: [...this.queues.keys()], added: this.added };
  }

  private store(): RedisOffsets {
    if (!this.offsetsStore) throw new ConnectionError("the BullMQ sink is not open", { connector: this.ctx.connector });
    return this.offsetsStore;
  }

  private queue(name: string): Queue {
    let queue = this.queues.get(name);
    if (!queue) this.queues.set(name, (queue = new this.Queue!(name, { connection: this.redis!, prefix: this.config.prefix })));
    return queue;
  }

  private classify(err: unknown, what: string): LiberatorError {
    if (err instanceof LiberatorError) return err;
    const e = err as Error & { name?: string; code?: string };
    const message = `${what}: Redis at ${this.config.redis.replace(/\/\/[^@]*@/, "//")}: ${e.message}`;
    const opts = { connector: this.ctx.connector, cause: err };
    // ioredis: connection refused or lost, retries per request used up, the server out of memory
    if (/MaxRetriesPerRequest|Connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|LOADING|OOM/i.test(`${e.name ?? ""} ${e.code ?? ""} ${e.message}`)) {
      return new ConnectionError(message, { ...opts, fix: "check that Redis is up and reachable, and runs with maxmemory-policy noeviction" });
    }
    return toLiberatorError(new Error(message, { cause: err }), this.ctx.connector);
  }
}
