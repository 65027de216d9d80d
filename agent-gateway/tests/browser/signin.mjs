// The web chat signing in through a real Better Auth server, in Chromium
// driven by playwright-core. Run by agent-gateway/tests/api/better_auth.rs,
// which starts Better Auth (tests/better-auth), the gateway with
// BETTER_AUTH_URL, todo-mcp and the scripted model, signs a user up, and
// passes:
//   GATEWAY_URL    the gateway's base URL
//   ARTIFACTS_DIR  where screenshots go
//   CHROMIUM       the browser (default /usr/bin/chromium)
//   EMAIL, PASSWORD, USER_ID   the user Better Auth knows
//   TOKEN_SECONDS  how long Better Auth's tokens live
import { chromium } from "playwright-core";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const base = process.env.GATEWAY_URL;
const artifacts = process.env.ARTIFACTS_DIR;
mkdirSync(artifacts, { recursive: true });
const shot = (page, name) => page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
const lifetime = Number(process.env.TOKEN_SECONDS);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
});
const failures = [];
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.on("pageerror", (error) => failures.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) failures.push(message.text());
  });

  // A wrong password is refused with Better Auth's reason, on the page.
  const response = await page.goto(base);
  const csp = response.headers()["content-security-policy"];
  assert.match(csp, /connect-src 'self' http:\/\/127\.0\.0\.1:\d+/, csp);
  await page.getByLabel("Email").fill(process.env.EMAIL);
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByLabel("Password").press("Enter");
  await page.locator("#signin-error").filter({ hasText: /invalid/i }).waitFor();

  // The right one signs in: the page holds Better Auth's JWT for the user.
  await page.getByLabel("Password").fill(process.env.PASSWORD);
  await page.getByLabel("Password").press("Enter");
  await page.getByText("Signed in as").waitFor();
  assert.equal(await page.locator("#who").textContent(), process.env.USER_ID);
  const first = await page.evaluate(() => sessionStorage.getItem("todo-gateway-token"));
  await shot(page, "better-auth-1-signed-in");

  // A chat message goes through with that token.
  const box = page.getByLabel("Message");
  await box.fill("hello there");
  await box.press("Enter");
  await page.locator("#messages li.assistant").last().getByText("You said: hello there").waitFor();

  // Past the first token's lifetime the page has a fresh one, and still works.
  await page.waitForTimeout((lifetime + 3) * 1000);
  const second = await page.evaluate(() => sessionStorage.getItem("todo-gateway-token"));
  assert.ok(second && second !== first, "the token was refreshed before it expired");
  await box.fill("still here");
  await box.press("Enter");
  await page.locator("#messages li.assistant").last().getByText("You said: still here").waitFor();

  // A reload signs in again from Better Auth's session, without the form.
  await page.evaluate(() => sessionStorage.clear());
  await page.reload();
  await page.getByText("Signed in as").waitFor();
  await shot(page, "better-auth-2-after-refresh");

  // Signing out ends Better Auth's session too: a reload shows the form.
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByLabel("Email").waitFor();
  await page.waitForLoadState("networkidle");
  await page.reload();
  await page.getByLabel("Email").waitFor();
  assert.equal(await page.locator("#app").isHidden(), true);
} catch (error) {
  failures.push(error.stack || String(error));
} finally {
  await browser.close();
}
if (failures.length) {
  console.error(failures.join("\n"));
  process.exit(1);
}
console.log("signed in through Better Auth, refreshed, signed out");
