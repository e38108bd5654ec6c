// Drives the runbom dashboard in headless Debian chromium (never a downloaded browser).
// Started by crates/runbom/tests/server/browser.rs, which owns the server and its data; the two
// talk over stdio: this script prints `step NAME` when it needs the test to change something
// (a new report, a new advisory) and waits for `done NAME` on stdin. Any failed check throws:
// the exit status is non-zero and the message names the check.
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";
import { logIn } from "./login.mjs";

const base = process.env.RUNBOM_URL;
const shots = process.env.SCREENSHOT_DIR;
const hostile = "<img src=x onerror=alert(1)>";
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();

async function step(name) {
  console.log(`step ${name}`);
  const { value, done } = await lines.next();
  if (done || value.trim() !== `done ${name}`) throw new Error(`test did not finish step ${name}: ${value}`);
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

async function main() {
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const dialogs = [];
  page.on("dialog", async (dialog) => { dialogs.push(dialog.message()); await dialog.dismiss(); });
  const failedScripts = [];
  page.on("pageerror", (err) => failedScripts.push(String(err)));

  // A login first: without one every page answers 401 with the login form.
  await logIn(page, base, process.env.RUNBOM_USER, process.env.RUNBOM_PASSWORD);

  // The overview with data from real hook runs.
  await page.goto(`${base}/`);
  await page.getByRole("link", { name: "shop", exact: true }).first().waitFor();
  await page.locator("#live.on").waitFor();
  await page.screenshot({ path: `${shots}/overview.png`, fullPage: true });

  // A hostile package name renders as text, never as markup.
  await page.goto(`${base}/apps/shop`);
  await page.locator("#components").getByText(hostile, { exact: true }).waitFor();
  check(await page.locator("#content img").count() === 0, "a package name became an <img> element");
  await page.screenshot({ path: `${shots}/application.png`, fullPage: true });

  // A new report appears on the open overview without a reload.
  await page.goto(`${base}/`);
  await page.locator("#live.on").waitFor();
  await page.evaluate(() => { window.__runbomSamePage = true; });
  check(await page.getByRole("link", { name: "billing", exact: true }).count() === 0, "billing is there before its report");
  await step("report");
  await page.getByRole("link", { name: "billing", exact: true }).first().waitFor({ timeout: 20000 });
  check(await page.evaluate(() => window.__runbomSamePage === true), "the overview was reloaded");
  await page.screenshot({ path: `${shots}/overview-live-report.png`, fullPage: true });

  // A new advisory appears on the open application page without a reload.
  await page.goto(`${base}/apps/shop`);
  await page.locator("#live.on").waitFor();
  await page.evaluate(() => { window.__runbomSamePage = true; });
  await step("advisory");
  await page.getByRole("link", { name: "PYSEC-2099-1", exact: true }).first().waitFor({ timeout: 20000 });
  check(await page.evaluate(() => window.__runbomSamePage === true), "the application page was reloaded");
  await page.screenshot({ path: `${shots}/application-live-advisory.png`, fullPage: true });

  // Triage through the finding's form: not_affected; the finding stays listed, struck through.
  const row = page.locator("table.findings tr", { has: page.getByRole("link", { name: "PYSEC-2099-1", exact: true }) });
  await row.getByRole("link", { name: "triage" }).click();
  await page.locator("form.triage").waitFor();
  await page.selectOption("form.triage select[name=state]", "not_affected");
  await page.selectOption("form.triage select[name=justification]", "code_not_reachable");
  await page.fill("form.triage textarea[name=detail]", "tinypkg's vulnerable path is never called");
  await page.getByRole("button", { name: "Save analysis" }).click();
  await page.locator("p.suppressed").waitFor();
  check((await page.locator("#audit tbody tr").count()) === 1, "the audit trail does not show the change");
  check((await page.locator("#audit").innerText()).includes("not_affected"), "the audit trail does not name the new state");
  await page.screenshot({ path: `${shots}/finding-triaged.png`, fullPage: true });
  await page.goto(`${base}/apps/shop`);
  const triaged = page.locator("table.findings tr.suppressed", { has: page.getByRole("link", { name: "PYSEC-2099-1", exact: true }) });
  await triaged.waitFor();
  const struck = await triaged.locator("td").first().evaluate((td) => getComputedStyle(td).textDecorationLine);
  check(struck.includes("line-through"), `a suppressed finding is not struck through: ${struck}`);
  check((await triaged.innerText()).includes("not_affected (suppressed)"), "the row does not say it is suppressed");

  // The advisory page names who is affected; search finds the hostile component as text.
  await page.goto(`${base}/advisories/PYSEC-2099-1`);
  await page.getByRole("link", { name: "shop", exact: true }).first().waitFor();
  await page.screenshot({ path: `${shots}/advisory.png`, fullPage: true });
  await page.goto(`${base}/search?q=${encodeURIComponent("img")}`);
  await page.getByText(hostile, { exact: true }).first().waitFor();
  check(await page.locator("#content img").count() === 0, "search rendered a package name as markup");

  check(dialogs.length === 0, `a script ran from page data: ${dialogs.join(", ")}`);
  check(failedScripts.length === 0, `page errors: ${failedScripts.join(", ")}`);
  console.log("ok");
} finally {
  await browser.close();
}
}

// Exit explicitly: the open stdin would otherwise keep a failed run alive.
main().then(
  () => process.exit(0),
  (err) => { console.error(`dashboard check failed: ${err.stack || err}`); process.exit(1); },
);
