// Checks the dashboard `runbom demo` leaves serving, in headless Debian chromium: real findings
// from the storefront's two environments are on the overview and the application page.
// Started by crates/runbom/tests/server/demo.rs with RUNBOM_URL; prints `ok` when every check
// passed, throws (non-zero exit, the check named) otherwise.
import { chromium } from "playwright-core";
import { logIn } from "./login.mjs";

const base = process.env.RUNBOM_URL;
const shots = process.env.SCREENSHOT_DIR;

function check(condition, message) {
  if (!condition) throw new Error(message);
}

async function number(page, id) {
  return Number((await page.locator(`#${id}`).innerText()).trim());
}

const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await logIn(page, base, process.env.RUNBOM_USER, process.env.RUNBOM_PASSWORD);
  await page.goto(`${base}/`);
  await page.getByRole("link", { name: "storefront", exact: true }).first().waitFor();
  check(await number(page, "kpi-live-instances") === 2, "the overview does not show both instances");
  check(await number(page, "kpi-vulnerable-in-use") > 0, "no vulnerable component in use on the overview");
  check(await number(page, "kpi-drift") >= 1, "the staging drift is not on the overview");
  await page.screenshot({ path: `${shots}/demo-overview.png`, fullPage: true });

  await page.goto(`${base}/apps/storefront`);
  await page.locator("#components").getByText("urllib3").first().waitFor();
  await page.locator("#instances").getByText("staging").first().waitFor();
  await page.screenshot({ path: `${shots}/demo-application.png`, fullPage: true });
  console.log("ok");
} finally {
  await browser.close();
}
