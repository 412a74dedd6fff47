import ZongJi, { type AnyBinlogEvent } from "@vlasky/zongji";
import { MYSQL_READ_OPTIONS } from "../../src/runtime/db/mysql.js";
import { EVENTS } from "../../src/sources/binlog/binlog-reader.js";
import type { HarnessInfo } from "../../test/harness/start.js";
import { timed, type Ceiling } from "./timed.js";

/**
 * zongji alone, as the source sets it up (same options and events, FULL metadata), decoding the
 * events from `start` until `rows` rows of `table` have been seen: the decoding ceiling.
 */
export async function zongjiAlone(server: HarnessInfo["mariadb"], start: { file: string; pos: number }, database: string, table: string, rows: number): Promise<Ceiling> {
  // the source's options: mysqlOptions() (MYSQL_READ_OPTIONS, UTC) and date strings
  const zongji = new ZongJi({ ...server, ...MYSQL_READ_OPTIONS, timezone: "Z", dateStrings: true });
  let seen = 0;
  let stall: NodeJS.Timeout | undefined;
  try {
    return await timed(rows, async () => {
      await new Promise<void>((resolve, reject) => {
        // rows that never come fail the run, as they do Liberator's
        let counted = -1;
        stall = setInterval(() => {
          if (seen === counted) reject(new Error(`zongji alone saw ${seen} of ${rows} rows of ${table} and nothing more for 60 s`));
          counted = seen;
        }, 60_000);
        zongji.on("error", reject);
        zongji.on("binlog", (event: AnyBinlogEvent) => {
          if (event.getTypeName() === "WriteRows" && "tableMap" in event) {
            const e = event as AnyBinlogEvent & { tableId: number; tableMap: Record<number, { tableName: string }>; rows: unknown[] };
            if (e.tableMap[e.tableId]?.tableName === table) seen += e.rows.length;
            if (seen >= rows) resolve();
          }
        });
        zongji.start({ serverId: 6_000_000 + Math.floor(Math.random() * 1_000_000), filename: start.file, position: start.pos, includeEvents: EVENTS, includeSchema: { [database]: true } });
      });
    });
  } finally {
    clearInterval(stall);
    zongji.stop();
  }
}
