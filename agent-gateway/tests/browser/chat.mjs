// The web chat in a real browser: Debian's Chromium driven by playwright-core.
// Run by agent-gateway/tests/browser.rs, which starts the gateway (in --dev
// mode), todo-mcp and the scripted model, and passes:
//   GATEWAY_URL    the gateway's base URL
//   ARTIFACTS_DIR  where screenshots go
//   CHROMIUM       the browser (default /usr/bin/chromium)
//   ALICE_TOKEN    a token for user alice, to paste into the sign-in form
import { chromium } from "playwright-core";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const base = process.env.GATEWAY_URL;
const artifacts = process.env.ARTIFACTS_DIR;
mkdirSync(artifacts, { recursive: true });
const shot = (page, name) => page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ],
});
const failures = [];
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const dialogs = [];
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    dialog.dismiss();
  });
  page.on("pageerror", (error) => failures.push(`page error: ${error.message}`));
  const cspViolations = [];
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
  });

  // Sign in (development mode) with the keyboard alone.
  const response = await page.goto(base);
  assert.match(response.headers()["content-security-policy"], /script-src 'self'/);
  await page.getByLabel("Development sign-in: user name").fill("alice");
  await page.keyboard.press("Enter");
  await page.getByText("Signed in as").waitFor();
  assert.equal(await page.locator("#who").textContent(), "alice");
  await page.getByText("No tasks yet.").waitFor();
  await shot(page, "1-signed-in");

  // A message, sent with Enter; the reply streams in.
  const box = page.getByLabel("Message");
  await box.fill("Add a task to buy milk");
  await box.press("Enter");
  const reply = page.locator("#messages li.assistant").last();
  // Streaming: the reply is on the page, partly written, before it is done.
  await reply.locator(".text").filter({ hasText: "I've" }).waitFor();
  const partial = await reply.locator(".text").textContent();
  await reply.locator(".text").filter({ hasText: "to your list." }).waitFor();
  const whole = await reply.locator(".text").textContent();
  assert.equal(whole, "I've added “buy milk” to your list.");
  assert.ok(partial.length < whole.length, `saw it stream: "${partial}" then "${whole}"`);
  await reply.locator("details.chip summary").filter({ hasText: "add_task ✓" }).waitFor();
  await page.locator("#tasks li .title").filter({ hasText: "buy milk" }).waitFor();
  await page.locator("#conversations li").first().waitFor();
  await shot(page, "2-reply");

  // Shift+Enter is a new line, not a send.
  await box.fill("first line");
  await box.press("Shift+Enter");
  assert.equal(await box.inputValue(), "first line\n");
  assert.equal(await page.locator("#messages li.user").count(), 1);
  await box.fill("");

  // A reload keeps the session; the conversation's history is there.
  await page.reload();
  await page.getByText("Signed in as").waitFor();
  await page.locator("#tasks li .title").filter({ hasText: "buy milk" }).waitFor();
  await page.locator("#conversations li button.open").filter({ hasText: "Add a task to buy milk" }).click();
  await page.locator("#messages li.user").filter({ hasText: "Add a task to buy milk" }).waitFor();
  await page.locator("#messages li.assistant").filter({ hasText: "to your list." }).waitFor();
  // One answer bubble holding the tool call and the reply, as it streamed.
  assert.equal(await page.locator("#messages li.assistant").count(), 1);
  await page.locator("#messages li.assistant details.chip").filter({ hasText: "add_task ✓" }).waitFor();
  assert.equal(await page.locator("#tasks li .id").first().textContent(), "#1");
  await shot(page, "3-reloaded");

  // Markup in a task title is text, never HTML.
  const evil = "<img src=x onerror=alert(1)>";
  await box.fill(`Add a task called ${evil}`);
  await box.press("Enter");
  await page.locator("#messages li.assistant").last().locator(".text").filter({ hasText: "Added it." }).waitFor();
  const title = page.locator("#tasks li .title").filter({ hasText: evil });
  await title.waitFor();
  assert.equal(await title.textContent(), evil);
  assert.equal(await page.locator("#tasks img, #messages img, #conversations img").count(), 0);
  assert.deepEqual(dialogs, [], "no script ran");
  await shot(page, "4-markup-as-text");

  // The model down: the error, with a retry button; retrying past the rate
  // limit (3 messages a minute in this test): "try again in N s".
  await box.fill("Show my tasks");
  await box.press("Enter");
  const error = page.locator("#error");
  await error.filter({ hasText: "The model is not available right now" }).waitFor({ timeout: 15000 });
  const retry = page.getByRole("button", { name: "Retry" });
  assert.ok(await retry.isVisible());
  await shot(page, "5-model-down");
  await retry.click();
  await error.filter({ hasText: /try again in \d+ s/ }).waitFor();
  assert.ok(!(await retry.isVisible()), "no retry button for a rate limit");

  // Deleting the conversation.
  await page.getByRole("button", { name: /^Delete conversation/ }).click();
  await page.waitForFunction(() => document.querySelectorAll("#conversations li").length === 0);
  assert.equal(await page.locator("#messages li").count(), 0);

  // Signing out, a token the gateway refuses, then a good one pasted in.
  await page.getByRole("button", { name: "Sign out" }).click();
  const forged = ["eyJhbGciOiJIUzI1NiJ9", Buffer.from('{"sub":"alice","exp":9999999999}').toString("base64url"), "AAAA"].join(".");
  await page.getByLabel("Access token").fill(forged);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.locator("#signin-error").filter({ hasText: "not valid" }).waitFor();
  assert.ok(await page.locator("#signin").isVisible());
  await page.getByLabel("Access token").fill(process.env.ALICE_TOKEN);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.locator("#tasks li .title").filter({ hasText: "buy milk" }).waitFor();

  // A phone's width: everything still there, one column.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.getByLabel("Message").waitFor();
  await shot(page, "6-phone");

  // The API reference: rendered from /openapi.json, every operation shown.
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(`${base}/docs`);
  await page.locator("body[data-ready=true]").waitFor();
  const spec = await (await page.request.get(`${base}/openapi.json`)).json();
  const operations = Object.values(spec.paths).flatMap((item) =>
    ["get", "post", "put", "patch", "delete"].filter((m) => item[m]));
  assert.equal(await page.locator("section.op h3 .method").count(), operations.length);
  await page.locator("h3", { hasText: "/api/{user_id}/chat" }).waitFor();
  assert.ok((await page.locator("nav#toc li").count()) === operations.length);
  assert.ok((await page.locator("#schema-TurnReport pre").textContent()).includes("tool_calls"));
  await shot(page, "7-api-reference");

  assert.deepEqual(cspViolations, [], "nothing blocked by the CSP");
  assert.ok(!(await page.locator("body").textContent()).includes("undefined"));
  await context.close();
} catch (error) {
  failures.push(error.stack || String(error));
} finally {
  await browser.close();
}
if (failures.length) {
  console.error(failures.join("\n"));
  process.exit(1);
}
console.log("browser test passed");
