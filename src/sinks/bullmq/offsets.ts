/**
 * The BullMQ sink's offsets and fencing epochs, in the same Redis as its queues. Redis cannot put a
 * queue's jobs and a hash in one transaction with BullMQ's own scripts, so the jobs go first and
 * the offsets after them, through a script that writes them only while this task's epochs are
 * current. A crash between the two makes the jobs come again, with the same ids: BullMQ adds
 * nothing for an id it still stores.
 *
 * Epochs are per partition (a hash beside the offsets): a task claims the partitions it is given
 * with a new epoch from the connector's counter, which also fences an instance of the older kind
 * that compared that counter itself.
 */
import type { Redis } from "ioredis";
import type { TopicPartition, TopicPartitionOffset } from "../../runtime/connector.js";
import { FencedError } from "../../runtime/errors.js";

/** KEYS: epoch counter, epochs. ARGV: field names. A new epoch, set on each field. */
const CLAIM = `
local epoch = redis.call('INCR', KEYS[1])
for i = 1, #ARGV do redis.call('HSET', KEYS[2], ARGV[i], epoch) end
return epoch`;

/** KEYS: epochs, offsets. ARGV: field/epoch/offset triples (offset '' to check only). The first field whose epoch moved, or ''. */
const COMMIT = `
for i = 1, #ARGV, 3 do
  if redis.call('HGET', KEYS[1], ARGV[i]) ~= ARGV[i + 1] then return ARGV[i] end
end
for i = 1, #ARGV, 3 do
  if ARGV[i + 2] ~= '' then redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 2]) end
end
return ''`;

const field = (topic: string, partition: number) => `${topic}:${partition}`;

export class RedisOffsets {
  /** One hash slot for all keys (Redis Cluster), by the connector's name in braces. */
  private readonly epochKey: string;
  private readonly epochsKey: string;
  private readonly offsetsKey: string;
  /** The epoch this task claimed for each partition it holds. */
  private readonly held = new Map<string, string>();

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly connector: string,
  ) {
    this.epochKey = `${prefix}:{${connector}}:epoch`;
    this.epochsKey = `${prefix}:{${connector}}:epochs`;
    this.offsetsKey = `${prefix}:{${connector}}:offsets`;
  }

  /** A new epoch for these partitions: from here on whoever held them cannot store their offsets. */
  async claim(partitions: readonly TopicPartition[]): Promise<TopicPartitionOffset[]> {
    if (partitions.length === 0) return [];
    const fields = partitions.map((p) => field(p.topic, p.partition));
    const epoch = String(await this.redis.eval(CLAIM, 2, this.epochKey, this.epochsKey, ...fields));
    for (const f of fields) this.held.set(f, epoch);
    const offsets = await this.redis.hmget(this.offsetsKey, ...fields);
    return partitions.flatMap((p, i) => (offsets[i] == null ? [] : [{ topic: p.topic, partition: p.partition, offset: offsets[i] }]));
  }

  release(partitions: readonly TopicPartition[]): void {
    for (const p of partitions) this.held.delete(field(p.topic, p.partition));
  }

  holding(): string[] {
    return [...this.held.keys()];
  }

  async read(topics: readonly string[]): Promise<TopicPartitionOffset[]> {
    const all = await this.redis.hgetall(this.offsetsKey);
    return Object.entries(all).flatMap(([f, offset]) => {
      const at = f.lastIndexOf(":");
      const topic = f.slice(0, at);
      return topics.includes(topic) ? [{ topic, partition: Number(f.slice(at + 1)), offset }] : [];
    });
  }

  /** Throws FencedError when another task claimed one of these partitions since this one did. */
  async check(partitions: readonly TopicPartition[]): Promise<void> {
    await this.run(partitions.map((p) => ({ ...p, offset: "" })));
  }

  async commit(offsets: readonly TopicPartitionOffset[]): Promise<void> {
    await this.run(offsets);
  }

  private async run(offsets: readonly TopicPartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    const args: string[] = [];
    for (const o of offsets) {
      const f = field(o.topic, o.partition);
      const epoch = this.held.get(f);
      if (epoch === undefined) throw this.fenced(o, "this task does not hold it (any more)");
      args.push(f, epoch, o.offset);
    }
    const moved = String(await this.redis.eval(COMMIT, 2, this.epochsKey, this.offsetsKey, ...args));
    if (moved === "") return;
    const lost = offsets.find((o) => field(o.topic, o.partition) === moved)!;
    this.held.delete(moved);
    throw this.fenced(lost, `its epoch in Redis (${this.epochsKey}) moved: another task or instance claimed it`);
  }

  private fenced(p: TopicPartition, why: string): FencedError {
    return new FencedError(`partition ${p.topic}/${p.partition}: ${why}`, {
      connector: this.connector,
      partitions: [{ topic: p.topic, partition: p.partition }],
      fix: "only one task of a connector may write a partition; this one leaves it to the newer one",
    });
  }
}
