import { checkClusterRedis } from "./cluster/load.js";
import type { LoadedConfig } from "./config/load.js";
import { withAdmin } from "./kafka/admin.js";
import { createKafka } from "./kafka/client.js";
import type { Logger } from "./log.js";
import type { PreflightCheck } from "./registry.js";

export interface PreflightReport {
  kafka: PreflightCheck;
  /** The cluster's Redis, when `cluster:` is set. */
  cluster: PreflightCheck[];
  connectors: { name: string; type: string; checks: PreflightCheck[] }[];
  ok: boolean;
}

/**
 * What `liberator validate` does after the config parses: every server the config names is asked,
 * in parallel, whether it will work: reachable, credentials, privileges, settings.
 */
export async function preflight(config: LoadedConfig, log: Logger): Promise<PreflightReport> {
  const [kafka, cluster, connectors] = await Promise.all([
    checkKafka(config, log),
    config.root.cluster ? checkClusterRedis(config.root.cluster.redis) : Promise.resolve([]),
    Promise.all(
      config.connectors.map(async (c) => {
        const checks = c.spec.preflight
          ? await c.spec.preflight(c.config, { connector: c.name, log: log.child({ connector: c.name }) }).catch(
              (err: unknown): PreflightCheck[] => [{ check: "preflight", ok: false, message: (err as Error).message }],
            )
          : [];
        return { name: c.name, type: c.type, checks };
      }),
    ),
  ]);
  const failed = (c: PreflightCheck) => !c.ok && c.severity !== "warning";
  const ok = !failed(kafka) && !cluster.some(failed) && connectors.every((c) => !c.checks.some(failed));
  return { kafka, cluster, connectors, ok };
}

async function checkKafka(config: LoadedConfig, log: Logger): Promise<PreflightCheck> {
  const { brokers } = config.root.kafka;
  const kafka = createKafka(config.root.kafka, log, "preflight", { retry: { retries: 1, initialRetryTime: 200 } });
  try {
    const cluster = await withAdmin(kafka, (admin) => admin.describeCluster());
    return {
      check: "kafka",
      ok: true,
      message: `Kafka at ${brokers.join(",")}: cluster ${cluster.clusterId}, ${cluster.brokers.length} broker(s)`,
    };
  } catch (err) {
    const cause = (err as { cause?: Error }).cause ?? (err as Error);
    return {
      check: "kafka",
      ok: false,
      message: `cannot reach Kafka at ${brokers.join(",")}: ${cause.message}`,
      fix: "check kafka.brokers, that the brokers are up, and kafka.ssl / kafka.sasl",
    };
  }
}

export function formatPreflight(report: PreflightReport): string {
  const mark = (c: PreflightCheck) => (c.ok ? "ok  " : c.severity === "warning" ? "warn" : "FAIL");
  const line = (c: PreflightCheck, who = "") => `${mark(c)} ${who}${c.message}${!c.ok && c.fix ? `\n       fix: ${c.fix}` : ""}`;
  const lines = [line(report.kafka), ...report.cluster.map((c) => line(c, "cluster: "))];
  for (const c of report.connectors) {
    if (c.checks.length === 0) lines.push(`ok   connector "${c.name}" (${c.type}): nothing to check`);
    for (const check of c.checks) lines.push(line(check, `connector "${c.name}": ${check.check}: `));
  }
  return lines.join("\n");
}
