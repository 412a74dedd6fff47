import { z } from "zod";
import { bool, duration, int, stringList } from "../../runtime/config/fields.js";
import { connectorSchema } from "../../runtime/config/load.js";

/** BullMQ's removeOnComplete / removeOnFail: true, a number of jobs to keep, or { age (seconds), count }. */
const keep = () => z.union([bool(), int(0), z.strictObject({ age: int(0), count: int(0).optional() }), z.strictObject({ count: int(0) })]);

export const bullmqSinkConfig = connectorSchema({
  /** redis:// or rediss:// URL; a password goes in as ${file:…}. Redis must run with maxmemory-policy noeviction. */
  redis: z.string().regex(/^rediss?:\/\/\S+$/, "must be a redis:// or rediss:// URL, e.g. redis://redis:6379/0"),
  /** The topics the sink reads; an entry with `*` is a pattern (runtime/kafka/topics.ts), followed as topics appear. */
  topics: stringList().pipe(z.array(z.string().min(1)).min(1, "needs at least one topic")),
  /** The queue each record's job goes to, a pattern: {topic} and {table} (the envelope's source.table, else the topic's last segment). */
  queue: z.string().min(1),
  /** BullMQ's key prefix: the queue's `prefix` option, which the application's workers must share. */
  prefix: z.string().regex(/^[^\s:]+$/, "must be non-empty, without spaces or ':'").default("bull"),
  /** The job name, a pattern: {topic}, {table}, {op} (c, u, d, r, t; empty outside envelopes) and {type} (the record's `type` header, an outbox event type). */
  jobName: z.string().min(1).default("{topic}"),
  /** What a job carries: the record's value, or the record with its topic, partition, offset, key, timestamp and headers. */
  data: z.enum(["value", "record"]).default("value"),
  /** Tombstones (records with a null value) become jobs too; skipped by default. */
  tombstones: bool().default(false),
  /** Options of every job (BullMQ's JobsOptions). */
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
    .default({}),
  /** Where the sink keeps its offsets and epoch in Redis: `<offsetsKey>:{<connector>}:offsets` and `…:epoch`. */
  offsetsKey: z.string().regex(/^\S+$/, "must not contain spaces").default("liberator:sink"),
});

export type BullmqSinkConfig = z.infer<typeof bullmqSinkConfig>;
