// The example web app (examples/webapp) in a real browser: headless Chromium from
// Debian's packages, driven by playwright-core. The demo is started the way its README
// says, with its one command (examples/webapp/run.py), on free ports, with the Nudge
// service on the embedded default (its own redis-server and SQLite in a temp dir).
//
//   node --test tests/browser/          (npm ci first; PYTHON defaults to .venv/bin/python)
//
// Every state the user sees is saved as a PNG under test-results/screenshots/.
// NUDGE_UPDATE_SCREENSHOTS=1 also copies them to docs/screenshots/ for the README.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

import { chromium } from "playwright-core";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const SHOTS = join(REPO, "test-results", "screenshots");
const DOCS_SHOTS = join(REPO, "docs", "screenshots");
const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const VENV_PYTHON = join(REPO, ".venv", "bin", "python");
const PYTHON = process.env.PYTHON || (existsSync(VENV_PYTHON) ? VENV_PYTHON : "python3");
const IN_CI = Boolean(process.env.CI);
const START_TIMEOUT = 40_000; // the service starts its own redis-server and migrates SQLite
const STEP_TIMEOUT = 20_000;

const SEATS_FULL = {
  title: "Your team is full",
  body: "free includes 3 seats. Upgrade to team to invite more people.",
  cta: "Upgrade",
  href: "/billing/upgrade?plan=team",
};

// Without Chromium: fail in CI, which must run these; say how to get it elsewhere.
const missing = existsSync(CHROMIUM)
  ? null
  : `no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`;
if (missing && IN_CI) throw new Error(missing);

