import { setTimeout as sleep } from "node:timers/promises";
import type pg from "pg";
import type { DatabaseConnection } from "../../runtime/config/fields.js";
import { pgConnect } from "../../runtime/db/postgres.js";
import type { Logger } from "../../runtime/log.js";
import { backoffDelay, DEFAULT_RETRY } from "../../runtime/retry.js";
import { notifyTriggerQuery, type NotifyNames } from "./ddl.js";
import { quoteIdentifier, type TableName } from "../../runtime/db/identifiers.js";
import { AdaptivePoll, type Waker } from "./wake.js";

/**
 * PostgreSQL: a dedicated connection LISTENs on the channel the outbox's trigger NOTIFYs at each
 * committing insert, so an idle relay wakes within a millisecond of the application's commit.
 * A poll every `max` ms stays as a safety net. When the listening connection drops, the relay
 * polls adaptively (as on MySQL) and a reconnect runs in the background with backoff; once it
 * listens again it polls once, for what was committed while it was deaf.
 */
export class NotifyWaker implements Waker {
  private client: pg.Client | undefined;
  private pending = false;
  private wakeUp: (() => void) | undefined;
  private readonly closing = new AbortController();
  private readonly fallback: AdaptivePoll;

  private constructor(
    private readonly conn: DatabaseConnection,
    private readonly names: NotifyNames,
    private readonly max: number,
    min: number,
    private readonly log: Logger,
    private readonly connector: string,
  ) {
    this.fallback = new AdaptivePoll(min, max);
  }

  /**
   * Listens when the outbox has the trigger `outbox init` creates; undefined (poll instead) when
   * it has none, with a warning that says how to add it.
   */
  static async start(conn: DatabaseConnection, table: TableName, names: NotifyNames, poll: { min: number; max: number }, log: Logger, connector: string): Promise<NotifyWaker | undefined> {
    const waker = new NotifyWaker(conn, names, poll.max, poll.min, log, connector);
    const client = await waker.connect();
    const { rows } = await client.query(notifyTriggerQuery(table, names.channel));
    if (rows.length === 0) {
      await client.end().catch(() => undefined);
      log.warn(
        { table: `${table.schema}.${table.table}`, channel: names.channel },
        "the outbox has no trigger that NOTIFYs its channel: polling instead (latency up to pollIntervalMs when idle); create it with `liberator outbox init --apply`",
      );
      return undefined;
    }
    await waker.listen(client);
    log.info({ channel: names.channel }, "listening for NOTIFY from the outbox trigger");
    return waker;
  }

  get mode(): "notify" | "poll" {
    return this.client ? "notify" : "poll";
  }

  polling(): void {
    this.pending = false;
  }

  async wait(signal: AbortSignal): Promise<void> {
    if (!this.client) return this.fallback.wait(signal);
    if (this.pending || signal.aborted) return;
    const ac = new AbortController();
    const done = () => ac.abort();
    this.wakeUp = done;
    signal.addEventListener("abort", done, { once: true });
    await sleep(this.max, undefined, { signal: ac.signal }).catch(() => undefined);
    signal.removeEventListener("abort", done);
    this.wakeUp = undefined;
  }

  busy(): void {
    this.fallback.busy();
  }

  async close(): Promise<void> {
    this.closing.abort();
    this.wakeUp?.();
    await this.client?.end().catch(() => undefined);
    this.client = undefined;
  }

  private async connect(): Promise<pg.Client> {
    return pgConnect(this.conn, this.connector);
  }

  private async listen(client: pg.Client): Promise<void> {
    client.on("notification", () => {
      this.pending = true;
      this.wakeUp?.();
    });
    client.on("error", (err) => this.lost(client, err));
    client.on("end", () => this.lost(client));
    await client.query(`LISTEN ${quoteIdentifier(this.names.channel, "postgres")}`);
    this.client = client;
  }

  private lost(client: pg.Client, err?: Error): void {
    if (this.client !== client || this.closing.signal.aborted) return;
    this.client = undefined;
    this.wakeUp?.();
    this.log.warn({ err: err?.message }, "lost the LISTEN connection: polling until it is back");
    void this.reconnect();
  }

  private async reconnect(): Promise<void> {
    const closing = this.closing.signal;
    for (let attempt = 0; ; attempt++) {
      await sleep(backoffDelay(attempt, { ...DEFAULT_RETRY, initialDelayMs: 500 }), undefined, { signal: closing }).catch(() => undefined);
      if (closing.aborted) return;
      let client: pg.Client | undefined;
      try {
        client = await this.connect();
        await this.listen(client);
      } catch {
        await client?.end().catch(() => undefined);
        continue; // keep polling; the next attempt waits longer
      }
      if (closing.aborted) {
        await this.close();
        return;
      }
      this.pending = true;
      this.log.info({ channel: this.names.channel }, "listening for NOTIFY again");
      return;
    }
  }
}
