import { randomUUID } from "node:crypto";
import { setImmediate, setTimeout as sleep } from "node:timers/promises";
import type { Admin, Batch, EachBatchPayload, Kafka, KafkaMessage } from "kafkajs";
import type { AvroSchema, Headers, Sink, SinkRecord, TopicPartition, TopicPartitionOffset, TopicSchema } from "../connector.js";
import type { ConnectorConfig } from "../config/load.js";
import { DataError, ErrorCode, FencedError, LiberatorError, PreconditionError, toLiberatorError } from "../errors.js";
import { connectedAdmin } from "../kafka/admin.js";
import { listResolvedTopics } from "../kafka/topics.js";
import { GroupOffsets } from "../kafka/group-offsets.js";
import { DeadLetterProducer, deadLetterMessage, deadLetterTopic } from "../kafka/dead-letter.js";
import type { Logger } from "../log.js";
import { retry } from "../retry.js";
import type { SchemaRegistry } from "../schema-registry/registry-api.js";
import type { DecodedValue, RecordDeserializer } from "../schema-registry/serde.js";
import { FetchPositions } from "./fetch-positions.js";
import type { PipelineControl, PipelineEnd, WorkerServices } from "./services.js";

const tp = (topic: string, partition: number) => `${topic}:${partition}`;

/** The consumer group of a sink; its commits are what consumer-lag tools read. */
export const sinkGroupId = (connector: string) => `liberator-${connector}`;

/** Bytes per partition and fetch: about one write chunk of small records (see the consumer's options). */
export const FETCH_BYTES = 1024 * 1024;

/** How often a sink's written offsets are committed to its group (for lag tools only). */
const GROUP_COMMIT_INTERVAL_MS = 5_000;

const positionOf = (next: Map<string, bigint>) => Object.fromEntries([...next].map(([k, v]) => [k, v.toString()]));

/** A decoded record that keeps the Kafka message it came from, for dead letters. */
type DecodedRecord = SinkRecord & { raw: KafkaMessage };

/** How long a stopped sink waits for its Kafka clients to close before it reports itself stopped. */
const CLOSE_WAIT_MS = 500;

/** Records decoded between two turns of the event loop. */
const DECODE_SLICE = 1_000;

/** How often a sink looks for topics it has still to read: the topics it waits for, new matches of a pattern. */
const TOPIC_POLL_MS = 2_000;

/**
 * The consumer of a sink whose tasks share its partitions: a member that stops heartbeating (a
 * process killed, frozen) loses its partitions after this long, and the others take them.
 */
const SHARED_SESSION_MS = 8_000;
/**
 * And a rebalance (a task leaving on SIGTERM, joining) is seen at the next heartbeat. The group's
 * join waits for the last task to see it, so this bounds the spread between the tasks' notices: at
 * 300 ms, the three tasks of one worker saw a SIGTERM's rebalance 0.37, 0.70 and 0.86 s after it.
 */
const SHARED_HEARTBEAT_MS = 100;

/** How often a batch waiting for the write before it heartbeats (kafkajs sends one only once its interval has passed). */
const HEARTBEAT_WHILE_WRITING_MS = 50;

/** How a run of the consumer over one set of topics ended: the pipeline stops, or reads a larger set. */
type ConsumerEnd = PipelineEnd | { topics: string[] };

/**
 * Kafka → sink, exactly once (DESIGN.md §5): the consumer reads read_committed; every batch of rows
 * and the next offsets go into the target in ONE transaction (the sink's `write`); on start and on
 * every assignment the task claims its partitions in the target (a new epoch for each, which fences
 * whoever wrote them before) and the consumer seeks to the offsets stored there, and records below
 * them are skipped, so a replay never writes a row twice. Group commits exist only so lag can be watched.
 *
 * A sink that runs as one task reads every partition: since the target decides where reading
 * starts, its consumer joins a group of its own run rather than the connector's lasting group
 * (after a crash a new process would otherwise wait for the dead member's session to expire before
 * it got a partition), claims every partition as it starts, and commits the written offsets to the
 * lasting group from outside (as an admin does), where lag tools read them.
 *
 * Several tasks share the partitions through Kafka's consumer group protocol, in the lasting group
 * itself (kafkajs: eager rebalances only). When the group rebalances every task loses all its
 * partitions at once (`REBALANCING`): it writes none of them from then on, its write in flight ends
 * with the chunk in the target's hands (committed before the new owner's claim, which then reads
 * it, or refused on the epoch after it), and once the new assignment comes (`GROUP_JOIN`) it claims
 * exactly the partitions it was given, seeks, and reads them. A partition whose epoch moved under a
 * write (this task froze while the group gave it away) is dropped; the others go on.
 *
 * Topics that do not exist yet are waited for, not failed on: a new deployment starts its sinks
 * before its sources have written anything. With none of its topics there the sink is `waiting`;
 * a topic that appears later (a listed one, or a new match of a pattern such as `shop.*`) is read
 * from its start by a new consumer over the larger set, the batch in flight written first.
 */
