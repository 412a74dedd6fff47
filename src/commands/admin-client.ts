/**
 * How the commands that talk to a running daemon (`snapshot`, `status`) find its admin API: `--url`,
 * or the config's admin block; the token from the config, or LIBERATOR_ADMIN_TOKEN with `--url`
 * and no config.
 */
import { existsSync } from "node:fs";
import { loadOrExit } from "./load.js";

export interface AdminEndpoint {
  base: string;
  headers: Record<string, string>;
}

export function adminEndpoint(options: { config: string; url?: string }): AdminEndpoint {
  // with --url the config is optional: `liberator status --url …` from another machine
  const root = options.url && !existsSync(options.config) ? undefined : loadOrExit(options.config).root;
  const token = root?.admin.token ?? process.env.LIBERATOR_ADMIN_TOKEN;
  const host = root?.admin.host === "0.0.0.0" ? "127.0.0.1" : root?.admin.host;
  const base = (options.url ?? `http://${host}:${root?.admin.port}`).replace(/\/$/, "");
  return { base, headers: token ? { authorization: `Bearer ${token}` } : {} };
}

export function unreachable(base: string, err: unknown): string {
  return `cannot reach the admin API at ${base}: ${(err as Error).message} (is \`liberator run\` running with this config? use --url otherwise)\n`;
}
