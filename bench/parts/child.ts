/**
 * `node child.js RUN`: one part of parts/floor.ts alone, then its own peak RSS (VmHWM, read at its
 * end, when no sample can miss it) as a JSON line. Each part's module is imported alone, so the
 * process holds that part's libraries and nothing else.
 */
import { memoryOf } from "../proc.js";
import type { PartRun } from "./floor.js";

const run = JSON.parse(process.argv[2] ?? "{}") as PartRun;
switch (run.part) {
  case "zongji": {
    const { zongjiAlone } = await import("./zongji-alone.js");
    await zongjiAlone(run.server, run.start, run.database, run.table, run.rows);
    break;
  }
  case "producer": {
    const { bareProducer } = await import("./bare-producer.js");
    await bareProducer(run.brokers, run.shape);
    break;
  }
  case "select": {
    const { mysqlReader, plainMysqlRead } = await import("./plain-read.js");
    const conn = await mysqlReader(run.server, run.database);
    const read = await plainMysqlRead(conn, run.table, run.chunk, "query").finally(() => conn.end());
    if (read.rows !== run.rows) throw new Error(`the plain SELECT read ${read.rows} rows of ${run.table}, not ${run.rows}`);
    break;
  }
}
process.stdout.write(`${JSON.stringify({ peakMb: memoryOf(process.pid).peakKb / 1024 })}\n`);
