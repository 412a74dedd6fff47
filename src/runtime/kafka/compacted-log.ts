import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { Partitioners, type Admin, type Consumer, type Kafka, type KafkaMessage, type Producer } from "kafkajs";
import { ConnectionError } from "../errors.js";
import { lazy } from "../lazy.js";
import { backoffDelay, DEFAULT_RETRY } from "../retry.js";
import type { Logger } from "../log.js";
import { endOffsets, ensureTopics } from "./admin.js";
import { abortHanging } from "./hanging-transactions.js";

export interface CompactedTopicLogOptions<V> {
  kafka: Kafka;
  topic: string;
  log: Logger;
  partitions?: number;
  replicationFactor?: number;
  /** Topic configs for creation, beside cleanup.policy=compact. */
  topicConfig?: Record<string, string>;
  decode(value: Buffer): V;
}

/** Key of the records `readToEnd()` writes to know how far it must read; never a table entry. */
const READ_BARRIER_KEY = "__liberator_read_barrier__";

/**
 * A barrier not visible after this long is held back by a transaction: one a connector still has
 * open (which ends within its timeout), or one no coordinator knows any more, which nothing ends
 * (hanging-transactions.ts). A barrier normally shows within milliseconds.
 */
const HANGING_CHECK_MS = 3_000;

/**
 * How long the broker holds a reader's fetch while the topic has nothing new. It answers as soon
 * as a record (a barrier, a commit marker) lands, so this does not delay `readToEnd()` (p50 6 ms
 * either way); it only sets how often an idle reader asks. At 50 ms the four readers of an idle
 * worker made 80 fetches a second, 7 % of a core; at 500 ms, 3 %.
 */
const FETCH_WAIT_MS = 500;

/**
 * A key → value table kept in a compacted topic, tailed from the beginning by every process that
 * needs it (Kafka Connect's KafkaBasedLog). `readToEnd()` is the consistency point: it waits until
 * everything committed before the call has been applied, so a connector that starts after another
 * worker fenced it sees the newest position.
 */
export class CompactedTopicLog<V> {
  private readonly values = new Map<string, V>();
  /** Next offset applied, per partition. */
  private readonly applied = new Map<number, bigint>();
  private readonly listeners = new Set<(key: string, value: V | null) => void>();
  private progress: (() => void)[] = [];
  private consumer: Consumer | undefined;
  /** Shared by write() and the read barriers, made on first use. */
  private readonly producer = lazy(async (): Promise<Producer> => {
    const producer = this.options.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    return producer;
  });
  /** Made once even when several connectors start, and so read to the end, at the same moment. */
  private readonly admin = lazy(async (): Promise<Admin> => {
    const admin = this.options.kafka.admin();
    await admin.connect();
    return admin;
  });

  constructor(private readonly options: CompactedTopicLogOptions<V>) {}

  get topic(): string {
    return this.options.topic;
  }

  async start(): Promise<void> {
    const { kafka, topic } = this.options;
    await ensureTopics(kafka, [
      {
        topic,
        partitions: this.options.partitions ?? 1,
        replicationFactor: this.options.replicationFactor ?? -1,
        compact: true,
        ...(this.options.topicConfig ? { config: this.options.topicConfig } : {}),
      },
    ]);
    await this.startConsumer();
  }