export async function runSinkPipeline(connector: ConnectorConfig, control: PipelineControl, worker: WorkerServices): Promise<PipelineEnd> {
  const spec = connector.spec;
  if (spec.kind !== "sink") throw new Error(`${connector.name} is not a sink`);
  const log = worker.log.child({ connector: connector.name, type: connector.type });
  const metrics = worker.metrics.forConnector(connector.name, control.task);
  const sink = spec.create(connector.config, { connector: connector.name, task: control.task, log, signal: control.signal, metrics });
  // a stop abandons the write in flight: the sink closes at once, and what it had not committed is
  // rolled back with its offsets, to be written again from them at the next start
  const abandon = () => void sink.close().catch((err: unknown) => log.warn({ err }, "closing the sink failed"));
  control.signal.addEventListener("abort", abandon, { once: true });
  const reading = readIntoSink(connector, control, worker, sink, spec.topics(connector.config), log).finally(() => control.signal.removeEventListener("abort", abandon));
  return stoppedWithin(reading, control.signal);
}

/**
 * What the pipeline ends with; once stopped, "stopped" after at most CLOSE_WAIT_MS. Kafka clients
 * that need longer to close (a broker gone: their requests wait out the retries) finish in the
 * background: nothing is written after the stop, and the next run reads its own consumer group.
 */
async function stoppedWithin(reading: Promise<PipelineEnd>, signal: AbortSignal): Promise<PipelineEnd> {
  const leftBehind = new Promise<PipelineEnd>((resolve) => {
    const leave = () => setTimeout(() => resolve("stopped"), CLOSE_WAIT_MS).unref();
    if (signal.aborted) leave();
    else signal.addEventListener("abort", leave, { once: true });
  });
  try {
    return await Promise.race([reading, leftBehind]);
  } catch (err) {
    // a failure after the stop is the abandoned write's, or a client's cut off while closing
    if (signal.aborted) return "stopped";
    throw err;
  }
}

/** `entries`: the topics and patterns of the config. */
async function readIntoSink(
  connector: ConnectorConfig,
  control: PipelineControl,
  worker: WorkerServices,
  sink: Sink,
  entries: readonly string[],
  log: Logger,
): Promise<PipelineEnd> {
  const kafka = worker.kafkaFor(connector.name);
  const deadLetters = new DeadLetterProducer(kafka);
  const groupOffsets = new GroupOffsets(kafka, sinkGroupId(connector.name), log, GROUP_COMMIT_INTERVAL_MS);
  const startedAt = performance.now();
  // independent steps at once: a hand-over waits for the slowest of them, not for their sum
  const connecting = connectedAdmin(kafka);
  try {
    const [schemas, admin] = await Promise.all([
      worker.schemas(),
      connecting,
      sink.open(),
    ]);
    let topics = await firstTopics(admin, entries, control, log);
    const next = new Map<string, bigint>();
    const reading = { kafka, admin, sink, deserializer: schemas.deserializer, registry: schemas.registry, deadLetters, groupOffsets, next, log, startedAt, wrote: false };
    while (topics && !control.signal.aborted) {
      const end = await consume(connector, control, reading, topics, async () => {
        const now = await listResolvedTopics(admin, entries);
        return now.topics.some((t) => !topics!.includes(t)) ? now.topics : undefined;
      });
      if (typeof end === "string") return end;
      log.info({ topics: end.topics.filter((t) => !topics!.includes(t)) }, "new topics to read: reading them from their start");
      topics = end.topics;
    }
    return "stopped";
  } finally {
    await Promise.all([
      // still connecting when another step failed: disconnected once it is
      connecting.then((a) => a.disconnect()).catch(() => undefined),
      groupOffsets.close(),
      deadLetters.close(),
      sink.close().catch((err: unknown) => log.warn({ err }, "closing the sink failed")),
    ]);
  }
}

/**
 * The topics to start with: those of `entries` that exist. While none does, the sink is waiting
 * (one log line, polled quietly); undefined when it is stopped meanwhile. Listed topics that are
 * still missing once others exist are named once, and read when they appear.
 */
