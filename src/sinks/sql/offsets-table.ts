/**
 * The sink's offsets and its fencing epoch, kept in the target database (DESIGN.md §5):
 * `liberator_offsets(connector, topic, partition, next_offset, epoch)`. One row per partition holds
 * the next offset to read; one row per connector (topic '' and partition -1) holds the epoch of
 * the instance that owns it. `claim()` makes a new epoch; every batch locks the connector's row,
 * compares, and writes the partitions' offsets in the batch's own transaction. An older instance
 * (a frozen process that woke up after another took over) then fails on the epoch instead of
 * writing: the row lock orders it either wholly before the takeover or refuses it after.
 */
import type { TopicPartitionOffset } from "../../runtime/connector.js";
import { classifyDbError } from "../../runtime/db/errors.js";
import { FencedError } from "../../runtime/errors.js";
import type { SqlTarget, TableRef } from "./target.js";

const CLAIM_TOPIC = "";
const CLAIM_PARTITION = -1;

export class OffsetsTable {
  private readonly table: string;
  private readonly partition: string;

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

  /**
   * A new epoch for this connector, committed at once: from here on older instances cannot write.
   * The table is created only when the claim finds it missing: every start but the first (a
   * hand-over among them) then opens with this one statement.
   */
  async claim(): Promise<bigint> {
    try {
      return await this.claimEpoch();
    } catch (err) {
      if (classifyDbError(err) !== "table-missing") throw err;
      await this.create();
      return this.claimEpoch();
    }
  }

  private async claimEpoch(): Promise<bigint> {
    const key = [this.connector, CLAIM_TOPIC, CLAIM_PARTITION];
    const insert = `INSERT INTO ${this.table} (connector, topic, ${this.partition}, next_offset, epoch) VALUES (?, ?, ?, 0, 1)`;
    if (this.target.dialect === "postgres") {
      const [row] = await this.target.query(this.sql(`${insert} ON CONFLICT (connector, topic, ${this.partition}) DO UPDATE SET epoch = ${this.table}.epoch + 1 RETURNING epoch`), key);
      return BigInt(row!.epoch as string | number);
    }
    return this.target.transaction(async () => {
      await this.target.query(this.sql(`${insert} ON DUPLICATE KEY UPDATE epoch = epoch + 1`), key);
      return (await this.epochRow(false))!;
    });
  }

  /** The stored next offsets of these topics' partitions. */
  async read(topics: readonly string[]): Promise<TopicPartitionOffset[]> {
    if (topics.length === 0) return [];
    const rows = await this.target.query(
      this.sql(`SELECT topic, ${this.partition} AS p, next_offset FROM ${this.table} WHERE connector = ? AND topic IN (${topics.map(() => "?").join(", ")})`),
      [this.connector, ...topics],
    );
    return rows.map((r) => ({ topic: String(r.topic), partition: Number(r.p), offset: String(r.next_offset) }));
  }

  /**
   * Inside the batch's transaction: throws FencedError unless `epoch` still owns the connector,
   * then stores the offsets. The lock on the connector's row is held until the commit.
   */
  async commit(epoch: bigint, offsets: readonly TopicPartitionOffset[]): Promise<void> {
    const current = await this.epochRow(true);
    if (current !== epoch) {
      throw new FencedError(`the sink's epoch is ${current} in ${this.target.where} (${this.table}), this instance holds ${epoch}: another instance of the connector took over`, {
        connector: this.connector,
        fix: "only one instance of a connector may run; this one stops and leaves the target to the newer one",
      });
    }
    const upsert =
      this.target.dialect === "postgres"
        ? `ON CONFLICT (connector, topic, ${this.partition}) DO UPDATE SET next_offset = EXCLUDED.next_offset, epoch = EXCLUDED.epoch`
        : "ON DUPLICATE KEY UPDATE next_offset = VALUES(next_offset), epoch = VALUES(epoch)";
    const values = offsets.map(() => "(?, ?, ?, ?, ?)").join(", ");
    const params = offsets.flatMap((o) => [this.connector, o.topic, o.partition, o.offset, epoch.toString()]);
    if (offsets.length > 0) {
      await this.target.query(this.sql(`INSERT INTO ${this.table} (connector, topic, ${this.partition}, next_offset, epoch) VALUES ${values} ${upsert}`), params);
    }
  }

  private async epochRow(lock: boolean): Promise<bigint | null> {
    const rows = await this.target.query(
      this.sql(`SELECT epoch FROM ${this.table} WHERE connector = ? AND topic = ? AND ${this.partition} = ?${lock ? " FOR UPDATE" : ""}`),
      [this.connector, CLAIM_TOPIC, CLAIM_PARTITION],
    );
    const value = rows[0]?.epoch;
    return value === undefined || value === null ? null : BigInt(value as string | number);
  }

  private sql(text: string): string {
    return this.target.placeholders(text);
  }
}
