import { hostname } from "node:os";
import { Command } from "commander";
import { ClusterControl } from "../runtime/cluster/cluster-control.js";
import { loadCluster } from "../runtime/cluster/load.js";
import type { LoadedConfig } from "../runtime/config/load.js";
import type { ConnectorControl } from "../runtime/control.js";
import { ErrorCode, LiberatorError, toLiberatorError } from "../runtime/errors.js";
import type { errorBody } from "../runtime/http/connector-routes.js";
import { createLogger, type Logger } from "../runtime/log.js";
import { offsetChangeSchema, type OffsetChange, type OffsetsView } from "../runtime/offsets/connector-offsets.js";
import { schemaServiceFactory } from "../runtime/schema-registry/index.js";
import { Worker } from "../runtime/worker.js";
import { EXIT, loadOrExit } from "./load.js";

export interface OffsetsOptions {
  config: string;
  connector: string;
  position?: string;
  toEarliest?: boolean;
  toLatest?: boolean;
  toTime?: string;
  topic?: string;
  partition?: string;
  offset?: string;
  force?: boolean;
}

type OffsetsControl = Pick<ConnectorControl, "offsets" | "setOffsets">;

/** The `offsets` command with its three actions, for src/cli.ts. */
export function offsetsCli(defaultConfig: string): Command {
  const offsets = new Command("offsets").description(
    "read or move a connector's offsets: a source's position, a sink's offsets per partition (refused while it runs, unless --force)",
  );
  const common = (c: Command) =>
    c
      .requiredOption("--connector <name>", "the connector")
      .option("-c, --config <file>", "the config file", defaultConfig);
  const run = (action: "get" | "set" | "reset") => async (opts: OffsetsOptions) => {
    process.exitCode = await offsetsCommand(action, opts);
  };
  common(offsets.command("get").description("print the connector's stored offsets (and a sink's lag per partition)")).action(run("get"));
  common(offsets.command("set").description("move the offsets; say where with exactly one of the options below"))
    .option("--position <json>", `a source's position in its type's shape, e.g. '{"seq": 100}' (docs/operations.md lists them)`)
    .option("--to-earliest", "a sink: read its topics from their first record")
    .option("--to-latest", "a sink: skip to the end of its topics")
    .option("--to-time <iso>", "a sink: read from the first record at or after this time, e.g. 2024-05-01T12:00:00Z")
    .option("--partition <n>", "a sink: the partition --offset applies to")
    .option("--offset <n>", "a sink: the next offset to read in --partition")
    .option("--topic <topic>", "a sink reading several topics: the topic of --partition")
    .option("--force", "stop the connector if it runs, move the offsets, and start it again from them")
    .action(run("set"));
  common(offsets.command("reset").description("a source starts afresh (e.g. snapshots again); a sink reads its topics from the beginning"))
    .option("--force", "stop the connector if it runs, reset, and start it again")
    .action(run("reset"));
  return offsets;
}

/**
 * `liberator offsets get|set|reset --connector NAME`. The change is made by whoever runs the
 * connector: the worker that runs it in cluster mode (through Redis), the running `liberator run`
 * (through its admin API), or this process when nothing runs it. A running connector is refused
 * unless --force, which stops it, moves the offsets and starts it again from them.
 */
export async function offsetsCommand(action: "get" | "set" | "reset", options: OffsetsOptions): Promise<number> {
  const config = loadOrExit(options.config);
  const name = options.connector;
  let change: OffsetChange | undefined;
  try {
    if (!config.connectors.some((c) => c.name === name)) {
      throw new LiberatorError(ErrorCode.CONNECTOR_UNKNOWN, `no connector "${name}" in ${options.config}`, {
        fix: `the connectors are: ${config.connectors.map((c) => c.name).join(", ") || "none"}`,
      });
    }
    change = action === "reset" ? { reset: true } : action === "set" ? changeFromOptions(options) : undefined;
  } catch (err) {
    process.stderr.write(`error: ${toLiberatorError(err, name).describe()}\n`);
    return EXIT.config;
  }
  const log = createLogger({ level: process.env.LOG_LEVEL ?? "warn" });
  const target = await controlFor(config, log);
  const { control } = target;
  try {
    const view: OffsetsView = change ? await control.setOffsets(name, change, options.force === true) : await control.offsets(name);
    process.stdout.write(`${JSON.stringify(view, null, 2)}\n`);
    return EXIT.ok;
  } catch (err) {
    const e = toLiberatorError(err, name);
    process.stderr.write(`error: ${e.describe()}\n`);
    return EXIT.failed;
  } finally {
    await target.close();
    log.flush();
  }
}

