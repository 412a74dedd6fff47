import logUpdate from "log-update";
import type { StatusDocument } from "../runtime/control.js";
import { adminEndpoint, unreachable } from "./admin-client.js";
import { EXIT } from "./load.js";
import { followStatus } from "./status-stream.js";
import { renderStatus } from "./status-view.js";

export interface StatusOptions {
  config: string;
  url?: string;
  watch?: boolean;
  json?: boolean;
  /** How often the daemon looks for changes while watching, in ms. */
  everyMs?: number;
}

/**
 * `liberator status`: every connector of the running daemon (in cluster mode, of the cluster) with
 * a progress bar and ETA per table a snapshot copies, and the lag of the rest. `--watch` follows
 * `/status/stream`: on a terminal the table is redrawn in place, elsewhere each change is printed
 * as plain text (so a log or a pipe gets no escape codes). `--json` prints the documents as they are.
 */
export async function statusCommand(options: StatusOptions): Promise<number> {
  const { base, headers } = adminEndpoint(options);
  const tty = process.stdout.isTTY === true;
  const show = (doc: StatusDocument) => {
    if (options.json) process.stdout.write(`${JSON.stringify(doc, null, options.watch ? undefined : 2)}\n`);
    else if (tty && options.watch) logUpdate(renderStatus(doc, { unicode: true }).trimEnd());
    else process.stdout.write(`${renderStatus(doc, { unicode: tty })}${options.watch ? "\n" : ""}`);
  };
  try {
    if (!options.watch) {
      const res = await fetch(`${base}/status`, { headers });
      if (!res.ok) {
        process.stderr.write(`status refused (${res.status}): ${await res.text()}\n`);
        return EXIT.failed;
      }
      show((await res.json()) as StatusDocument);
      return EXIT.ok;
    }
    const stop = new AbortController();
    const interrupted = () => stop.abort();
    process.once("SIGINT", interrupted);
    process.once("SIGTERM", interrupted);
    try {
      await followStatus(`${base}/status/stream${options.everyMs ? `?everyMs=${options.everyMs}` : ""}`, headers, show, stop.signal);
    } finally {
      if (tty && !options.json) logUpdate.done();
    }
    if (stop.signal.aborted) return EXIT.ok;
    process.stderr.write(`the admin API at ${base} closed the stream (the daemon stopped?)\n`);
    return EXIT.failed;
  } catch (err) {
    process.stderr.write(unreachable(base, err));
    return EXIT.failed;
  }
}
