import { EXIT, loadOrExit } from "./load.js";

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
  const { root } = loadOrExit(options.config);
  const host = root.admin.host === "0.0.0.0" ? "127.0.0.1" : root.admin.host;
  const base = (options.url ?? `http://${host}:${root.admin.port}`).replace(/\/$/, "");
  const url = `${base}/connectors/${encodeURIComponent(connector)}/snapshot`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...(root.admin.token ? { authorization: `Bearer ${root.admin.token}` } : {}) },
      body: JSON.stringify({ tables: options.table }),
    });
  } catch (err) {
    process.stderr.write(`cannot reach the admin API at ${base}: ${(err as Error).message} (is \`liberator run\` running with this config? use --url otherwise)\n`);
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
