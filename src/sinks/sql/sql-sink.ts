import { performance } from "node:perf_hooks";
import type { DatabaseConnection } from "../../runtime/config/fields.js";
import type { ConnectorStatus, Sink, SinkBatch, SinkContext, TopicPartition, TopicPartitionOffset, TopicSchema } from "../../runtime/connector.js";
import { changeView, rowSchemaOfValue } from "./changes.js";
import type { Dialect } from "../../runtime/sql-types/mapping.js";
import type { SqlSinkConfig } from "./config.js";
import { MysqlTarget } from "./mysql.js";
import { OffsetsTable } from "./offsets-table.js";
import { applyWrites, Planner } from "./plan.js";
import { PostgresTarget } from "./postgres.js";
import { tableRefOf, resolveTable } from "./table-name.js";
import { Tables } from "./tables.js";
import type { SqlTarget } from "./target.js";

export function createTarget(dialect: Dialect, connection: DatabaseConnection, connector: string, maxStatementBytes = 4 * 1024 * 1024): SqlTarget {
  return dialect === "postgres" ? new PostgresTarget(connection, connector, maxStatementBytes) : new MysqlTarget(connection, connector, maxStatementBytes);
}

/**
 * Kafka → PostgreSQL or MySQL/MariaDB, exactly once: each batch's rows and the next offsets are
 * written in one target transaction, fenced by the epochs this task claimed for its partitions.
 */
export class SqlSink implements Sink {
  private readonly target: SqlTarget;
  private readonly offsetsTable: OffsetsTable;
  private readonly tables: Tables;
  private readonly planner: Planner;
  /** Set by a failure that may have cut the connection, or left a commit's outcome unknown. */
  private broken = false;
  private written = 0;
  readonly valueView = changeView;

  constructor(
    private readonly config: SqlSinkConfig,
    private readonly ctx: SinkContext,
  ) {
    this.target = createTarget(config.dialect, config.connection, ctx.connector, config.maxStatementBytes);
    this.offsetsTable = new OffsetsTable(this.target, tableRefOf(config.offsetsTable), ctx.connector);
    this.tables = new Tables(this.target, config, ctx.log);
    this.planner = new Planner(this.tables, config);
  }

  async open(): Promise<void> {
    await this.target.connect();
  }

  offsets(topics: readonly string[]): Promise<TopicPartitionOffset[]> {
    return this.offsetsTable.read(topics);
  }

  async claim(partitions: readonly TopicPartition[]): Promise<TopicPartitionOffset[]> {
    try {
      return await this.offsetsTable.claim(partitions);
    } catch (err) {
      throw this.target.classify(err, `claiming ${partitions.length} partition(s)`);
    }
  }

  release(partitions: readonly TopicPartition[]): void {
    this.offsetsTable.release(partitions);
  }

  /** The tables that exist already, against the schemas their topics have now (tables.ts checkColumns). */
  async check(topics: readonly TopicSchema[]): Promise<void> {
    for (const { topic, valueSchema } of topics) {
      let schema;
      try {
        schema = rowSchemaOfValue(valueSchema, topic);
      } catch {
        continue; // not rows: the first record says so, with its offset
      }
      const state = await this.tables.state(resolveTable(this.config.table, topic, undefined, this.config.dialect));
      if (state.table) this.tables.checkColumns(state, schema, this.config.keyColumns ?? state.table.primaryKey);
    }
  }

  async write(batch: SinkBatch): Promise<void> {
    try {
      if (this.broken) {
        await this.recover();
        if (await this.committed(batch.offsets)) return;
      }
      const writes = await this.planner.plan(batch.records);
      const started = performance.now();
      await this.target.transaction(async () => {
        for (const w of writes) {
          try {
            await applyWrites(this.target, w, this.config.mode);
          } catch (err) {
            throw this.target.classify(err, `writing ${w.records} record(s) to table ${w.state.label}`);
          }
        }
        await this.offsetsTable.commit(batch.offsets);
      });
      this.ctx.metrics.observe("commit", (performance.now() - started) / 1000);
      for (const w of writes) this.ctx.metrics.recordsIn(w.state.label, w.records);
      this.written += batch.records.length;
    } catch (err) {
      const e = this.target.classify(err, `writing a batch of ${batch.records.length} record(s)`);
      // a dropped connection can take a COMMIT with it: the next attempt first asks the target
      if (e.retriable) this.broken = true;
      throw e;
    }
  }

  async close(): Promise<void> {
    await this.target.close();
  }

  status(): ConnectorStatus {
    return { target: this.target.where, partitions: this.offsetsTable.holding(), tables: this.tables.names(), written: this.written };
  }

  private async recover(): Promise<void> {
    await this.target.close();
    await this.target.connect();
    this.tables.reset();
    this.broken = false;
  }

  /** Whether the target already holds offsets at or past the batch's: its commit went through. */
  private async committed(offsets: readonly TopicPartitionOffset[]): Promise<boolean> {
    const stored = await this.offsetsTable.read([...new Set(offsets.map((o) => o.topic))]);
    return offsets.every((o) => {
      const s = stored.find((x) => x.topic === o.topic && x.partition === o.partition);
      return s !== undefined && BigInt(s.offset) >= BigInt(o.offset);
    });
  }
}