async function firstTopics(admin: Admin, entries: readonly string[], control: PipelineControl, log: Logger): Promise<string[] | undefined> {
  let resolved = await listResolvedTopics(admin, entries);
  if (resolved.topics.length === 0) {
    control.onWaiting();
    log.info({ topics: entries }, `waiting for topics to exist: ${entries.join(", ")} (a source creates them when it starts)`);
    while (resolved.topics.length === 0) {
      await sleep(TOPIC_POLL_MS, undefined, { signal: control.signal }).catch(() => undefined);
      if (control.signal.aborted) return undefined;
      resolved = await listResolvedTopics(admin, entries);
    }
  }
  if (resolved.missing.length > 0) log.info({ missing: resolved.missing }, `reading ${resolved.topics.length} topic(s); waiting for ${resolved.missing.join(", ")} to exist`);
  return resolved.topics;
}

interface Reading {
  kafka: Kafka;
  admin: Admin;
  sink: Sink;
  deserializer: RecordDeserializer;
  registry: SchemaRegistry;
  deadLetters: DeadLetterProducer;
  groupOffsets: GroupOffsets;
  /** The next offset to read per partition, as the target holds it. */
  next: Map<string, bigint>;
  log: Logger;
  /** performance.now() when the pipeline began; whether it has written since. */
  startedAt: number;
  wrote: boolean;
}