  /**
   * A consumer in a group of its own, never committed: every process reads the whole topic. After
   * a crash (a broker gone for longer than kafkajs retries) the next consumer takes a new group and
   * goes on from what was applied: rejoining the old group would wait out the dead member's session
   * (30 s), which a restarted broker still remembers.
   */
  private async startConsumer(): Promise<void> {
    const { kafka, topic } = this.options;
    const consumer = kafka.consumer({
      groupId: `liberator-tail-${topic}-${randomUUID()}`,
      readUncommitted: false,
      maxWaitTimeInMs: FETCH_WAIT_MS,
      allowAutoTopicCreation: false,
      retry: { restartOnFailure: async () => false },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      this.applied.set(payload.partition, BigInt(payload.lastOffset) + 1n);
      this.wake();
    });
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      // synchronous: kafkajs applies seeks made here before its first fetch
      for (const partition of payload.memberAssignment[topic] ?? []) {
        const next = this.applied.get(partition);
        if (next !== undefined) consumer.seek({ topic, partition, offset: next.toString() });
      }
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (this.consumer !== consumer) return;
      this.options.log.warn({ topic, err: payload.error }, "the topic's reader stopped; a new one goes on from where it was");
      void this.replaceConsumer(consumer);
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) this.apply(message);
      },
    });
  }

  private async replaceConsumer(crashed: Consumer): Promise<void> {
    await crashed.disconnect().catch(() => undefined);
    for (let attempt = 0; this.consumer === crashed; attempt++) {
      await sleep(backoffDelay(attempt, { ...DEFAULT_RETRY, initialDelayMs: 500, maxDelayMs: 5_000 }));
      if (this.consumer !== crashed) return;
      try {
        await this.startConsumer();
      } catch (err) {
        const failed = this.consumer;
        // stop() came while the new reader started: it has disconnected that reader already
        if (failed === undefined) return;
        this.consumer = crashed;
        await failed.disconnect().catch(() => undefined);
        this.options.log.debug({ err }, "cannot start the topic's reader yet");
      }
    }
  }

  /**
   * The end a read_committed consumer sees (the last stable offset) stops at the first transaction
   * still open, and any connector may have one open on this topic: a record committed after that
   * transaction began stays invisible until it ends, so reading "to the end" could miss a position
   * committed just before the call. So a barrier of our own is written to every partition, outside
   * any transaction: it becomes visible only once every transaction begun before it has ended, and
   * once it is applied, everything committed before the call is too. A barrier held back for
   * HANGING_CHECK_MS has the topic looked at for hanging transactions, which are aborted.
   */
  async readToEnd(timeoutMs = 30_000): Promise<void> {
    const partitions = [...(await endOffsets(await this.admin.get(), this.options.topic)).keys()];
    const producer = await this.producer.get();
    const written = await producer.send({
      topic: this.options.topic,
      acks: -1,
      messages: partitions.map((partition) => ({ key: READ_BARRIER_KEY, value: null, partition })),
    });
    const ends = new Map(written.map((w) => [w.partition, BigInt(w.baseOffset ?? "0") + 1n]));
    const caughtUp = () => [...ends].every(([p, end]) => (this.applied.get(p) ?? 0n) >= end);
    const deadline = Date.now() + timeoutMs;
    const checkAt = Date.now() + HANGING_CHECK_MS;
    let hanging: Promise<string> | undefined;
    while (!caughtUp()) {
      const left = deadline - Date.now();
      if (left <= 0) {
        const held = await hanging;
        throw new ConnectionError(`timed out reading topic ${this.options.topic} to its end${held ? `: ${held}` : ""}`, {
          fix: held ? "abort the hanging transaction as said; the connector then goes on by itself" : "check that the brokers are healthy and that no transaction on this topic is stuck open",
        });
      }
      if (!hanging && Date.now() >= checkAt) hanging = this.abortHanging();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.progress.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Never throws: a failure to look is logged, and the wait goes on to its timeout. */
  private async abortHanging(): Promise<string> {
    try {
      return await abortHanging(await this.admin.get(), [this.options.topic], this.options.log);
    } catch (err) {
      this.options.log.warn({ topic: this.options.topic, err }, "cannot look for hanging transactions on the topic");
      return "";
    }
  }

  get(key: string): V | undefined {
    return this.values.get(key);
  }

  /** In the order of their last writes (per partition). */
  entries(): IterableIterator<[string, V]> {
    return this.values.entries();
  }

  onUpdate(fn: (key: string, value: V | null) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Writes outside any transaction (idempotent, acks=all); for tables that are not positions. */
  async write(key: string, value: Buffer | null): Promise<void> {
    const producer = await this.producer.get();
    await producer.send({ topic: this.options.topic, acks: -1, messages: [{ key, value }] });
  }

  async stop(): Promise<void> {
    const consumer = this.consumer;
    // no replacement after this: replaceConsumer() goes on only while its crashed consumer is current
    this.consumer = undefined;
    // not awaited: kafkajs's disconnect waits out the fetch the broker holds (FETCH_WAIT_MS), and a
    // reader in a group of its own has nothing to commit or hand over
    void consumer?.disconnect().catch(() => undefined);
    await Promise.all([
      this.producer.peek()?.then((p) => p.disconnect()).catch(() => undefined),
      this.admin.peek()?.then((a) => a.disconnect()).catch(() => undefined),
    ]);
    this.producer.reset();
    this.admin.reset();
  }

  private apply(message: KafkaMessage): void {
    if (!message.key) return;
    const key = message.key.toString("utf8");
    if (key === READ_BARRIER_KEY) return;
    let value: V | null = null;
    if (message.value) {
      try {
        value = this.options.decode(message.value);
      } catch (err) {
        this.options.log.warn({ topic: this.options.topic, key, offset: message.offset, err }, "skipping an unreadable record");
        return;
      }
    }
    // deleted first, so entries() iterate in the order of the last writes
    this.values.delete(key);
    if (value !== null) this.values.set(key, value);
    for (const fn of this.listeners) fn(key, value);
  }

  private wake(): void {
    const waiting = this.progress;
    this.progress = [];
    for (const fn of waiting) fn();
  }
}
