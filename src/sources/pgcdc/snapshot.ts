/**
 * The snapshot phase: the captured tables in primary-key chunks (runtime/db/chunked-snapshot.ts),
 * read inside ONE repeatable-read transaction that imported a slot's exported snapshot, so the
 * rows stand exactly at the slot's consistent point and streaming from there neither misses nor
 * repeats a change.
 */
import type pg from "pg";
import type { ChangeRecord, Json, SourceContext } from "../../runtime/connector.js";
import { ChunkedSnapshot, RowRate, type Chunk, type ChunkReader, type SnapshotProgress } from "../../runtime/db/chunked-snapshot.js";
import { quotePg } from "../../runtime/db/identifiers.js";
import { estimatePgTable, pgIntegerRange } from "../../runtime/db/introspect.js";
import { PG_READ_OPTIONS, pgConnect } from "../../runtime/db/postgres.js";
import type { PgcdcConfig } from "./config.js";
import { formatLsn } from "./pgoutput.js";
import { splitName, type CapturedTable, type TableVersions } from "./tables.js";

export class SnapshotReader {
  private client: pg.Client | undefined;
  private readonly chunks: ChunkedSnapshot<CapturedTable>;
  private readonly rate: RowRate;

  constructor(
    private readonly config: PgcdcConfig,
    private readonly ctx: SourceContext,
    private readonly versions: TableVersions,
    /** The LSN the rows stand at (the slot's consistent point). */
    private readonly at: bigint,
    progress: SnapshotProgress,
  ) {
    this.rate = new RowRate(config.snapshot.maxRowsPerSecond, ctx.signal);
    this.chunks = new ChunkedSnapshot(this.reader, ctx, config.snapshot.chunkSize, progress);
  }

  /** Opens the read transaction on the exported snapshot; the exporting connection must still be open and idle. */
  async open(snapshot: string): Promise<void> {
    this.client = await pgConnect(this.config.connection, this.ctx.connector, PG_READ_OPTIONS);
    this.client.on("error", () => undefined);
    await this.client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    await this.client.query(`SET TRANSACTION SNAPSHOT '${snapshot.replace(/'/g, "''")}'`);
  }

  get current(): SnapshotProgress {
    return this.chunks.current;
  }

  /** The next chunk, or null when every table is copied. */
  next(): Promise<{ records: ChangeRecord[]; progress: SnapshotProgress } | null> {
    return this.chunks.next();
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.query("COMMIT").catch(() => undefined);
    await client?.end().catch(() => undefined);
  }

  private readonly reader: ChunkReader<CapturedTable> = {
    start: async (name) => {
      const client = this.client!;
      const captured = await this.versions.describe(client, name);
      if (!captured) return undefined;
      await this.versions.check(captured);
      const [schema, table] = splitName(name);
      const estimate = await estimatePgTable(client, schema, table);
      const first = captured.primaryKey[0];
      const keyRange = first === undefined ? undefined : await pgIntegerRange(client, schema, table, first);
      return { captured, keyless: captured.primaryKey.length === 0, estimate: { ...estimate, keyRange } };
    },
    read: (captured, lastKey, rows) => readChunk(this.client!, captured, lastKey, rows),
    source: (t) => ({ connector: "pgcdc", name: this.ctx.connector, db: t.schema, table: t.table, file: formatLsn(this.at), pos: null, gtid: null, row: null, snapshot: "true", ts_ms: Date.now(), txId: null }),
    pace: () => this.rate.before(),
    afterChunk: (rows) => this.rate.read(rows),
  };
}

/**
 * `WHERE (k1, k2) > ($1, $2) ORDER BY k1, k2 LIMIT n`: a row comparison PostgreSQL reads as an
 * index range scan, and a restart goes on after the last key committed (the server's text of each
 * key column). Without a primary key, LIMIT/OFFSET inside the one snapshot (a restart reads the
 * table again from its start).
 */
export async function readChunk(client: pg.Client, t: CapturedTable, lastKey: Json[] | null, size: number): Promise<Chunk> {
  const select = t.stream.columns.map((c) => `${c.select(quotePg(c.column))} AS ${quotePg(c.column)}`).join(", ");
  const from = `${quotePg(t.schema)}.${quotePg(t.table)}`;
  const key = t.primaryKey;
  let sql: string;
  let params: unknown[] = [];
  if (key.length > 0) {
    const cols = key.map(quotePg).join(", ");
    const where = lastKey ? ` WHERE (${cols}) > (${key.map((_, i) => `$${i + 1}`).join(", ")})` : "";
    params = lastKey ?? [];
    sql = `SELECT ${select} FROM ${from}${where} ORDER BY ${cols} LIMIT ${size}`;
  } else {
    const offset = lastKey ? Number(lastKey[0]) : 0;
    sql = `SELECT ${select} FROM ${from} LIMIT ${size} OFFSET ${offset}`;
  }
  const { rows } = await client.query<Record<string, unknown>>(sql, params);
  const lastRow = rows[rows.length - 1];
  let next: Json[] | null = lastKey;
  if (lastRow) next = key.length > 0 ? key.map((k) => lastRow[k] as string) : [(lastKey ? Number(lastKey[0]) : 0) + rows.length];
  return { rows, lastKey: next, last: rows.length < size };
}
