/**
 * What operators can do with connectors, whoever carries it out: the worker itself (one process),
 * or through Redis the worker that runs the connector (cluster mode). The admin API and
 * `liberator offsets` are written against this, once.
 */
import type { Json } from "./connector.js";
import type { ConnectorStatusReport } from "./connector-runner.js";
import { ErrorCode, LiberatorError } from "./errors.js";
import type { ConnectorProgress } from "./progress.js";
import type { OffsetChange, OffsetsView } from "./offsets/connector-offsets.js";

export interface ConnectorView extends Omit<ConnectorStatusReport, "state">, ConnectorProgress {
  /** `unassigned`: in the cluster's config, but no worker runs it right now. */
  state: ConnectorStatusReport["state"] | "unassigned";
  /** The worker that runs it; null when none does. */
  worker: string | null;
  /** A connector that runs as several tasks: each one's view (`GET /connectors/{name}`). */
  tasks?: ConnectorView[];
}

export interface ConnectorControl {
  list(): Promise<ConnectorView[]>;
  get(name: string): Promise<ConnectorView>;
  pause(name: string): Promise<ConnectorView>;
  resume(name: string): Promise<ConnectorView>;
  restart(name: string): Promise<ConnectorView>;
  /** A command that is the connector's own business, e.g. `snapshot` of one table. */
  command(name: string, command: string, args: Record<string, Json>): Promise<Json>;
  offsets(name: string): Promise<OffsetsView>;
  /**
   * Moves the offsets. A running connector is refused unless `force`, which stops it, writes, and
   * starts it again from the new offsets (paused if it was paused).
   */
  setOffsets(name: string, change: OffsetChange, force: boolean): Promise<OffsetsView>;
}

/**
 * A connector command's answer: one task's result alone, several tasks' as a list of
 * `{task, result}` by task key, asked one after the other.
 */
export async function answerPerTask<T>(tasks: readonly T[], keyOf: (task: T) => string, ask: (task: T) => Promise<Json>): Promise<Json> {
  if (tasks.length === 1) return ask(tasks[0]!);
  const results: Json[] = [];
  for (const task of tasks) results.push({ task: keyOf(task), result: await ask(task) });
  return results;
}

export function unknownConnector(name: string, known: readonly string[]): LiberatorError {
  return new LiberatorError(ErrorCode.CONNECTOR_UNKNOWN, `no connector "${name}" in the config`, {
    fix: known.length > 0 ? `the connectors are: ${known.join(", ")}` : "the config has no connectors",
  });
}

/** The HTTP status for an error code of the control operations. */
export function httpStatusOf(code: string): number {
  switch (code) {
    case ErrorCode.CONNECTOR_UNKNOWN:
      return 404;
    case ErrorCode.CONNECTOR_RUNNING:
    case ErrorCode.COMMAND_UNAVAILABLE:
      return 409;
    case ErrorCode.OFFSETS_INVALID:
      return 400;
    case ErrorCode.CLUSTER_TIMEOUT:
    case ErrorCode.WORKER_GONE:
    case ErrorCode.CLUSTER_CLOSED:
      return 503;
    default:
      return 500;
  }
}

/** `GET /status`: every connector's state and progress, in one document. */
export interface StatusDocument {
  at: string;
  connectors: ConnectorView[];
}

export async function statusDocument(control: ConnectorControl): Promise<StatusDocument> {
  const connectors = await control.list();
  return { at: new Date().toISOString(), connectors: connectors.sort((a, b) => a.name.localeCompare(b.name)) };
}