describe("the example web app in Chromium", { skip: missing || false }, () => {
  let demo; // the run.py process and its URLs
  let browser;
  let page; // Ana's tab, then Bo's and Cy's (one workspace)

  before(async () => {
    await rm(SHOTS, { recursive: true, force: true });
    await mkdir(SHOTS, { recursive: true });
    demo = await startDemo();
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
    page = await newPage(browser);
  }, { timeout: START_TIMEOUT + 10_000 });

  after(async () => {
    await browser?.close();
    if (demo && demo.process.exitCode === null) demo.process.kill("SIGKILL");
    if (demo) await rm(demo.dataDir, { recursive: true, force: true });
  });

  it("shows a free workspace no prompt, and none for two seats of three", { timeout: STEP_TIMEOUT }, async () => {
    await page.goto(`${demo.url}/#members`);
    await page.getByText("Ana Alves (you)").waitFor();
    await askNudge(page);
    await assertNoPrompt(page);
    assert.equal(await page.locator("#plan-badge").textContent(), "free plan");
    assert.match(await page.locator("#seats-meter").textContent(), /1 of 3 seats used/);
    await shot(page, "01-free-workspace-no-prompt");

    await invite(page); // Bo: 2 of 3 seats, under the 80% of seats-almost-full
    await member(page, "Bo Berg").waitFor();
    await assertNoPrompt(page);
  });

  it("brings the seats-full modal with the third teammate, with the rule's text", { timeout: STEP_TIMEOUT }, async () => {
    const shown = waitForEvent(page, "shown");
    await invite(page); // Cy: 3 of 3 seats
    const dialog = page.getByRole("dialog", { name: SEATS_FULL.title });
    await dialog.waitFor();
    assert.equal(await dialog.getAttribute("aria-modal"), "true");
    assert.equal(await dialog.locator("[part~=title]").textContent(), SEATS_FULL.title);
    assert.equal(await dialog.locator("[part~=body]").textContent(), SEATS_FULL.body);
    const cta = dialog.getByRole("link", { name: SEATS_FULL.cta, exact: true });
    assert.equal(await cta.getAttribute("href"), SEATS_FULL.href);
    assert.match(await page.locator("#seats-meter").textContent(), /3 of 3 seats used/);
    assert.equal((await shown).status(), 202, "the renderer reports shown once the modal is on screen");
    await shot(page, "02-third-teammate-brings-seats-full-modal");
  });

  it("traps focus in the modal: Tab and Shift+Tab cycle through its controls", { timeout: STEP_TIMEOUT }, async () => {
    assert.deepEqual(await focused(page), { label: "Dismiss", inDialog: true }, "the modal takes focus");
    const seen = [];
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press("Tab");
      seen.push(await focused(page));
    }
    assert.deepEqual(seen, [
      { label: SEATS_FULL.cta, inDialog: true },
      { label: "Dismiss", inDialog: true },
      { label: SEATS_FULL.cta, inDialog: true },
      { label: "Dismiss", inDialog: true },
    ]);
    await page.keyboard.press("Shift+Tab");
    assert.deepEqual(await focused(page), { label: SEATS_FULL.cta, inDialog: true });
    await shot(page, "03-modal-traps-focus");
  });

  it("closes the modal on Esc, returns focus, and keeps it dismissed after a reload", { timeout: STEP_TIMEOUT }, async () => {
    const dismissed = waitForEvent(page, "dismissed");
    await page.keyboard.press("Escape");
    await page.getByRole("dialog").waitFor({ state: "detached" });
    assert.equal((await dismissed).status(), 202);
    assert.deepEqual(await focused(page), { label: "Invite teammate", inDialog: false }, "focus returns to where it was");
    await shot(page, "04-esc-closed-modal-focus-returned");

    await page.reload();
    await member(page, "Cy Chen").waitFor();
    await askNudge(page);
    await assertNoPrompt(page);
    await shot(page, "05-dismissed-stays-hidden-after-reload");

    await invite(page); // a fourth: the product refuses it, at the limit Nudge reports
    assert.equal(
      await page.locator("#status").textContent(),
      "The free plan includes 3 seats, and all of them are taken. Upgrade to invite more people.",
    );
    assert.equal(await page.locator("#members li").count(), 3);
    assert.deepEqual(page.consoleErrors.splice(0), [
      "Failed to load resource: the server responded with a status of 409 (Conflict)",
    ]);
    await assertNoPrompt(page);
  });

  it("still shows it to another user, whose close button dismisses it for them", { timeout: STEP_TIMEOUT }, async () => {
    await signInAs(page, "bo");
    const dialog = page.getByRole("dialog", { name: SEATS_FULL.title });
    await dialog.waitFor(); // dismissals are per user: Ana's does not hide it from Bo
    await shot(page, "06-another-user-still-sees-it");

    const dismissed = waitForEvent(page, "dismissed");
    await dialog.getByRole("button", { name: "Dismiss" }).click();
    await dialog.waitFor({ state: "detached" });
    assert.equal((await dismissed).status(), 202);
    await page.reload();
    await page.getByText("Bo Berg (you)").waitFor();
    await askNudge(page);
    await assertNoPrompt(page);
  });

  it("takes the prompt away for good once the upgrade changes the plan", { timeout: STEP_TIMEOUT }, async () => {
    await signInAs(page, "cy");
    const dialog = page.getByRole("dialog", { name: SEATS_FULL.title });
    await dialog.waitFor();
    await dialog.getByRole("link", { name: SEATS_FULL.cta, exact: true }).click();
    await page.waitForURL(`${demo.url}${SEATS_FULL.href}`);
    // The click's report outlives the navigation it starts (keepalive): the service counts it.
    await waitForMetric(demo, 'nudge_prompt_events_total{type="clicked"}', 1);
    await page.getByRole("heading", { name: "Upgrade to Team" }).waitFor();
    await shot(page, "07-upgrade-page");

    await page.getByRole("button", { name: "Confirm upgrade to Team" }).click();
    await page.waitForURL(`${demo.url}/`);
    await page.getByText("Cy Chen (you)").waitFor();
    assert.equal(await page.locator("#plan-badge").textContent(), "team plan");
    assert.match(await page.locator("#seats-meter").textContent(), /3 of 25 seats used/);
    await askNudge(page);
    await assertNoPrompt(page);

    await invite(page); // Dee: 4 of 25 seats, far from any seats trigger on team
    await member(page, "Dee Diaz").waitFor();
    await assertNoPrompt(page);
    await page.reload();
    await member(page, "Dee Diaz").waitFor();
    await askNudge(page);
    await assertNoPrompt(page);
    await shot(page, "08-upgraded-no-prompt");
  });

  it("shows the dashboards prompt inline on the dashboards page only", { timeout: STEP_TIMEOUT }, async () => {
    const fresh = await newPage(browser); // a new browser: a new workspace
    await fresh.goto(`${demo.url}/#dashboards`);
    await fresh.getByText("No dashboards yet.").waitFor();
    for (let i = 0; i < 3; i++) await act(fresh, "#add-dashboard");
    const inline = fresh.getByRole("region", { name: "All 3 dashboards of free in use" });
    await inline.waitFor();
    assert.equal(await inline.locator("[part~=body]").textContent(), "Upgrade to team for more dashboards.");
    await shot(fresh, "09-dashboards-full-inline");

    await fresh.getByRole("link", { name: "Members" }).click();
    await askNudge(fresh); // members is not among the trigger's placements
    await assertNoPrompt(fresh);
    await fresh.context().close();
  });

  it("stops the service and the demo together on Ctrl-C", { timeout: STEP_TIMEOUT }, async () => {
    const exited = new Promise((resolve) => demo.process.once("exit", (code, signal) => resolve({ code, signal })));
    demo.process.kill("SIGINT");
    assert.deepEqual(await exited, { code: 0, signal: null }, demo.output());
    assert.equal(await listening(demo.port), false, "the demo still listens");
    assert.equal(await listening(demo.nudgePort), false, "the Nudge service still listens");
  });
});