/** One consumer over `topics` until the pipeline stops, fails, or `grown()` finds more topics to read. */
async function consume(connector: ConnectorConfig, control: PipelineControl, r: Reading, topics: string[], grown: () => Promise<string[] | undefined>): Promise<ConsumerEnd> {
  const { kafka, sink, next, log } = r;
  const shared = control.task.count > 1;
  /** The partitions this task writes now; every one of the topics when it runs alone. */
  const owned = new Set<string>();
  const writer = new BatchWriter(sink, connector, r.deserializer, r.deadLetters, log, control, (topic, partition) => owned.has(tp(topic, partition)));
  writer.onResolved = (topic, partition, offset) => r.groupOffsets.set(topic, partition, offset);
  const linger = connector.config.batch.lingerMs ?? 0;
  const consumer = kafka.consumer({
    groupId: shared ? sinkGroupId(connector.name) : `${sinkGroupId(connector.name)}.run-${randomUUID().slice(0, 8)}`,
    readUncommitted: false,
    // linger: the broker holds a fetch until it has a fetch's worth of records or lingerMs passed
    maxWaitTimeInMs: linger > 0 ? linger : 200,
    minBytes: linger > 0 ? FETCH_BYTES : 1,
    // the next fetch is decoded while one is written (BatchWriter.accept), so a fetch need not
    // span several chunks: 4 MB fetches kept four times the records alive, which cost 20% more
    // CPU per row (the collector copies what lives) and 80-140 MB more peak memory
    maxBytesPerPartition: FETCH_BYTES,
    allowAutoTopicCreation: false,
    // failures go to the runner, which restarts from the offsets in the target with backoff
    retry: { retries: 3, restartOnFailure: async () => false },
    // tasks sharing the group: a task gone (killed, frozen) hands its partitions on within the session
    ...(shared ? { sessionTimeout: SHARED_SESSION_MS, heartbeatInterval: SHARED_HEARTBEAT_MS, rebalanceTimeout: 2 * SHARED_SESSION_MS } : {}),
  });
  const seek = (topic: string, partition: number, offset: string) => {
    consumer.seek({ topic, partition, offset });
    writer.sought(topic, partition, offset);
  };
  writer.onSkipped = seek;
  // a fetch of only transaction markers (or aborted records) is resolved by kafkajs itself
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (payload.batchSize === 0) writer.passed(payload.topic, payload.partition, payload.lastOffset);
  });
  let watch: NodeJS.Timeout | undefined;
  // a partition the target has no offset for starts at its beginning, never at the group's
  // committed offset: that one only tracks lag, and a target emptied to be rebuilt must get it all
  const earliest = new Map<string, string>();
  const release = (partitions: TopicPartition[], why: string) => {
    if (partitions.length === 0) return;
    sink.release(partitions);
    for (const p of partitions) {
      owned.delete(tp(p.topic, p.partition));
      next.delete(tp(p.topic, p.partition));
    }
    log.info({ partitions: partitions.map((p) => tp(p.topic, p.partition)) }, why);
  };
  /** Bumped at every rebalance: a claim that a newer rebalance overtook seeks nothing. */
  let generation = 0;
  /** The partitions the group gives this task now; none while it rebalances. */
  let assignment = new Set<string>();
  try {
    const ended = new Promise<ConsumerEnd>((resolve, reject) => {
      control.signal.addEventListener("abort", () => resolve("stopped"), { once: true });
      consumer.on(consumer.events.CRASH, ({ payload }) => reject(payload.error));
      writer.onFailure = reject;
      if (shared) writer.onLost = (partitions) => {
        // another task claimed them while this one could not see the group move (frozen, cut off):
        // they are not fetched again, and the group gives this task its share at its next join
        release(partitions, "partitions lost to another task (their epoch moved): writing them no more");
        const byTopic = new Map<string, number[]>();
        for (const p of partitions) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.partition]);
        consumer.pause([...byTopic].map(([topic, ps]) => ({ topic, partitions: ps })));
      };
      if (shared) {
        consumer.on(consumer.events.REBALANCING, () => {
          generation++;
          assignment = new Set();
          // eager rebalancing: every partition goes back to the group; none is written from here on
          release([...owned].map(partitionOf), "the group is rebalancing: writing none of this task's partitions until the new assignment");
        });
        consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
          const assigned = Object.entries(payload.memberAssignment).flatMap(([topic, ps]) => ps.map((partition) => ({ topic, partition })));
          const mine = ++generation;
          assignment = new Set(assigned.map((a) => tp(a.topic, a.partition)));
          // none is owned here after a rebalance (REBALANCING released them all); some are after a
          // rejoin kafkajs makes without one (the coordinator forgot this member: a process frozen
          // past its session), while another task may have claimed them meanwhile: released too,
          // so nothing of theirs is written before this task's own claim below
          release([...owned].map(partitionOf), "the group assigned this task anew (it had lost its membership): writing none of its partitions until they are claimed again");
          // nothing is fetched before the claim: synchronous, so before kafkajs's first fetch
          if (assigned.length > 0) consumer.pause(Object.entries(payload.memberAssignment).map(([topic, partitions]) => ({ topic, partitions })));
          const started = performance.now();
          void (async () => {
            // this task's own write in flight ends first: its rows and offsets are in, or refused
            await writer.idle();
            // a task that is stopping (leaving the group) claims nothing: its claim would only fence
            // the partitions' next owners, whose writes then fail and wait for the next rebalance
            if (mine !== generation || control.signal.aborted) return;
            const stored = await sink.claim(assigned);
            if (mine !== generation || control.signal.aborted) {
              // the claim went through after a newer rebalance began: what the group no longer gives
              // this task is not its own (its status went on listing it, beside the next owner's),
              // and what the group does give it is claimed again for the newer assignment
              release(assigned.filter((a) => !assignment.has(tp(a.topic, a.partition))), "partitions claimed after the group moved on: released");
              return;
            }
            for (const o of stored) next.set(tp(o.topic, o.partition), BigInt(o.offset));
            for (const { topic, partition } of assigned) {
              owned.add(tp(topic, partition));
              const offset = next.get(tp(topic, partition))?.toString() ?? earliest.get(tp(topic, partition));
              if (offset !== undefined) seek(topic, partition, offset);
            }
            consumer.resume(Object.entries(payload.memberAssignment).map(([topic, partitions]) => ({ topic, partitions })));
            log.info(
              { partitions: assigned.map((a) => tp(a.topic, a.partition)), claimMs: Math.round(performance.now() - started) },
              "partitions assigned and claimed in the target; reading them from the offsets stored there",
            );
          })().catch(reject);
        });
      }
      watch = setInterval(() => {
        grown().then(
          (more) => more && resolve({ topics: more }),
          // the consumer's own connection reports a Kafka that is gone; the next round asks again
          (err: unknown) => log.debug({ err }, "cannot list topics"),
        );
      }, TOPIC_POLL_MS);
    });
    // a failure before the consumer runs is thrown where it happens; this one is then left unread
    ended.catch(() => undefined);
    // the tables are checked while the consumer joins and fetches: only the first write waits for it
    if (sink.check) writer.after(latestSchemas(r.registry, topics).then((schemas) => sink.check!(schemas)));
    // what the first fetch needs, at once: where to start (alone: every partition claimed in the
    // target, and the offsets stored there; the topics' beginnings) and the consumer's connection
    const [stored] = await Promise.all([
      Promise.all(topics.map(async (topic) => ({ topic, offsets: await r.admin.fetchTopicOffsets(topic) }))).then((all) => {
        const partitions: TopicPartition[] = [];
        for (const { topic, offsets } of all) {
          for (const p of offsets) {
            earliest.set(tp(topic, p.partition), p.low);
            partitions.push({ topic, partition: p.partition });
          }
        }
        if (shared) return [];
        for (const p of partitions) owned.add(tp(p.topic, p.partition));
        return sink.claim(partitions);
      }),
      consumer.connect(),
    ]);
    if (control.signal.aborted) return "stopped";
    for (const o of stored) next.set(tp(o.topic, o.partition), BigInt(o.offset));
    control.onOpened(positionOf(next), sink);
    writer.onWritten = (records) => {
      // once per consumer: how long from the start of the pipeline to writing (a hand-over's cost)
      if (!r.wrote) log.info({ records, ms: Math.round(performance.now() - r.startedAt) }, "writing: first batch committed");
      r.wrote = true;
      control.onCommitted(positionOf(next), records);
    };
    if (shared) {
      // the group has members: its offsets (for lag tools) are committed by this member
      r.groupOffsets.through((offsets) => consumer.commitOffsets(offsets));
    } else {
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        // synchronous on purpose: kafkajs applies seeks made here before its first fetch
        for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
          for (const partition of partitions) {
            const offset = next.get(tp(topic, partition))?.toString() ?? earliest.get(tp(topic, partition));
            if (offset !== undefined) seek(topic, partition, offset);
          }
        }
        log.info({ assignment: payload.memberAssignment }, "partitions assigned; reading from the offsets stored in the target");
      });
    }
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async (payload) => {
        if (writer.failed || control.signal.aborted || payload.isStale()) return;
        if (control.paused()) {
          const resume = payload.pause();
          void control.whenResumed().then(resume);
          return;
        }
        await writer.accept(payload, next);
      },
    });
    return await ended;
  } finally {
    clearInterval(watch);
    r.groupOffsets.through(undefined);
    await consumer.disconnect().catch(() => undefined);
    await writer.idle();
  }
}

