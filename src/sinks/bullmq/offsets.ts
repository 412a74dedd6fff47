/**
 * The BullMQ sink's offsets and fencing epoch, in the same Redis as its queues. Redis cannot put a
 * queue's jobs and a hash in one transaction with BullMQ's own scripts, so the jobs go first and
 * the offsets after them, through a script that writes them only while this instance's epoch is
 * current. A crash between the two makes the jobs come again, with the same ids: BullMQ adds
 * nothing for an id it still stores.
 */
import type { Redis } from "ioredis";
import type { TopicPartitionOffset } from "../../runtime/connector.js";
import { FencedError } from "../../runtime/errors.js";

/** KEYS: epoch, offsets. ARGV: the epoch, then field/offset pairs. 0 when another instance owns the connector. */
const COMMIT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
return 1`;

const field = (topic: string, partition: number) => `${topic}:${partition}`;

export class RedisOffsets {
  /** One hash slot for both keys (Redis Cluster), by the connector's name in braces. */
  private readonly epochKey: string;
  private readonly offsetsKey: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly connector: string,
  ) {
    this.epochKey = `${prefix}:{${connector}}:epoch`;
    this.offsetsKey = `${prefix}:{${connector}}:offsets`;
  }

  /** A new epoch: from here on older instances cannot store offsets. */
  async claim(): Promise<bigint> {
    return BigInt(await this.redis.incr(this.epochKey));
  }

  async read(topics: readonly string[]): Promise<TopicPartitionOffset[]> {
    const all = await this.redis.hgetall(this.offsetsKey);
    return Object.entries(all).flatMap(([f, offset]) => {
      const at = f.lastIndexOf(":");
      const topic = f.slice(0, at);
      return topics.includes(topic) ? [{ topic, partition: Number(f.slice(at + 1)), offset }] : [];
    });
  }

  /** Throws FencedError when another instance took over since `epoch` was claimed. */
  async check(epoch: bigint): Promise<void> {
    const current = await this.redis.get(this.epochKey);
    if (current !== epoch.toString()) throw this.fenced(epoch, current);
  }

  async commit(epoch: bigint, offsets: readonly TopicPartitionOffset[]): Promise<void> {
    const pairs = offsets.flatMap((o) => [field(o.topic, o.partition), o.offset]);
    const stored = await this.redis.eval(COMMIT, 2, this.epochKey, this.offsetsKey, epoch.toString(), ...pairs);
    if (stored !== 1) throw this.fenced(epoch, await this.redis.get(this.epochKey));
  }

  private fenced(epoch: bigint, current: string | null): FencedError {
    return new FencedError(`the sink's epoch in Redis (${this.epochKey}) is ${current ?? "gone"}, this instance holds ${epoch}: another instance of the connector took over`, {
      connector: this.connector,
      fix: "only one instance of a connector may run; this one stops and leaves the queue to the newer one",
    });
  }
}