describe("the example web app with its Nudge service stopped", { skip: missing || false }, () => {
  let demo;
  let browser;

  before(async () => {
    // Nothing listens on this port: the backend's and the page's calls are refused.
    const [nobody] = await freePorts(1);
    const stopped = `http://127.0.0.1:${nobody}`;
    demo = await startDemo({
      args: ["--nudge-url", stopped],
      env: { NUDGE_API_KEYS: "demo-key-0123456789", NUDGE_SIGNING_SECRET: "s".repeat(48) },
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
  }, { timeout: START_TIMEOUT + 10_000 });

  after(async () => {
    await browser?.close();
    if (demo && demo.process.exitCode === null) demo.process.kill("SIGINT");
    if (demo) await rm(demo.dataDir, { recursive: true, force: true });
  });

  it("keeps working: the team grows, no prompt shows, nothing is thrown, nothing hangs", { timeout: STEP_TIMEOUT }, async () => {
    const page = await newPage(browser);
    await page.goto(`${demo.url}/#members`);
    await page.getByText("Ana Alves (you)").waitFor();
    const asked = Date.now();
    await askNudge(page);
    assert.ok(Date.now() - asked < 1_500, "the SDK gives up within its timeout");
    for (const name of ["Bo Berg", "Cy Chen"]) {
      await invite(page); // the third teammate, who would bring the seats-full modal
      await member(page, name).waitFor();
    }
    assert.equal(await page.locator("#seats-meter").textContent(), "3 seats"); // no limits known
    const refused = page.consoleErrors.filter((text) => /ERR_CONNECTION_REFUSED/.test(text));
    assert.ok(refused.length > 0, "the page did try to reach the service");
    await assertNoPrompt(page, { consoleErrors: refused });
    await shot(page, "10-service-stopped-app-keeps-working");
    // The last test of this file: the set is complete once it gets here.
    if (process.env.NUDGE_UPDATE_SCREENSHOTS) await copyScreenshots();
  });
});

// --- the demo ---------------------------------------------------------------------------

// `run.py` on free ports; `args` and `env` add to its command line and environment.
async function startDemo({ args = [], env = {} } = {}) {
  const [port, nudgePort] = await freePorts(2);
  const dataDir = await mkdtemp(join(tmpdir(), "nudge-webapp-"));
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith("NUDGE_") && k !== "REDIS_URL" && k !== "DATABASE_URL"),
  );
  const child = spawn(
    PYTHON,
    ["examples/webapp/run.py", "--port", String(port), "--nudge-port", String(nudgePort), "--data-dir", dataDir, ...args],
    { cwd: REPO, env: { ...inherited, ...env, PYTHONUNBUFFERED: "1" }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let text = "";
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`run.py was not ready in ${START_TIMEOUT} ms:\n${text}`)), START_TIMEOUT);
    const read = (chunk) => {
      text += chunk;
      const match = /is ready: (http\S+)/.exec(text);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on("data", read);
    child.stderr.on("data", read);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`run.py exited (${code}) before it was ready:\n${text}`));
    });
  });
  let url;
  try {
    url = await ready;
  } catch (error) {
    // Never leave a half-started demo (and its service and redis-server) behind: its
    // pipes would keep this test file running.
    child.kill("SIGINT");
    setTimeout(() => child.kill("SIGKILL"), 5000).unref();
    child.stdout.destroy();
    child.stderr.destroy();
    throw error;
  }
  assert.equal(url, `http://127.0.0.1:${port}`);
  return { process: child, url, port, nudgePort, dataDir, output: () => text };
}