function partitionOf(key: string): TopicPartition {
  const at = key.lastIndexOf(":");
  return { topic: key.slice(0, at), partition: Number(key.slice(at + 1)) };
}

/** The latest value schema of each topic that has one registered (a topic a foreign producer writes may not). */
async function latestSchemas(registry: SchemaRegistry, topics: readonly string[]): Promise<TopicSchema[]> {
  const out: TopicSchema[] = [];
  for (const topic of topics) {
    const latest = await registry.version(`${topic}-value`, "latest").catch((err: unknown) => {
      if (err instanceof LiberatorError && err.code === ErrorCode.SCHEMA_SUBJECT_NOT_FOUND) return undefined;
      throw err;
    });
    if (latest) out.push({ topic, valueSchema: JSON.parse(latest.schema) as AvroSchema });
  }
  return out;
}

/** Decodes, writes with the offsets, and isolates bad records (dead letter or stop, per config). */
class BatchWriter {
  failed = false;
  onFailure: (err: unknown) => void = () => undefined;
  /** After each chunk is in the target with its offsets. */
  onWritten: (records: number) => void = () => undefined;
  /** The next offset to read of a partition, once everything before it is done with. */
  onResolved: (topic: string, partition: number, offset: string) => void = () => undefined;
  /**
   * Partitions another task claimed under a write of this one (FencedError naming them), when
   * this task shares the connector's partitions: dropped, and the write goes on with the others.
   * Unset (one task), the fence stops the connector: another instance took it over.
   */
  onLost: ((partitions: TopicPartition[]) => void) | undefined;
  /** Sends the consumer back to `offset`: a fetch began past where this task left the partition. */
  onSkipped: (topic: string, partition: number, offset: string) => void = () => undefined;
  private readonly maxRecords: number;
  private readonly positions = new FetchPositions();
  private readonly signal: AbortSignal;
  /** The batch being written while kafkajs fetches the next one. */
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly sink: Sink,
    private readonly connector: ConnectorConfig,
    private readonly deserializer: RecordDeserializer,
    private readonly deadLetters: DeadLetterProducer,
    private readonly log: Logger,
    private readonly control: Pick<PipelineControl, "signal" | "onRetry">,
    /** Whether this task writes the partition now; a batch of one it gave up is dropped. */
    private readonly owns: (topic: string, partition: number) => boolean,
  ) {
    this.maxRecords = connector.config.batch.maxRecords;
    this.signal = control.signal;
  }

  /**
   * Takes a fetched batch and returns once the batch before it is written, so that kafkajs fetches
   * and decodes the next batch while this one is being written (it waited for each batch before).
   * kafkajs fetches from the offsets resolved to it: the batch is resolved at once, as the consumer
   * never commits them; what counts is the offsets in the target, which only a write moves, and a
   * seek after a rebalance goes back to them (records written meanwhile are skipped by `process`).
   */
  async accept(payload: EachBatchPayload, next: Map<string, bigint>): Promise<void> {
    await this.untilWritten(() => payload.heartbeat());
    if (this.failed || this.signal.aborted) return;
    const { batch } = payload;
    const key = tp(batch.topic, batch.partition);
    const fetched = BigInt((batch as Batch & { fetchedOffset: string }).fetchedOffset);
    // fetched before a rebalance took the partition: its next owner reads it from the target's offsets
    const owned = this.owns(batch.topic, batch.partition);
    const verdict = owned ? this.positions.check(key, fetched, next.get(key)) : undefined;
    if (verdict && "gone" in verdict) {
      this.failed = true;
      this.onFailure(recordsGone(this.connector.name, batch.topic, batch.partition, verdict.gone.from, verdict.gone.oldest));
      return;
    }
    if (verdict) {
      this.log.warn(
        { topic: batch.topic, partition: batch.partition, fetched: fetched.toString(), seek: verdict.back.toString() },
        "a fetch began past where this task left the partition: not written, reading again from there",
      );
      this.onSkipped(batch.topic, batch.partition, verdict.back.toString());
      return;
    }
    payload.resolveOffset(batch.lastOffset());
    this.positions.passed(key, BigInt(batch.lastOffset()));
    if (!owned) return;
    this.writing = this.process(batch, () => payload.heartbeat(), next);
  }

  /** The consumer was sent to `offset` of the partition: its next fetch begins there. */
  sought(topic: string, partition: number, offset: string): void {
    this.positions.sought(tp(topic, partition), BigInt(offset));
  }

  /** kafkajs took a fetch that ends at `last` itself (only transaction markers, or aborted records). */
  passed(topic: string, partition: number, last: string): void {
    this.positions.passed(tp(topic, partition), BigInt(last));
  }

  /**
   * Waits for the write in flight, heartbeating meanwhile: kafkajs heartbeats only between batches,
   * so a write of a second would hold this task's notice of a rebalance (and the whole group's
   * next assignment, which waits for every member) that long. A rebalance is thrown, for kafkajs
   * to rejoin at once; the write goes on to the end of its chunk, and the claim after the rejoin
   * waits for it.
   */
  private async untilWritten(heartbeat: () => Promise<void>): Promise<void> {
    let done = false;
    const writing = this.writing.finally(() => (done = true));
    while (!done) {
      await Promise.race([writing, sleep(HEARTBEAT_WHILE_WRITING_MS)]);
      if (done) return;
      // anything else (a broken connection, a coordinator moving) kafkajs meets again at its own
      // next heartbeat or fetch, where its retries and the consumer's crash handling deal with it
      await heartbeat().catch((err: unknown) => {
        if ((err as { type?: string }).type === "REBALANCE_IN_PROGRESS") throw err;
      });
    }
  }

  /** Writes nothing before `step` is done (the check of the target's tables); its failure is the writer's. */
  after(step: Promise<unknown>): void {
    this.writing = step.then(
      () => undefined,
      (err: unknown) => {
        this.failed = true;
        this.onFailure(err);
      },
    );
  }

  /** Resolves once no batch is being written (a failure went to onFailure). */
  idle(): Promise<void> {
    return this.writing;
  }

  private async process(batch: Batch, heartbeat: () => Promise<void>, next: Map<string, bigint>): Promise<void> {
    const key = tp(batch.topic, batch.partition);
    try {
      const stored = next.get(key);
      // records below the stored offset are already in the target (a replay after a crash)
      const fresh = stored === undefined ? batch.messages : batch.messages.slice(firstAtOrAfter(batch.messages, stored));
      const chunks: KafkaMessage[][] = [];
      for (let i = 0; i < fresh.length; i += this.maxRecords) chunks.push(fresh.slice(i, i + this.maxRecords));
      let decoding = chunks[0] && this.decodeChunk(batch.topic, batch.partition, chunks[0]);
      // a partition given up (a rebalance) is written no further: the chunk in the target's hands ends it
      for (let c = 0; c < chunks.length && !this.signal.aborted && this.owns(batch.topic, batch.partition); c++) {
        const chunk = chunks[c]!;
        const writing = this.writeChunk(batch.topic, batch.partition, chunk, await decoding!);
        // the next chunk decodes while this one is in the target's hands: Node and the database work at once
        decoding = chunks[c + 1] && this.decodeChunk(batch.topic, batch.partition, chunks[c + 1]!);
        decoding?.catch(() => undefined); // a failure surfaces where it is awaited
        await writing;
        const last = chunk[chunk.length - 1]!.offset;
        next.set(key, BigInt(last) + 1n);
        this.onResolved(batch.topic, batch.partition, (BigInt(last) + 1n).toString());
        this.onWritten(chunk.length);
        // kafkajs meets a rebalance at its own heartbeat too, once eachBatch returns
        await heartbeat().catch(() => undefined);
      }
      // past a trailing transaction marker too, so the group's committed offset (its lag) reaches the end
      if (!this.signal.aborted && batch.messages.length > 0) {
        this.onResolved(batch.topic, batch.partition, (BigInt(batch.lastOffset()) + 1n).toString());
      }
    } catch (err) {
      if (err instanceof FencedError && err.partitions && this.onLost) {
        this.onLost([...err.partitions]);
        return;
      }
      this.failed = true;
      this.onFailure(err);
    }
  }

  /** Each message decoded, or the DataError that makes it undecodable. */
  private async decodeChunk(topic: string, partition: number, messages: KafkaMessage[]): Promise<(DecodedRecord | LiberatorError)[]> {
    const out: (DecodedRecord | LiberatorError)[] = [];
    for (const m of messages) {
      // a chunk takes a while to decode on a busy machine: a stop, a heartbeat or an admin request
      // must not wait for all of it
      if (out.length % DECODE_SLICE === DECODE_SLICE - 1) {
        await setImmediate();
        if (this.signal.aborted) throw new LiberatorError(ErrorCode.STOPPED, "stopped while decoding a batch");
      }
      try {
        out.push(this.decodeKnown(topic, partition, m) ?? (await this.decode(topic, partition, m)));
      } catch (raw) {
        // only a record that cannot be decoded is its own fault (not the wire format, an id the
        // registry answers 404 for, a body its schema does not read); a registry out of reach is not
        const err = toLiberatorError(raw, this.connector.name);
        if (err.category !== "data") throw err;
        out.push(err);
      }
    }
    return out;
  }

  private async writeChunk(topic: string, partition: number, messages: KafkaMessage[], decoded: (DecodedRecord | LiberatorError)[]): Promise<void> {
    let pending: DecodedRecord[] = [];
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      const d = decoded[i]!;
      if (!(d instanceof LiberatorError)) {
        pending.push(d);
        continue;
      }
      // keep order: what came before the bad record is written first
      await this.write(topic, partition, pending, BigInt(m.offset));
      pending = [];
      await this.reject(topic, partition, m, d);
      await this.write(topic, partition, [], BigInt(m.offset) + 1n);
    }
    if (pending.length > 0) await this.write(topic, partition, pending, BigInt(messages[messages.length - 1]!.offset) + 1n);
  }

  /** Writes records and the next offset; a DataError is narrowed down by halves to the record that causes it. */
  private async write(topic: string, partition: number, records: DecodedRecord[], nextOffset: bigint): Promise<void> {
    const offsets: TopicPartitionOffset[] = [{ topic, partition, offset: nextOffset.toString() }];
    try {
      await retry(() => this.sink.write({ records, offsets }), {
        signal: this.signal,
        policy: { retries: 5, initialDelayMs: 100, maxDelayMs: 5_000 },
        // the connector is retrying from this first failure; the runner logs each attempt
        onRetry: (err, attempt, delayMs) => this.control.onRetry(err, attempt, delayMs),
      });
    } catch (raw) {
      const err = toLiberatorError(raw, this.connector.name);
      // a missing table, a fenced epoch or a lost connection is no record's fault: narrowing them
      // down would send every record of the stream to the dead-letter topic
      if (err.category !== "data" || records.length === 0) throw err;
      if (records.length === 1) {
        const record = records[0]!;
        await this.reject(topic, partition, record.raw, err);
        await this.write(topic, partition, [], nextOffset);
        return;
      }
      const half = Math.ceil(records.length / 2);
      await this.write(topic, partition, records.slice(0, half), BigInt(records[half - 1]!.offset) + 1n);
      await this.write(topic, partition, records.slice(half), nextOffset);
    }
  }

  private async reject(topic: string, partition: number, message: KafkaMessage, err: LiberatorError): Promise<void> {
    const origin = { topic, partition, offset: message.offset };
    if (this.connector.config.errors.tolerance === "none") throw stoppedAt(this.connector.name, origin, err);
    const dlq = deadLetterTopic(this.connector.name, this.connector.config.errors.deadLetterTopic);
    await this.deadLetters.send(deadLetterMessage(dlq, { key: message.key, value: message.value, headers: headersOf(message) }, err, origin, this.connector.name));
    this.log.warn({ code: err.code, topic, partition, offset: message.offset, deadLetterTopic: dlq }, `record sent to the dead-letter topic: ${err.message}`);
  }

  /** Without a promise per record while the schemas are known; undefined when one has to be fetched. */
  private decodeKnown(topic: string, partition: number, m: KafkaMessage): DecodedRecord | undefined {
    const key = this.deserializer.deserializeKnown(m.key);
    const value = key === undefined ? undefined : this.deserializer.deserializeKnown(m.value, this.sink.valueView);
    return value === undefined ? undefined : decodedRecord(topic, partition, m, key!, value);
  }

  private async decode(topic: string, partition: number, m: KafkaMessage): Promise<DecodedRecord> {
    const key = await this.deserializer.deserialize(m.key);
    const value = await this.deserializer.deserialize(m.value, this.sink.valueView);
    return decodedRecord(topic, partition, m, key, value);
  }
}

