import { loadConfig, type LoadedConfig } from "../runtime/config/load.js";
import { ConfigError, LiberatorError } from "../runtime/errors.js";
import { checkPatches } from "../runtime/patches.js";

/** Exit codes: 0 fine, 1 a check or the run failed, 2 the config cannot be used. */
export const EXIT = { ok: 0, failed: 1, config: 2 } as const;

/** Loads the config or prints every problem in it and exits 2. */
export function loadOrExit(file: string): LoadedConfig {
  try {
    return loadConfig(file);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.problems.length} problem(s) in ${file}:\n${err.problems.map((p) => `  ${p}`).join("\n")}\n`);
      process.exit(EXIT.config);
    }
    throw err;
  }
}

/** Exits 1 with what to do when the installed dependencies lack a patch of patches/. */
export function checkPatchesOrExit(): void {
  try {
    checkPatches();
  } catch (err) {
    if (err instanceof LiberatorError) {
      process.stderr.write(`${err.describe()}\n`);
      process.exit(EXIT.failed);
    }
    throw err;
  }
}