// `n` distinct free loopback ports: all are held open until all are found.
async function freePorts(n) {
  const servers = [];
  try {
    for (let i = 0; i < n; i++) {
      const server = net.createServer();
      servers.push(server);
      await new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", resolve);
      });
    }
    return servers.map((server) => server.address().port);
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

function listening(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

// Polls the service's /metrics until `series` reaches `value` (5 s at most).
async function waitForMetric(demo, series, value) {
  const nudgeUrl = `http://127.0.0.1:${demo.nudgePort}`;
  const deadline = Date.now() + 5_000;
  let seen = null;
  while (Date.now() < deadline) {
    const text = await (await fetch(`${nudgeUrl}/metrics`)).text();
    const line = text.split("\n").find((l) => l.startsWith(series + " "));
    seen = line ? Number(line.split(" ")[1]) : null;
    if (seen === value) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(`${series} is ${seen} on ${nudgeUrl}/metrics, not ${value}`);
}

// --- the page -------------------------------------------------------------------------

async function newPage(browser) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 760 } });
  const page = await context.newPage();
  page.setDefaultTimeout(5_000);
  page.uncaught = []; // exceptions thrown into the page: never, not even with Nudge down
  page.consoleErrors = [];
  page.on("pageerror", (error) => page.uncaught.push(error.message));
  page.on("console", (message) => message.type() === "error" && page.consoleErrors.push(message.text()));
  return page;
}

// Clicks a button whose action asks Nudge again, and waits until the answer is on screen.
async function act(page, selector) {
  const checks = await promptChecks(page);
  await page.locator(selector).click();
  await page.waitForFunction((n) => Number(document.body.dataset.promptChecks || 0) > n, checks);
}

const invite = (page) => act(page, "#invite");
const member = (page, name) => page.locator("#members").getByText(name, { exact: true });

// "Ask Nudge again" in the page's panel: refreshes the renderer and marks when it is done.
// A dispatched click, so that a modal over the page (a failure here) shows as one below.
async function askNudge(page) {
  const checks = await promptChecks(page);
  await page.locator("#ask-again").dispatchEvent("click");
  await page.waitForFunction((n) => Number(document.body.dataset.promptChecks || 0) > n, checks);
}

const promptChecks = (page) => page.evaluate(() => Number(document.body.dataset.promptChecks || 0));

async function assertNoPrompt(page, { consoleErrors = [] } = {}) {
  const prompts = await page.locator("nudge-prompts [part~=prompt]").allTextContents();
  assert.deepEqual(prompts, [], "no prompt is on the page");
  assert.deepEqual(page.uncaught, [], "nothing was thrown into the page");
  assert.deepEqual(page.consoleErrors, consoleErrors, "the page logged no other error");
}

async function signInAs(page, userId) {
  // The page switches the user in the backend, then reloads with a token for them.
  await Promise.all([page.waitForEvent("load"), page.locator("#user-select").selectOption(userId)]);
  await page.waitForFunction((id) => document.querySelector("#user-select").value === id, userId);
}

// The focused element, looking into shadow roots: its label and whether it is in a dialog.
function focused(page) {
  return page.evaluate(() => {
    let active = document.activeElement;
    while (active && active.shadowRoot && active.shadowRoot.activeElement) active = active.shadowRoot.activeElement;
    if (!active || active === document.body) return null;
    return {
      label: active.getAttribute("aria-label") || active.textContent.trim(),
      inDialog: Boolean(active.closest("[role=dialog]")),
    };
  });
}

// The POST of a prompt event of `type` that the SDK sends to the service.
function waitForEvent(page, type) {
  return page.waitForResponse(
    (response) =>
      response.request().method() === "POST" &&
      /\/v1\/prompts\/[^/]+\/events$/.test(response.url()) &&
      JSON.parse(response.request().postData() || "{}").type === type,
  );
}

async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

async function copyScreenshots() {
  await mkdir(DOCS_SHOTS, { recursive: true });
  for (const name of await readdir(SHOTS)) await copyFile(join(SHOTS, name), join(DOCS_SHOTS, name));
}
