/**
 * The sink's offsets and its fencing epochs, kept in the target database (DESIGN.md §5):
 * `liberator_offsets(connector, topic, partition, next_offset, epoch)`, one row per partition. The
 * epoch is per partition: a task that is given partitions claims them (`claim`), which sets a new
 * epoch on each of their rows, and every batch locks the rows of its partitions, compares their
 * epochs with the ones it claimed, and writes their offsets in the batch's own transaction. A task
 * that lost a partition (a rebalance gave it to another, or it woke from a long pause after the
 * group moved on) then fails on that partition's epoch instead of writing, and goes on writing the
 * partitions it still holds: the row lock orders a write either wholly before the claim, whose
 * read of the offsets then sees it, or refuses it after.
 *
 * The row of the connector itself (topic '' and partition -1) is where epochs come from: a claim
 * raises it first, so every epoch it hands out is above any a partition row held, including those
 * written when the epoch was per connector (rows of that layout need no change: their offsets stay
 * where they were, and their first claim moves their epoch on). Raising it also fences a writer of
 * that older kind, which compares that row's epoch on every batch. A partition that has no offset
 * yet gets a row at its claim with next_offset -1, read as "none" (it starts at its earliest).
 */
import type { TopicPartition, TopicPartitionOffset } from "../../runtime/connector.js";
import { classifyDbError } from "../../runtime/db/errors.js";
import { FencedError } from "../../runtime/errors.js";
import type { SqlTarget, TableRef } from "./target.js";

const CLAIM_TOPIC = "";
const CLAIM_PARTITION = -1;
const tp = (topic: string, partition: number) => `${topic}:${partition}`;

export class OffsetsTable {
  private readonly table: string;
  private readonly partition: string;
  /** The epoch this instance claimed for each partition it holds. */
  private readonly held = new Map<string, bigint>();

  constructor(
    private readonly target: SqlTarget,
    ref: TableRef,
    private readonly connector: string,
  ) {
    this.table = target.quoteTable(ref);
    // a reserved word in MySQL
    this.partition = target.dialect === "mysql" ? "`partition`" : "partition";
  }

  private async create(): Promise<void> {
    const create =
      `CREATE TABLE IF NOT EXISTS ${this.table} (connector VARCHAR(255) NOT NULL, topic VARCHAR(255) NOT NULL, ${this.partition} INTEGER NOT NULL, ` +
      `next_offset BIGINT NOT NULL, epoch BIGINT NOT NULL, PRIMARY KEY (connector, topic, ${this.partition}))`;
    if (this.target.dialect !== "postgres") {
      await this.target.query(create);
      return;
    }
    // Several sinks of one worker share this table and open together: PostgreSQL's IF NOT EXISTS
    // does not see a creation that is not committed yet and fails on pg_type's unique index, so
    // the creators queue on a lock named after the table.
    await this.target.transaction(async () => {
      await this.target.query(this.sql("SELECT pg_advisory_xact_lock(hashtext(?))"), [this.table]);
      await this.target.query(create);
    });
  }

  /** The epochs held, for the status. */
  holding(): string[] {
    return [...this.held.keys()];
  }

  /**
   * Claims `partitions` for this instance, committed at once: from here on whoever held them
   * before cannot write them. Returns their stored next offsets, read after the claim, so a write
   * of the previous holder that got in before it is seen. The table is created only when the
   * claim finds it missing: every start but the first opens with this one transaction.
   */
  async claim(partitions: readonly TopicPartition[]): Promise<TopicPartitionOffset[]> {
    if (partitions.length === 0) return [];
    let claimed;
    try {
      claimed = await this.claimEpochs(partitions);
    } catch (err) {
      if (classifyDbError(err) !== "table-missing") throw err;
      await this.create();
      claimed = await this.claimEpochs(partitions);
    }
    for (const p of partitions) this.held.set(tp(p.topic, p.partition), claimed.epoch);
    return claimed.offsets;
  }

  /** This instance writes these partitions no more: a batch for one of them fails before it reaches the target. */
  release(partitions: readonly TopicPartition[]): void {
    for (const p of partitions) this.held.delete(tp(p.topic, p.partition));
  }

