/**
 * The status page in a real browser: Debian's headless Chromium (scripts/ensure-deps.sh installs
 * it), driven by playwright-core, opens `/` on the admin port during a running snapshot. The admin
 * API has a token, so the page asks for it; given it, the page shows the bar moving and an ETA, and
 * its buttons pause, resume, snapshot a table and restart the connector; a column added shows as a
 * schema change. Screenshots mid-snapshot and after the pause are left in
 * test-output/status-page/.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot } from "../../harness/paths.js";
import { scratchDatabase } from "../binlog/support.js";
import { slowSnapshot, statusOf, untilTable, type SlowSnapshot } from "./support.js";

const CHROMIUM = "/usr/bin/chromium";
const TOKEN = "status-page-token";
const OUT = join(repoRoot, "test-output", "status-page");
/** What the page shows comes within a second or two; a loaded CI machine gets more. */
const SOON = { timeout: 30_000 };

describe("the status page", () => {
  const db = scratchDatabase();
  let s: SlowSnapshot | undefined;
  let browser: Browser | undefined;
  afterAll(async () => {
    await browser?.close();
    await s?.daemon.stop("SIGTERM");
  });

  it("asks for the admin token, then shows the snapshot's bar moving with an ETA, and pauses, resumes, snapshots and restarts the connector from its buttons, and shows a schema change", async () => {
    expect(existsSync(CHROMIUM), `no ${CHROMIUM}: scripts/ensure-deps.sh installs Debian's chromium package`).toBe(true);
    mkdirSync(OUT, { recursive: true });
    s = await slowSnapshot(db, { rows: 60_000, rowsPerSecond: 1500, chunkSize: 250, root: { admin: { token: TOKEN } } });
    const snap = s;
    await untilTable(snap, (t) => t.done > 0, "the snapshot under way");
    browser = await chromium.launch({ executablePath: CHROMIUM });
    const page: Page = await browser.newPage({ viewport: { width: 1100, height: 460 } });
    const requested: string[] = [];
    page.on("request", (r) => requested.push(r.url()));
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(e.message));

    await page.goto(`${snap.daemon.adminUrl}/`);
    // the page's files are open; the stream it reads is not, so it asks
    const form = page.locator("#token");
    await form.waitFor({ state: "visible" });
    await expect.poll(() => page.locator("#token-why").textContent(), SOON).toContain("needs its token");
    await page.locator("#token-input").fill(TOKEN);
    await form.locator("button[type=submit]").click();
    await form.waitFor({ state: "hidden" });

    const card = page.locator(`section[data-connector="${snap.connector}"]`);
    const row = card.locator(`tr[data-table="${snap.table}"]`);
    const done = async () => Number(await row.locator("progress").getAttribute("value"));
    await expect.poll(done, { timeout: 60_000 }).toBeGreaterThan(0);
    const first = await done();
    await expect.poll(done, SOON).toBeGreaterThan(first);
    await expect.poll(() => row.locator(".eta").textContent(), SOON).toMatch(/^ETA \d+(s|m\d\ds|h\d\dm)$/);
    expect(Number(await row.locator("progress").getAttribute("max"))).toBe(snap.rows);
    expect(await card.locator(".state").textContent()).toBe("running");
    // a few documents in: the throughput sparkline has points
    await expect.poll(async () => ((await card.locator(".spark polyline").getAttribute("points")) ?? "").split(" ").length, SOON).toBeGreaterThan(2);
    await page.screenshot({ path: join(OUT, "mid-snapshot.png") });

    await card.locator("button[data-action=pause]").click();
    await expect.poll(() => card.locator(".state").textContent(), SOON).toBe("paused");
    await expect.poll(() => page.locator("#notice").textContent(), SOON).toContain(`${snap.connector}: pause done, now paused`);
    expect((await statusOf(snap.daemon, snap.connector, TOKEN))?.state).toBe("paused");
    // a later document of the stream says paused too, and the bar stopped short of the end
    const shownAt = await page.locator("#live").textContent();
    await expect.poll(() => page.locator("#live").textContent(), SOON).not.toBe(shownAt);
    expect(await card.locator(".state").textContent()).toBe("paused");
    expect(await row.locator(".eta").textContent()).toBe("paused");
    expect(await card.locator("button[data-action=pause]").isDisabled()).toBe(true);
    const pausedAt = await done();
    expect(pausedAt).toBeLessThan(snap.rows);
    await page.screenshot({ path: join(OUT, "paused.png") });

    await card.locator("button[data-action=resume]").click();
    await expect.poll(() => card.locator(".state").textContent(), SOON).toBe("running");
    await expect.poll(done, SOON).toBeGreaterThan(pausedAt);

    // a table's snapshot: refused with the API's reason while the initial one runs, accepted once it streams
    const snapshotTable = async () => {
      await card.locator(".snapshot-form input").fill(snap.table);
      await card.locator(".snapshot-form button").click();
    };
    await snapshotTable();
    await expect.poll(() => page.locator("#notice").textContent(), SOON).toContain("wait until the initial snapshot is done");
    expect(await page.locator("#notice").getAttribute("data-kind")).toBe("error");
    await expect.poll(() => row.locator(".eta").textContent(), { timeout: 120_000 }).toBe("done");
    await snapshotTable();
    await expect.poll(() => page.locator("#notice").textContent(), SOON).toContain(`snapshot of ${snap.table} accepted`);
    await expect.poll(() => row.locator(".kind").textContent(), { timeout: 60_000 }).toBe("incremental snapshot");

    await card.locator("button[data-action=restart]").click();
    await expect.poll(() => page.locator("#notice").textContent(), SOON).toContain(`${snap.connector}: restart done`);
    await expect.poll(() => card.locator(".state").textContent(), { timeout: 60_000 }).toBe("running");

    // a column added: the value subject's new schema shows as a change
    await db.conn.query("ALTER TABLE orders ADD COLUMN note VARCHAR(20) NULL");
    await db.conn.query("INSERT INTO orders VALUES (1000000, 'late', 1.00, 'new column')");
    const change = card.locator(".schemas li.change");
    await expect.poll(() => change.first().textContent(), { timeout: 60_000 }).toMatch(/\.orders-value: schema changed \d+ → \d+/);
    await page.screenshot({ path: join(OUT, "schema-change.png") });

    expect(problems).toEqual([]);
    // nothing from the internet: every request went to the admin port
    expect(requested.length).toBeGreaterThanOrEqual(4);
    expect(requested.filter((url) => !url.startsWith(`${snap.daemon.adminUrl}/`))).toEqual([]);
  }, 300_000);
});