/**
 * Under tolerance none the sink stops at the record itself: nothing after it is written, and the
 * error says how to skip it (the next offset of that partition, set while the connector is failed).
 */
function stoppedAt(connector: string, at: { topic: string; partition: number; offset: string }, err: LiberatorError): DataError {
  return new DataError(err.code, `stopped at record ${at.topic}/${at.partition}@${at.offset}, which the sink cannot take: ${err.message}`, {
    connector,
    cause: err,
    fix:
      `fix the record's producer or the target and restart; or skip the record: ${setOffset(connector, at.topic, at.partition, BigInt(at.offset) + 1n)}, which starts the connector again after it; ` +
      "or set errors.tolerance: all to send such records to the dead-letter topic",
  });
}

/** How to move a failed sink's partition to `offset`: the CLI command, and the admin API call. */
function setOffset(connector: string, topic: string, partition: number, offset: bigint): string {
  const body = JSON.stringify({ offsets: [{ topic, partition, offset: offset.toString() }] });
  return `liberator offsets set --connector ${connector} --topic ${topic} --partition ${partition} --offset ${offset} --force (PUT /connectors/${connector}/offsets?force=true with ${body})`;
}

/**
 * A partition's records from `from` on are gone from Kafka: a fetch sent back there began at
 * `oldest` again (kafkajs moves a fetch below the log's start to its start).
 */
