import type { Redis } from "ioredis";
import type { ClusterKeys } from "./keys.js";

/** Renews one member and forgets the lapsed ones, in one step so a lapsed worker renewing meanwhile is not dropped. */
const RENEW = `
local lapsed = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if #lapsed > 0 then
  redis.call('ZREM', KEYS[1], unpack(lapsed))
  redis.call('HDEL', KEYS[2], unpack(lapsed))
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
return #lapsed`;

/** What a worker says about itself to the others. */
export interface MemberInfo {
  id: string;
  host: string;
  pid: number;
  capacity: number;
  /** The connectors it runs now. */
  connectors: string[];
  startedAt: string;
}

/**
 * Who is in the cluster: each worker renews its entry (a score = when it lapses) and rewrites its
 * info whenever what it runs changes. A worker that dies lapses after `ttlMs`, about when its
 * connector locks expire, so the survivors count one worker fewer as they take its connectors.
 */
export class Membership {
  constructor(
    private readonly redis: Redis,
    private readonly keys: ClusterKeys,
    private readonly ttlMs: number,
  ) {}

  async renew(info: MemberInfo): Promise<void> {
    const now = Date.now();
    await this.redis.eval(RENEW, 2, this.keys.members, this.keys.memberInfo, now, now + this.ttlMs, info.id, JSON.stringify(info));
  }

  async leave(id: string): Promise<void> {
    await this.redis.multi().zrem(this.keys.members, id).hdel(this.keys.memberInfo, id).exec();
  }

  /** The workers whose membership has not lapsed. */
  async live(): Promise<MemberInfo[]> {
    const ids = await this.redis.zrangebyscore(this.keys.members, Date.now(), "+inf");
    if (ids.length === 0) return [];
    const infos = await this.redis.hmget(this.keys.memberInfo, ...ids);
    return infos.flatMap((raw) => (raw ? [JSON.parse(raw) as MemberInfo] : []));
  }
}
