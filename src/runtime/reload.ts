import type { ConnectorConfig, LoadedConfig } from "./config/load.js";
import { stableJson } from "./json.js";

/** What a new config changes about the connectors that should run. */
export interface ConfigDiff {
  added: ConnectorConfig[];
  removed: string[];
  /** Enabled before and after, with a different parsed config: restarted with the new one. */
  changed: ConnectorConfig[];
  /** Top-level blocks other than `connectors` that differ: they take effect at the next start only. */
  rootChanged: string[];
}

/**
 * Compares two configs by their parsed values, so a reformatted file, reordered keys or a default
 * written out change nothing. A disabled connector counts as absent.
 */
export function diffConfigs(previous: LoadedConfig, next: LoadedConfig): ConfigDiff {
  const before = enabledByName(previous);
  const after = enabledByName(next);
  const added = [...after.values()].filter((c) => !before.has(c.name));
  const removed = [...before.keys()].filter((name) => !after.has(name));
  const changed = [...after.values()].filter((c) => {
    const old = before.get(c.name);
    return old !== undefined && (old.type !== c.type || stableJson(old.config) !== stableJson(c.config));
  });
  const keys = new Set([...Object.keys(previous.root), ...Object.keys(next.root)]);
  keys.delete("connectors");
  const rootChanged = [...keys].filter(
    (k) => stableJson((previous.root as Record<string, unknown>)[k]) !== stableJson((next.root as Record<string, unknown>)[k]),
  );
  return { added, removed, changed, rootChanged };
}

export const isEmptyDiff = (d: ConfigDiff): boolean =>
  d.added.length === 0 && d.removed.length === 0 && d.changed.length === 0 && d.rootChanged.length === 0;

function enabledByName(config: LoadedConfig): Map<string, ConnectorConfig> {
  return new Map(config.connectors.filter((c) => c.config.enabled).map((c) => [c.name, c]));
}