  private claimEpochs(partitions: readonly TopicPartition[]): Promise<{ epoch: bigint; offsets: TopicPartitionOffset[] }> {
    return this.target.transaction(async () => {
      const key = [this.connector, CLAIM_TOPIC, CLAIM_PARTITION];
      const insert = `INSERT INTO ${this.table} (connector, topic, ${this.partition}, next_offset, epoch) VALUES`;
      let epoch: bigint;
      if (this.target.dialect === "postgres") {
        const [row] = await this.target.query(this.sql(`${insert} (?, ?, ?, 0, 1) ON CONFLICT (connector, topic, ${this.partition}) DO UPDATE SET epoch = ${this.table}.epoch + 1 RETURNING epoch`), key);
        epoch = BigInt(row!.epoch as string | number);
      } else {
        await this.target.query(this.sql(`${insert} (?, ?, ?, 0, 1) ON DUPLICATE KEY UPDATE epoch = epoch + 1`), key);
        const [row] = await this.target.query(this.sql(`SELECT epoch FROM ${this.table} WHERE connector = ? AND topic = ? AND ${this.partition} = ?`), key);
        epoch = BigInt(row!.epoch as string | number);
      }
      const values = partitions.map(() => "(?, ?, ?, -1, ?)").join(", ");
      const params = partitions.flatMap((p) => [this.connector, p.topic, p.partition, epoch.toString()]);
      const upsert = this.target.dialect === "postgres" ? `ON CONFLICT (connector, topic, ${this.partition}) DO UPDATE SET epoch = EXCLUDED.epoch` : "ON DUPLICATE KEY UPDATE epoch = VALUES(epoch)";
      await this.target.query(this.sql(`${insert} ${values} ${upsert}`), params);
      const rows = await this.target.query(this.sql(`SELECT topic, ${this.partition} AS p, next_offset FROM ${this.table} WHERE connector = ? AND (${this.matching(partitions)}) AND next_offset >= 0`), [
        this.connector,
        ...partitions.flatMap((p) => [p.topic, p.partition]),
      ]);
      return { epoch, offsets: rows.map((r) => ({ topic: String(r.topic), partition: Number(r.p), offset: String(r.next_offset) })) };
    });
  }

  /** The stored next offsets of these topics' partitions (those that have one). */
  async read(topics: readonly string[]): Promise<TopicPartitionOffset[]> {
    if (topics.length === 0) return [];
    const rows = await this.target.query(
      this.sql(`SELECT topic, ${this.partition} AS p, next_offset FROM ${this.table} WHERE connector = ? AND topic IN (${topics.map(() => "?").join(", ")}) AND next_offset >= 0`),
      [this.connector, ...topics],
    );
    return rows.map((r) => ({ topic: String(r.topic), partition: Number(r.p), offset: String(r.next_offset) }));
  }

  /**
   * Inside the batch's transaction: throws FencedError unless this instance still holds every
   * partition of `offsets` under the epoch it claimed, then stores the offsets. The locks on the
   * partitions' rows are held until the commit.
   */
  async commit(offsets: readonly TopicPartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    for (const o of offsets) if (!this.held.has(tp(o.topic, o.partition))) throw this.fenced(o, "this task does not hold it (any more)");
    const rows = await this.target.query(
      this.sql(`SELECT topic, ${this.partition} AS p, epoch FROM ${this.table} WHERE connector = ? AND (${this.matching(offsets)}) FOR UPDATE`),
      [this.connector, ...offsets.flatMap((o) => [o.topic, o.partition])],
    );
    const current = new Map(rows.map((r) => [tp(String(r.topic), Number(r.p)), BigInt(r.epoch as string | number)]));
    for (const o of offsets) {
      const mine = this.held.get(tp(o.topic, o.partition))!;
      const now = current.get(tp(o.topic, o.partition));
      if (now !== mine) {
        this.held.delete(tp(o.topic, o.partition));
        throw this.fenced(o, `its epoch is ${now ?? "gone"} in ${this.target.where} (${this.table}), this task holds ${mine}: another task or instance claimed it`);
      }
    }
    const upsert =
      this.target.dialect === "postgres"
        ? `ON CONFLICT (connector, topic, ${this.partition}) DO UPDATE SET next_offset = EXCLUDED.next_offset`
        : "ON DUPLICATE KEY UPDATE next_offset = VALUES(next_offset)";
    const values = offsets.map(() => "(?, ?, ?, ?, ?)").join(", ");
    const params = offsets.flatMap((o) => [this.connector, o.topic, o.partition, o.offset, this.held.get(tp(o.topic, o.partition))!.toString()]);
    await this.target.query(this.sql(`INSERT INTO ${this.table} (connector, topic, ${this.partition}, next_offset, epoch) VALUES ${values} ${upsert}`), params);
  }

  private matching(partitions: readonly TopicPartition[]): string {
    return partitions.map(() => `(topic = ? AND ${this.partition} = ?)`).join(" OR ");
  }

  private fenced(p: TopicPartition, why: string): FencedError {
    return new FencedError(`partition ${p.topic}/${p.partition}: ${why}`, {
      connector: this.connector,
      partitions: [{ topic: p.topic, partition: p.partition }],
      fix: "only one task of a connector may write a partition; this one leaves it to the newer one",
    });
  }

  private sql(text: string): string {
    return this.target.placeholders(text);
  }
}
