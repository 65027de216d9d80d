// The task panel and the Markdown of answers in a real browser (Debian's
// Chromium, playwright-core), in the time zone Europe/Paris. Run by
// agent-gateway/tests/api/browser.rs, which seeds alice's tasks and scripts
// the model, and passes GATEWAY_URL, ARTIFACTS_DIR, CHROMIUM and TODAY,
// TOMORROW (dates in Europe/Paris) and RENT_NEXT.
import { chromium } from "playwright-core";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const base = process.env.GATEWAY_URL;
const artifacts = process.env.ARTIFACTS_DIR;
mkdirSync(artifacts, { recursive: true });
const shot = (page, name) => page.screenshot({ path: join(artifacts, `panel-${name}.png`), fullPage: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
});
const failures = [];
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, timezoneId: "Europe/Paris" });
  const page = await context.newPage();
  const alerts = [];
  page.on("dialog", (dialog) => {
    if (dialog.type() === "confirm" && dialog.message().startsWith("Delete “")) dialog.accept();
    else {
      alerts.push(dialog.message());
      dialog.dismiss();
    }
  });
  page.on("pageerror", (error) => failures.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) failures.push(message.text());
  });

  await page.goto(base);
  await page.getByLabel("Development sign-in: user name").fill("alice");
  await page.keyboard.press("Enter");
  const rows = page.locator("#tasks li.task");
  const rowOf = (title) => rows.filter({ has: page.locator(".title", { hasText: new RegExp(`^${title}$`) }) });
  await rowOf("Renew passport").waitFor();
  await shot(page, "1-all");

  // Overdue in a style of its own; due dates relative, exact on hover;
  // repeating tasks marked.
  assert.ok(await rowOf("Renew passport").evaluate((li) => li.classList.contains("overdue")));
  assert.ok(!(await rowOf("Call mom").evaluate((li) => li.classList.contains("overdue"))));
  assert.equal(await rowOf("Call mom").locator(".due").textContent(), "tomorrow");
  assert.equal(await rowOf("Call mom").locator(".due").getAttribute("title"), process.env.TOMORROW);
  assert.equal(await rowOf("Renew passport").locator(".due").textContent(), "yesterday");
  assert.equal(await rowOf("Pay rent").locator(".repeat").count(), 1);

  // Filters: overdue, today, a tag, a search.
  await page.getByRole("button", { name: "Overdue" }).click();
  await page.waitForFunction(() => document.querySelectorAll("#tasks li.task").length === 1);
  assert.equal(await rows.locator(".title").textContent(), "Renew passport");
  await page.getByRole("button", { name: "Today" }).click();
  await page.waitForFunction(() => [...document.querySelectorAll("#tasks li.task .title")].map((t) => t.textContent).join() === "Buy milk");
  await page.getByRole("button", { name: "All" }).click();
  await page.getByLabel("Tag").selectOption("family");
  await page.waitForFunction(() => [...document.querySelectorAll("#tasks li.task .title")].map((t) => t.textContent).join() === "Call mom");
  await page.getByLabel("Tag").selectOption("");
  await page.getByLabel("Search tasks").fill("PASSPORT");
  await page.waitForFunction(() => [...document.querySelectorAll("#tasks li.task .title")].map((t) => t.textContent).join() === "Renew passport");
  await page.getByLabel("Search tasks").fill("");
  await rowOf("Buy milk").waitFor();

  // Tick off with the keyboard; a repeating task moves to its next date.
  await page.getByLabel("Complete “Buy milk”").focus();
  await page.keyboard.press("Space");
  await page.getByLabel("Reopen “Buy milk”").waitFor();
  await page.getByLabel("Complete “Pay rent”").check();
  await page.waitForFunction((next) => {
    const row = [...document.querySelectorAll("#tasks li.task")].find((li) => li.querySelector(".title").textContent === "Pay rent");
    return row && row.querySelector(".due").title === next;
  }, process.env.RENT_NEXT);

  // Edit inline: title, due date, priority, tags.
  await page.getByLabel("Edit “Call mom”").click();
  const editor = page.locator("#tasks form.editor");
  await editor.getByLabel("Title").fill("Call mum");
  await editor.getByLabel("Due").fill(process.env.TODAY);
  await editor.getByLabel("Priority").selectOption("low");
  await editor.getByLabel("Tags (comma-separated)").fill("family, phone");
  await editor.getByRole("button", { name: "Save" }).click();
  await rowOf("Call mum").waitFor();
  assert.equal(await rowOf("Call mum").locator(".due").textContent(), "today");
  assert.equal(await rowOf("Call mum").locator(".priority").textContent(), "low");
  assert.deepEqual(await rowOf("Call mum").locator(".tag").allTextContents(), ["family", "phone"]);

  // Delete, after a confirmation.
  await page.getByLabel("Edit “Renew passport”").click();
  await page.locator("#tasks form.editor").getByRole("button", { name: "Delete" }).click();
  await page.waitForFunction(() => ![...document.querySelectorAll("#tasks li.task .title")].some((t) => t.textContent === "Renew passport"));
  await shot(page, "2-after-edits");

  // The assistant's Markdown is rendered as elements; markup in it stays text.
  await page.getByLabel("Message").fill("Summarise my list");
  await page.getByLabel("Message").press("Enter");
  const answer = page.locator("#messages li.assistant .text.markdown").last();
  await answer.waitFor();
  assert.equal(await answer.locator("strong").first().textContent(), "3 tasks");
  assert.deepEqual(await answer.locator("ul > li").allTextContents(), ["Buy milk", "Call mum (low)", "Pay rent"]);
  assert.equal(await answer.locator("code").first().textContent(), "FREQ=MONTHLY");
  assert.equal(await answer.locator("em").first().textContent(), "done");
  assert.ok((await answer.textContent()).includes("<img src=x onerror=alert(1)>"));
  assert.equal(await page.locator("#messages img, #messages script, #tasks img").count(), 0);
  await shot(page, "3-markdown");

  // Phone width: the panel is still there and usable.
  await page.setViewportSize({ width: 390, height: 844 });
  await rowOf("Call mum").scrollIntoViewIfNeeded();
  assert.ok(await rowOf("Call mum").isVisible());
  await shot(page, "4-phone");
  assert.deepEqual(alerts, [], "no script ran");
} catch (error) {
  failures.push(error.stack || String(error));
} finally {
  await browser.close();
}
if (failures.length) {
  console.error(failures.join("\n"));
  process.exit(1);
}
console.log("panel: all checks passed");