function recordsGone(connector: string, topic: string, partition: number, from: bigint, oldest: bigint): PreconditionError {
  return new PreconditionError(
    ErrorCode.SINK_RECORDS_GONE,
    `partition ${topic}/${partition}: the records from offset ${from} to ${oldest - 1n} are no longer in Kafka, which begins at ${oldest} now ` +
      "(retention, or a deletion of records, removed them while the sink was behind); nothing after them was written",
    {
      connector,
      fix:
        `to write on from the oldest record Kafka holds (the records before it are lost to this target): ${setOffset(connector, topic, partition, oldest)}; ` +
        "to keep records longer, raise the topic's retention.ms",
    },
  );
}

function decodedRecord(topic: string, partition: number, m: KafkaMessage, key: DecodedValue | null, value: DecodedValue | null): DecodedRecord {
  return {
    topic,
    partition,
    offset: m.offset,
    key: key?.value ?? null,
    keySchema: key?.schema ?? null,
    value: value?.value ?? null,
    valueSchema: value?.schema ?? null,
    headers: headersOf(m),
    timestamp: Number(m.timestamp),
    raw: m,
  };
}

/** Where the records at or past `offset` begin: a batch's offsets ascend, so no BigInt per record. */
function firstAtOrAfter(messages: readonly KafkaMessage[], offset: bigint): number {
  let low = 0;
  let high = messages.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (BigInt(messages[mid]!.offset) < offset) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** Shared by every record without headers (most of them): one object fewer per record. */
const NO_HEADERS: Headers = Object.freeze({});

function headersOf(m: KafkaMessage): Headers {
  let out: Headers | undefined;
  for (const k in m.headers) {
    const v = m.headers[k];
    const one = Array.isArray(v) ? v[v.length - 1] : v;
    if (one !== undefined) (out ??= {})[k] = one;
  }
  return out ?? NO_HEADERS;
}
