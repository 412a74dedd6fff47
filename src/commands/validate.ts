import { adminExposure } from "../runtime/http/admin-auth.js";
import { createLogger } from "../runtime/log.js";
import { formatPreflight, preflight } from "../runtime/preflight.js";
import { checkPatchesOrExit, EXIT, loadOrExit } from "./load.js";

/** `liberator validate`: the config, then every server it names. */
export async function validateCommand(file: string, options: { offline?: boolean }): Promise<number> {
  checkPatchesOrExit();
  const config = loadOrExit(file);
  process.stdout.write(`ok   ${file}: ${config.connectors.length} connector(s): ${config.connectors.map((c) => `${c.name} (${c.type})`).join(", ")}\n`);
  const exposed = adminExposure(config.root.admin);
  if (exposed) process.stdout.write(`warn admin: ${exposed.message}\n       fix: ${exposed.fix}\n`);
  if (options.offline) return EXIT.ok;
  const log = createLogger({ level: process.env.LOG_LEVEL ?? "error" });
  const report = await preflight(config, log);
  process.stdout.write(`${formatPreflight(report)}\n`);
  return report.ok ? EXIT.ok : EXIT.failed;
}
