// Logs a playwright page in to the runbom dashboard through its login form, as a person would,
// and checks that a page needing a login showed the form first (401 without a session).
export async function logIn(page, base, user, password) {
  const first = await page.goto(`${base}/`);
  if (first.status() !== 401) throw new Error(`the overview answered ${first.status()} before login`);
  await page.getByLabel("User").fill(user);
  await page.getByLabel("Password").fill(password);
  await Promise.all([page.waitForURL(`${base}/`), page.getByRole("button", { name: "Log in" }).click()]);
  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === "runbom_session");
  if (!session || !session.httpOnly || session.sameSite !== "Strict") {
    throw new Error(`no HttpOnly SameSite=Strict session cookie after login: ${JSON.stringify(cookies)}`);
  }
  if (await page.evaluate(() => document.cookie.includes("runbom_session"))) {
    throw new Error("the session cookie is readable from scripts");
  }
}
