// Go beside Python on the runbom dashboard, in headless Debian chromium. Started by
// crates/runbom/tests/server/browser_languages.rs once a Go program (`edge`) and a Python one
// (`shop`) reported and their advisories are in the store. Any failed check throws: the exit
// status is non-zero and the message names the check.
import { chromium } from "playwright-core";
import { logIn } from "./login.mjs";

const base = process.env.RUNBOM_URL;
const shots = process.env.SCREENSHOT_DIR;

function check(condition, message) {
  if (!condition) throw new Error(message);
}

// The text of each cell of the rows of `table` that hold a link named `link`.
async function rowsLinking(table, link) {
  const rows = table.locator("tbody tr").filter({ has: table.page().getByRole("link", { name: link, exact: true }) });
  return rows.evaluateAll((trs) => trs.map((tr) => Array.from(tr.cells, (td) => td.textContent.trim())));
}

async function main() {
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const failedScripts = [];
  page.on("pageerror", (err) => failedScripts.push(String(err)));
  await logIn(page, base, process.env.RUNBOM_USER, process.env.RUNBOM_PASSWORD);

  // The Go application: its instance says `go`, its finding the `Go` ecosystem. The detector
  // runs after the advisory import; the page updates live.
  await page.goto(`${base}/apps/edge`);
  await page.locator("#live.on").waitFor();
  const headers = await page.locator("#instances thead th").allTextContents();
  const languageColumn = headers.indexOf("language");
  check(languageColumn >= 0, `no language column on the instances table: ${headers}`);
  const instance = await page.locator("#instances tbody tr").first().evaluate((tr) => Array.from(tr.cells, (td) => td.textContent.trim()));
  check(instance[languageColumn] === "go", `the Go instance's language: ${instance}`);
  await page.getByRole("link", { name: "GO-2023-1988", exact: true }).first().waitFor({ timeout: 20000 });
  const findingHeaders = await page.locator("table.findings thead th").allTextContents();
  const ecosystemColumn = findingHeaders.indexOf("ecosystem");
  check(ecosystemColumn >= 0, `no ecosystem column on the findings table: ${findingHeaders}`);
  const [goFinding] = await rowsLinking(page.locator("table.findings"), "GO-2023-1988");
  check(goFinding && goFinding[ecosystemColumn] === "Go", `the Go finding's ecosystem: ${goFinding}`);
  check(goFinding.some((cell) => cell.startsWith("golang.org/x/net v0.7.0")), `the Go finding's component: ${goFinding}`);
  await page.screenshot({ path: `${shots}/go-application.png`, fullPage: true });

  // The overview lists both findings, each with its ecosystem.
  await page.goto(`${base}/`);
  await page.getByRole("link", { name: "PYSEC-2099-1", exact: true }).first().waitFor({ timeout: 20000 });
  const table = page.locator("table.findings");
  const [overviewGo] = await rowsLinking(table, "GO-2023-1988");
  const [overviewPython] = await rowsLinking(table, "PYSEC-2099-1");
  check(overviewGo && overviewGo[ecosystemColumn] === "Go", `the overview's Go finding: ${overviewGo}`);
  check(overviewPython && overviewPython[ecosystemColumn] === "PyPI", `the overview's Python finding: ${overviewPython}`);
  await page.screenshot({ path: `${shots}/overview-languages.png`, fullPage: true });

  check(failedScripts.length === 0, `page errors: ${failedScripts.join(", ")}`);
} finally {
  await browser.close();
}
}

main().then(
  () => process.exit(0),
  (err) => { console.error(`languages check failed: ${err.stack || err}`); process.exit(1); },
);
