import { adminEndpoint, unreachable } from "./admin-client.js";
import { EXIT } from "./load.js";

export interface SnapshotOptions {
  config: string;
  table: string[];
  /** The admin API; from the config's admin block when unset. */
  url?: string;
}

/**
 * `liberator snapshot <connector> --table db.t`: asks the running daemon (its admin API) for an
 * incremental snapshot of tables while the connector keeps streaming.
 */
export async function snapshotCommand(connector: string, options: SnapshotOptions): Promise<number> {
  const { base, headers } = adminEndpoint(options);
  const url = `${base}/connectors/${encodeURIComponent(connector)}/snapshot`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ tables: options.table }),
    });
  } catch (err) {
    process.stderr.write(unreachable(base, err));
    return EXIT.failed;
  }
  const body = (await response.json().catch(() => ({}))) as { error?: string; message?: string; result?: { queued?: string[] } };
  if (!response.ok) {
    process.stderr.write(`snapshot refused (${response.status}): ${body.error ?? body.message ?? response.statusText}\n`);
    return EXIT.failed;
  }
  process.stdout.write(`snapshot of ${options.table.join(", ")} accepted by connector "${connector}"; queued: ${(body.result?.queued ?? options.table).join(", ")}\n`);
  return EXIT.ok;
}
