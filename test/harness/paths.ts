import { fileURLToPath } from "node:url";
import path from "node:path";

/** The repository root, found from this file so the harness works from any working directory. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Git-ignored cache: Kafka jars, initialized database templates, the dev servers' state file. */
export const cacheDir = path.join(repoRoot, ".cache");
export const harnessCacheDir = path.join(cacheDir, "harness");
export const templatesDir = path.join(harnessCacheDir, "templates");
export const serversStateFile = path.join(harnessCacheDir, "servers.json");
