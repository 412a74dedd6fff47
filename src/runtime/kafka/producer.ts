import { Partitioners, type Kafka, type Message, type Producer, type TopicMessages } from "kafkajs";
import { ErrorCode, FencedError, LiberatorError } from "../errors.js";
import { classifyKafkaError } from "./errors.js";
import type { Headers } from "../connector.js";

export interface OutgoingMessage {
  topic: string;
  key: Buffer | null;
  value: Buffer | null;
  headers?: Headers;
  timestamp?: number;
}

export interface TransactionalProducerOptions {
  transactionalId: string;
  connector: string;
  transactionTimeoutMs: number;
  /** Produce requests inside one transaction are cut at about this many bytes (message.max.bytes). */
  maxRequestBytes?: number;
}

/**
 * The source side of exactly-once: a batch of records and the connector's position go to Kafka in
 * ONE transaction (DESIGN.md §5). `connect()` registers the transactional id, which fences any older
 * instance of the connector and aborts its open transaction before we read the stored position.
 */
export class TransactionalProducer {
  private readonly producer: Producer;
  private readonly maxRequestBytes: number;

  constructor(
    kafka: Kafka,
    private readonly options: TransactionalProducerOptions,
  ) {
    this.maxRequestBytes = options.maxRequestBytes ?? 900_000;
    this.producer = kafka.producer({
      transactionalId: options.transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: options.transactionTimeoutMs,
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
      // After each commit the coordinator answers CONCURRENT_TRANSACTIONS until its markers are
      // written; kafkajs's default 300 ms first retry would cap us near 3 transactions/s. The Java
      // client retries that case after 20 ms. The budget (about 6 s) ends where a broker is gone
      // rather than busy: the connector is then retrying, with the runner's backoff.
      retry: { initialRetryTime: 10, retries: 10, maxRetryTime: 2_000 },
    });
  }

  async connect(): Promise<void> {
    try {
      await this.producer.connect();
      // kafkajs registers the transactional id only when a first transaction begins (connect() alone
      // fences nothing): an empty one does it now, so an older instance is fenced and its open
      // transaction ended before the caller reads the stored position.
      const registration = await this.producer.transaction();
      await registration.abort();
    } catch (err) {
      throw this.classify(err, "cannot start the transactional producer");
    }
  }

  /**
   * Sends everything in one transaction, in requests cut in order; on any failure the transaction
   * is aborted and nothing is visible.
   */
  async commit(messages: readonly OutgoingMessage[]): Promise<void> {
    const tx = await this.producer.transaction().catch((err: unknown) => {
      throw this.classify(err, "cannot begin a Kafka transaction");
    });
    try {
      for (const chunk of this.chunks(messages)) await tx.sendBatch({ topicMessages: chunk });
      await tx.commit();
    } catch (err) {
      const classified = this.classify(err, "Kafka transaction failed");
      if (!(classified instanceof FencedError)) await tx.abort().catch(() => undefined);
      throw classified;
    }
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect().catch(() => undefined);
  }

  private *chunks(messages: readonly OutgoingMessage[]): Generator<TopicMessages[]> {
    let byTopic = new Map<string, Message[]>();
    let bytes = 0;
    for (const m of messages) {
      const size = (m.key?.length ?? 0) + (m.value?.length ?? 0) + 64;
      if (bytes > 0 && bytes + size > this.maxRequestBytes) {
        yield toTopicMessages(byTopic);
        byTopic = new Map();
        bytes = 0;
      }
      let list = byTopic.get(m.topic);
      if (!list) byTopic.set(m.topic, (list = []));
      // handed over as it is, not copied per record: the patched record encoder reads a numeric
      // timestamp (patches/kafkajs+2.2.4.patch) and ignores `topic`
      list.push(m as unknown as Message);
      bytes += size;
    }
    if (bytes > 0) yield toTopicMessages(byTopic);
  }

  private classify(err: unknown, what: string): LiberatorError {
    if (err instanceof LiberatorError) return err;
    const opts = { connector: this.options.connector, cause: err };
    const code = classifyKafkaError(err);
    if (code === ErrorCode.FENCED) {
      // a task's id names its generation (tasks.ts): it is also fenced when the tasks change
      const task = this.options.transactionalId.includes("#");
      return new FencedError(
        `transactional id "${this.options.transactionalId}" was fenced: another instance of this ${task ? "task, or a task of a newer generation (the connector's task count or tables changed in another process)," : "connector"} took over`,
        {
          ...opts,
          fix: task
            ? "this task stops and leaves its tables to the newer one; a worker still running the old config reloads it (SIGHUP or POST /reload) to run the new tasks"
            : "only one instance of a connector may run; this one stops and leaves the position to the newer one",
        },
      );
    }
    return new LiberatorError(code, `${what}: ${(err as Error).message}`, opts);
  }

}

function toTopicMessages(byTopic: Map<string, Message[]>): TopicMessages[] {
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}
