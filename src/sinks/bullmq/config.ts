import { z } from "zod";
import { bool, duration, int, stringList } from "../../runtime/config/fields.js";
import { connectorSchema } from "../../runtime/config/load.js";

/** BullMQ's removeOnComplete / removeOnFail: true, a number of jobs to keep, or { age (seconds), count }. */
const keep = () => z.union([bool(), int(0), z.strictObject({ age: int(0), count: int(0).optional() }), z.strictObject({ count: int(0) })]);

export const bullmqSinkConfig = connectorSchema({
  redis: z
    .string()
    .regex(/^rediss?:\/\/\S+$/, "must be a redis:// or rediss:// URL, e.g. redis://redis:6379/0")
    .describe("`redis://` or `rediss://` URL (a password goes in as `${file:…}`); Redis must run with `maxmemory-policy noeviction` (`liberator validate` warns otherwise)"),
  topics: stringList()
    .pipe(z.array(z.string().min(1)).min(1, "needs at least one topic"))
    .describe("the topics to read; an entry with `*` is a pattern, followed as topics appear"),
  queue: z.string().min(1).describe("the queue name, a pattern with `{topic}` and `{table}` (the envelope's `source.table`, else the topic's last segment)"),
  prefix: z
    .string()
    .regex(/^[^\s:]+$/, "must be non-empty, without spaces or ':'")
    .default("bull")
    .describe("BullMQ's key prefix; the application's workers must use the same"),
  jobName: z
    .string()
    .min(1)
    .default("{topic}")
    .describe("a pattern: `{topic}`, `{table}`, `{op}` (c, u, d, r, t; empty outside envelopes), `{type}` (the record's `type` header, an outbox event type)"),
  data: z
    .enum(["value", "record"])
    .default("value")
    .describe("the job's data: the record's value, or `record` (topic, partition, offset, timestamp, key, value, headers)"),
  tombstones: bool().default(false).describe("records with a null value become jobs too"),
  jobOptions: z
    .strictObject({
      attempts: int(1).optional(),
      backoff: z.strictObject({ type: z.enum(["fixed", "exponential"]), delay: duration() }).optional(),
      delay: duration().optional(),
      priority: int(0, 2_097_152).optional(),
      lifo: bool().optional(),
      /** Keep finished jobs long enough: a redelivered event is recognised only while its job is still stored. */
      removeOnComplete: keep().optional(),
      removeOnFail: keep().optional(),
    })
    .default({})
    .describe(
      "options of every job (BullMQ's JobsOptions): `attempts`, `backoff` (`{ type: fixed|exponential, delay }`), `delay`, `priority`, `lifo`, `removeOnComplete`, `removeOnFail` (`true`, a count, or `{ age (s), count }`)",
    ),
  offsetsKey: z
    .string()
    .regex(/^\S+$/, "must not contain spaces")
    .default("liberator:sink")
    .describe("the sink's offsets live in the hash `<offsetsKey>:{<connector>}:offsets`, its epoch in `<offsetsKey>:{<connector>}:epoch`"),
});

export type BullmqSinkConfig = z.infer<typeof bullmqSinkConfig>;
