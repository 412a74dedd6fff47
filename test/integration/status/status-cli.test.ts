/**
 * `liberator status` during a real snapshot: `--watch` on a terminal (a pseudo-terminal made by
 * `script`) redraws bars whose percentage grows and whose ETA shrinks; piped, it is plain text.
 */
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot } from "../../harness/paths.js";
import { scratchDatabase } from "../binlog/support.js";
import { slowSnapshot, untilTable, type SlowSnapshot } from "./support.js";

const CLI = [process.execPath, "--import", "tsx", join(repoRoot, "src/cli.ts")];
// eslint-disable-next-line no-control-regex
const ESCAPES = /\x1b\[[0-9;?]*[A-Za-z]/g;

const quote = (a: string) => `'${a.replace(/'/g, "'\\''")}'`;

/** What `liberator status --watch` draws on a pseudo-terminal until `enough` says stop (or the time is up). */
async function watchOnTerminal(configFile: string, enough: (drawn: string) => boolean, timeoutMs = 90_000): Promise<string> {
  // script's terminal has no size (0×0) unless told, and log-update draws only the rows that fit
  const command = `stty rows 40 cols 160; ${[...CLI, "status", "--watch", "--every-ms", "300", "-c", configFile].map(quote).join(" ")}`;
  const child = spawn("script", ["-q", "-f", "-c", command, "/dev/null"], { cwd: repoRoot, detached: true, stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + timeoutMs;
  while (!enough(out) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 250));
  process.kill(-child.pid!, "SIGINT");
  await new Promise((r) => child.once("exit", r));
  return out;
}

/** `12s`, `1m05s`, `1h02m` → seconds. */
function seconds(eta: string): number {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(eta)!;
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

describe("liberator status", () => {
  const db = scratchDatabase();
  let s: SlowSnapshot | undefined;
  afterAll(() => s?.daemon.stop("SIGTERM"));

  it("--watch on a terminal redraws in place, its bar and ETA advancing; piped it prints plain text; --json the document", async () => {
    s = await slowSnapshot(db, { rows: 60_000, rowsPerSecond: 1500, chunkSize: 250 });
    const snap = s;
    await untilTable(snap, (t) => t.done > 0 && t.etaSeconds !== null, "the snapshot under way");

    const frameLine = new RegExp(`${snap.table.replace(/\./g, "\\.")}\\s+\\[[█░]+\\]\\s+(\\d+)%.*ETA (\\d\\S*)`, "g");
    const framesOf = (drawn: string) => [...drawn.replace(ESCAPES, "").matchAll(frameLine)].map((m) => ({ pct: Number(m[1]), eta: seconds(m[2]!) }));
    // a few redraws, over at least two percentage points, until the ETA shown has come down (whole
    // seconds from a rate over a window: over a short stretch it may stay put)
    const drawn = await watchOnTerminal(snap.daemon.configFile, (d) => {
      const f = framesOf(d);
      return f.length >= 3 && f.at(-1)!.pct >= f[0]!.pct + 2 && f.at(-1)!.eta < f[0]!.eta;
    });
    // log-update moves the cursor up and erases the lines it drew before
    expect(drawn).toMatch(ESCAPES);
    const frames = framesOf(drawn);
    expect(frames.length, drawn.slice(-2000)).toBeGreaterThanOrEqual(3);
    const pcts = frames.map((f) => f.pct);
    expect(pcts.at(-1)).toBeGreaterThan(pcts[0]!);
    expect(frames.at(-1)!.eta).toBeLessThan(frames[0]!.eta);

    const piped = spawnSync(CLI[0]!, [...CLI.slice(1), "status", "-c", snap.daemon.configFile], { cwd: repoRoot, encoding: "utf8" });
    expect(piped.status, piped.stderr).toBe(0);
    expect(piped.stdout).not.toMatch(ESCAPES);
    expect(piped.stdout).not.toContain(String.fromCharCode(27));
    expect(piped.stdout).toContain(snap.connector);
    expect(piped.stdout).toMatch(new RegExp(`${snap.table.replace(/\./g, "\\.")}\\s+\\[[#.]+\\]\\s+\\d+%\\s+[\\d,]+/[\\d,]+.*ETA`));

    const json = spawnSync(CLI[0]!, [...CLI.slice(1), "status", "--json", "--url", snap.daemon.adminUrl], { cwd: repoRoot, encoding: "utf8" });
    expect(json.status, json.stderr).toBe(0);
    const doc = JSON.parse(json.stdout) as { connectors: { name: string; snapshot: Record<string, { done: number }> }[] };
    expect(doc.connectors.find((c) => c.name === snap.connector)?.snapshot[snap.table]?.done).toBeGreaterThan(0);
  });
});