/** The one change the flags of `offsets set` describe. */
export function changeFromOptions(o: OffsetsOptions): OffsetChange {
  const given = [o.position !== undefined, o.toEarliest, o.toLatest, o.toTime !== undefined, o.offset !== undefined].filter(Boolean).length;
  if (given !== 1) {
    throw new LiberatorError(ErrorCode.OFFSETS_INVALID, "offsets set needs exactly one of --position, --to-earliest, --to-latest, --to-time, --offset", {
      fix: "a source takes --position '<json>'; a sink --to-earliest, --to-latest, --to-time <ISO time> or --partition N --offset M [--topic T]",
    });
  }
  let raw: unknown;
  if (o.position !== undefined) {
    try {
      raw = { position: JSON.parse(o.position) as unknown };
    } catch (err) {
      throw new LiberatorError(ErrorCode.OFFSETS_INVALID, `--position is not JSON: ${(err as Error).message}`, { fix: `quote it for the shell, e.g. --position '{"seq": 100}'` });
    }
  } else if (o.toEarliest || o.toLatest) {
    raw = { to: o.toEarliest ? "earliest" : "latest" };
  } else if (o.toTime !== undefined) {
    raw = { toTime: o.toTime };
  } else {
    if (o.partition === undefined) throw new LiberatorError(ErrorCode.OFFSETS_INVALID, "--offset needs --partition", { fix: "e.g. --partition 0 --offset 42" });
    raw = { offsets: [{ ...(o.topic === undefined ? {} : { topic: o.topic }), partition: o.partition, offset: o.offset }] };
  }
  const parsed = offsetChangeSchema.safeParse(raw);
  if (!parsed.success) {
    throw new LiberatorError(ErrorCode.OFFSETS_INVALID, parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "), {
      fix: "--to-time takes an ISO time with its zone, e.g. 2024-05-01T12:00:00Z; --partition and --offset whole numbers",
    });
  }
  return parsed.data;
}

async function controlFor(config: LoadedConfig, log: Logger): Promise<{ control: OffsetsControl; close(): Promise<void> }> {
  const worker = new Worker(config, { log, schemas: schemaServiceFactory, id: `cli-${hostname()}-${process.pid}` });
  const cluster = config.root.cluster;
  if (cluster) {
    const { ClusterClient } = await loadCluster();
    const client = new ClusterClient(cluster, worker.id, log);
    await client.bus.start();
    return { control: new ClusterControl(worker, client), close: () => Promise.all([client.close(), worker.closeShared()]).then(() => undefined) };
  }
  const daemon = await runningDaemon(config, log);
  return { control: daemon ?? worker, close: () => worker.closeShared() };
}

/**
 * The admin API of a `liberator run` on this config, if one answers: it runs the connectors, so it
 * must make the change. Nothing answering means nothing runs them.
 */
async function runningDaemon(config: LoadedConfig, log: Logger): Promise<OffsetsControl | undefined> {
  const { admin } = config.root;
  if (!admin.enabled) {
    log.warn("admin.enabled is false: cannot ask a running liberator whether it runs the connector; stop it first if it does");
    return undefined;
  }
  const host = admin.host === "0.0.0.0" || admin.host === "::" ? "127.0.0.1" : admin.host;
  const base = `http://${host.includes(":") ? `[${host}]` : host}:${admin.port}`;
  const headers: Record<string, string> = { "content-type": "application/json", ...(admin.token ? { authorization: `Bearer ${admin.token}` } : {}) };
  const reachable = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2000) }).then(
    (r) => r.ok,
    () => false,
  );
  if (!reachable) return undefined;
  const call = async (method: "GET" | "PUT", name: string, query = "", body?: unknown): Promise<OffsetsView> => {
    const res = await fetch(`${base}/connectors/${encodeURIComponent(name)}/offsets${query}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const answer = (await res.json()) as OffsetsView | ReturnType<typeof errorBody>;
    if ("error" in answer) {
      const { code, message, ...options } = answer;
      throw new LiberatorError(code, message, options);
    }
    return answer;
  };
  return {
    offsets: (name) => call("GET", name),
    setOffsets: (name, change, force) => call("PUT", name, force ? "?force=true" : "", change),
  };
}
