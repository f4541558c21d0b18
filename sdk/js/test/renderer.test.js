// mount(): the default renderer, run on the small DOM in test-support/fake-dom.js.
import assert from "node:assert/strict";
import { beforeEach, describe, mock, test } from "node:test";

import { createNudge } from "../nudge.js";
import { byClass, byRole, FakeDocument, FakeEvent, FakeIntersectionObserver, findAll, press } from "../test-support/fake-dom.js";
import { fakeFetch, prompt } from "../test-support/helpers.js";

mock.method(console, "warn", () => {});
beforeEach(() => {
  FakeIntersectionObserver.instances = [];
});

const flush = () => new Promise((resolve) => setImmediate(resolve));

function page({ prompts = [prompt()], intersectionObserver = true } = {}) {
  const doc = new FakeDocument({ intersectionObserver });
  const container = doc.body.appendChild(doc.createElement("div"));
  let answer = prompts;
  let down = false;
  const fetch = fakeFetch((url, init) => {
    if (down) throw new TypeError("fetch failed");
    return init.method === "POST" ? [202, { status: "accepted" }] : [200, { prompts: answer, degraded: false }];
  });
  const errors = [];
  const nudge = createNudge({ endpoint: "https://nudge.example.com", token: "t", fetch, onError: (e) => errors.push(e) });
  return {
    doc,
    container,
    nudge,
    errors,
    fetch,
    serve(prompts) {
      answer = prompts;
    },
    stopService() {
      down = true;
    },
    /** [prompt id, type] of every event reported so far. */
    events() {
      return fetch.calls
        .filter((c) => c.init.method === "POST")
        .map((c) => [decodeURIComponent(c.url.match(/\/v1\/prompts\/([^/]+)\/events$/)[1]), c.body.type]);
    },
    gets() {
      return fetch.calls.filter((c) => c.init.method === "GET").length;
    },
  };
}

async function mounted(options = {}, mountOptions = { placement: "members" }) {
  const p = page(options);
  const handle = p.nudge.mount(p.container, mountOptions);
  await handle.refresh();
  await flush();
  return { ...p, handle };
}

/** Tell every live IntersectionObserver that `ratio` of its targets is in view. */
async function scrollIntoView(ratio) {
  for (const observer of FakeIntersectionObserver.instances) observer.report(ratio);
  await flush();
}

const banner = prompt({ id: "id-banner", trigger: "seats-almost-full", style: "banner", title: "3 of 3 seats used" });

describe("rendering", () => {
  test("renders into a shadow root on a host element of its own inside the container", async () => {
    const { container } = await mounted({ prompts: [banner] });

    assert.equal(container.childNodes.length, 1);
    const host = container.childNodes[0];
    assert.equal(host.tagName, "NUDGE-PROMPTS");
    assert.ok(host.shadowRoot, "a shadow root isolates the prompt from the page's CSS");
    const style = findAll(host.shadowRoot, (n) => n.tagName === "STYLE")[0];
    assert.match(style.textContent, /:host\{all:initial;display:block\}/);
  });

  test("a banner is a labelled region with the title, body, a CTA link and a labelled close button", async () => {
    const { container } = await mounted({ prompts: [banner] });
    const [region] = byRole(container, "region");

    assert.equal(region.getAttribute("aria-label"), "3 of 3 seats used");
    assert.equal(byClass(region, "t")[0].textContent, "3 of 3 seats used");
    assert.equal(byClass(region, "b")[0].textContent, banner.body);
    const [cta] = byClass(region, "cta");
    assert.equal(cta.tagName, "A");
    assert.equal(cta.getAttribute("href"), "/billing/upgrade?plan=team");
    assert.equal(cta.textContent, "Upgrade");
    const [close] = byClass(region, "close");
    assert.equal(close.tagName, "BUTTON");
    assert.equal(close.getAttribute("type"), "button");
    assert.equal(close.getAttribute("aria-label"), "Dismiss");
  });

  test("inline is a region, toast a status, modal a dialog", async () => {
    const prompts = [
      prompt({ id: "a", trigger: "a", style: "inline", title: "Inline" }),
      prompt({ id: "b", trigger: "b", style: "toast", title: "Toast" }),
      prompt({ id: "c", trigger: "c", style: "modal", title: "Modal" }),
    ];
    const { container } = await mounted({ prompts }, { limit: 3 });

    assert.equal(byRole(container, "region")[0].getAttribute("aria-label"), "Inline");
    assert.equal(byRole(container, "status")[0].getAttribute("aria-label"), "Toast");
    assert.equal(byRole(container, "dialog").length, 1);
  });

  test("the modal is labelled by its title and described by its body", async () => {
    const { container } = await mounted();
    const [dialog] = byRole(container, "dialog");

    assert.equal(dialog.getAttribute("aria-modal"), "true");
    const title = findAll(container, (n) => n.id === dialog.getAttribute("aria-labelledby"));
    const body = findAll(container, (n) => n.id === dialog.getAttribute("aria-describedby"));
    assert.equal(title.length, 1);
    assert.equal(title[0].tagName, "H2");
    assert.equal(title[0].textContent, "Your team is full");
    assert.equal(body[0].textContent, "free includes 3 seats. Upgrade to team to invite more people.");
  });

  test("a prompt without body or CTA renders only its title and close button", async () => {
    const { container } = await mounted({ prompts: [prompt({ body: null, cta: null })] });
    const [dialog] = byRole(container, "dialog");

    assert.equal(dialog.getAttribute("aria-describedby"), null);
    assert.equal(byClass(dialog, "b").length, 0);
    assert.equal(byClass(dialog, "cta").length, 0);
    assert.equal(byClass(dialog, "close").length, 1);
  });

  test("a CTA url that is not a web link is left out and reported", async () => {
    const { container, errors } = await mounted({ prompts: [prompt({ cta: { label: "Go", url: "javascript:alert(1)" } })] });

    assert.equal(byClass(container, "cta").length, 0);
    assert.match(errors[0].message, /CTA url "javascript:alert\(1\)" is not an http\(s\) or relative link/);
  });

  test("shows the first prompt only, unless a limit says more; never two dialogs", async () => {
    const prompts = [
      prompt({ id: "m1", trigger: "m1", style: "modal" }),
      prompt({ id: "m2", trigger: "m2", style: "modal" }),
      prompt({ id: "b1", trigger: "b1", style: "banner" }),
    ];
    const one = await mounted({ prompts });
    const three = await mounted({ prompts }, { limit: 3 });

    assert.deepEqual(
      findAll(one.container, (n) => n.getAttribute("data-trigger")).map((n) => n.getAttribute("data-trigger")),
      ["m1"],
    );
    assert.deepEqual(
      findAll(three.container, (n) => n.getAttribute("data-trigger"))
        .map((n) => n.getAttribute("data-trigger"))
        .sort(),
      ["b1", "m1"],
    );
  });

  test("asks for the mount's placement", async () => {
    const { fetch } = await mounted({ prompts: [] }, { placement: "billing" });

    assert.ok(fetch.calls.every((c) => c.url === "https://nudge.example.com/v1/prompts?placement=billing"));
  });

  test("with the service down the container stays empty and nothing throws", async () => {
    const p = page();
    p.stopService();
    const handle = p.nudge.mount(p.container, { placement: "members" });
    await handle.refresh();

    assert.equal(byClass(p.container, "p").length, 0);
    assert.equal(p.errors[0].kind, "network");
  });

  test("mount on something that is not an element returns a handle that does nothing", async () => {
    const errors = [];
    const nudge = createNudge({ endpoint: "https://n.example", token: "t", fetch: fakeFetch(() => [200, {}]), onError: (e) => errors.push(e) });

    for (const bad of [null, undefined, "#nudge", {}]) {
      const handle = nudge.mount(bad, { placement: "members" });
      await handle.refresh();
      handle.destroy();
    }
    assert.match(errors[0].message, /mount: the first argument must be a DOM element/);
  });
});

describe("modal focus and keyboard", () => {
  test("focus moves into the dialog, Tab and Shift+Tab cycle inside it, Esc dismisses and returns focus", async () => {
    const p = page();
    const opener = p.doc.body.appendChild(p.doc.createElement("button"));
    opener.focus();
    const handle = p.nudge.mount(p.container, {});
    await handle.refresh();
    const [dialog] = byRole(p.container, "dialog");
    const [close] = byClass(dialog, "close");
    const [cta] = byClass(dialog, "cta");
    const root = p.container.childNodes[0].shadowRoot;

    assert.equal(root.activeElement, close);
    assert.ok(press(p.doc, "Tab").defaultPrevented);
    assert.equal(root.activeElement, cta);
    press(p.doc, "Tab");
    assert.equal(root.activeElement, close);
    press(p.doc, "Tab", { shiftKey: true });
    assert.equal(root.activeElement, cta);

    press(p.doc, "Escape");
    await flush();
    assert.equal(byRole(p.container, "dialog").length, 0);
    assert.equal(p.doc.activeElement, opener);
    assert.deepEqual(p.events(), [[prompt().id, "dismissed"]]);
  });

  test("Tab from outside the dialog brings focus back into it", async () => {
    const p = page();
    const other = p.doc.body.appendChild(p.doc.createElement("input"));
    const handle = p.nudge.mount(p.container, {});
    await handle.refresh();
    other.focus(); // e.g. focus moved by a script of the page

    press(p.doc, "Tab");

    const [close] = byClass(p.container, "close");
    assert.equal(p.container.childNodes[0].shadowRoot.activeElement, close);
  });

  test("other keys are left to the page", async () => {
    const p = page();
    const handle = p.nudge.mount(p.container, {});
    await handle.refresh();

    assert.equal(press(p.doc, "Enter").defaultPrevented, false);
    assert.equal(byRole(p.container, "dialog").length, 1);
  });

  test("a dialog that a refresh takes away (after an upgrade) returns focus too", async () => {
    const p = page();
    const opener = p.doc.body.appendChild(p.doc.createElement("button"));
    opener.focus();
    const handle = p.nudge.mount(p.container, {});
    await handle.refresh();

    p.serve([]);
    await handle.refresh();

    assert.equal(byRole(p.container, "dialog").length, 0);
    assert.equal(p.doc.activeElement, opener);
    assert.deepEqual(p.events(), [], "taken away by the service, not dismissed by the user");
  });
});

describe("events", () => {
  test("the close button dismisses: the prompt goes and `dismissed` is reported", async () => {
    const p = await mounted({ prompts: [banner] });

    byClass(p.container, "close")[0].click();
    await flush();

    assert.equal(byRole(p.container, "region").length, 0);
    assert.deepEqual(p.events(), [["id-banner", "dismissed"]]);
  });

  test("Esc inside a banner dismisses it", async () => {
    const p = await mounted({ prompts: [banner] });
    byClass(p.container, "close")[0].focus();

    press(p.doc, "Escape");
    await flush();

    assert.equal(byRole(p.container, "region").length, 0);
    assert.deepEqual(p.events(), [["id-banner", "dismissed"]]);
  });

  test("a dismissed prompt does not come back on refresh, even if the service still returns it", async () => {
    const p = await mounted({ prompts: [banner] });
    byClass(p.container, "close")[0].click();

    await p.handle.refresh();

    assert.equal(byRole(p.container, "region").length, 0);
  });

  test("activating the CTA reports `clicked` and keeps the link's navigation", async () => {
    const p = await mounted({ prompts: [banner] });
    const [cta] = byClass(p.container, "cta");

    const notCancelled = cta.click();
    await flush();

    assert.equal(notCancelled, true);
    assert.deepEqual(p.events(), [["id-banner", "clicked"]]);
  });

  test("a middle click on the CTA (new tab) reports `clicked`", async () => {
    const p = await mounted({ prompts: [banner] });
    byClass(p.container, "cta")[0].dispatchEvent(new FakeEvent("auxclick", { button: 1 }));
    await flush();

    assert.deepEqual(p.events(), [["id-banner", "clicked"]]);
  });
});

describe("`shown` only when on screen", () => {
  test("not on render; not when less than half is in view; once when half is", async () => {
    const p = await mounted({ prompts: [banner] });
    assert.deepEqual(p.events(), []);

    await scrollIntoView(0.3);
    assert.deepEqual(p.events(), []);

    await scrollIntoView(0.6);
    await scrollIntoView(1);
    assert.deepEqual(p.events(), [["id-banner", "shown"]]);
    assert.equal(FakeIntersectionObserver.instances[0].options.threshold, 0.5);
  });

  test("visibleRatio sets the share that must be in view", async () => {
    const p = await mounted({ prompts: [banner] }, { visibleRatio: 1 });

    await scrollIntoView(0.9);
    assert.deepEqual(p.events(), []);
    await scrollIntoView(1);
    assert.deepEqual(p.events(), [["id-banner", "shown"]]);
  });

  test("in view but not painted (visibility, opacity) it waits until it is", async () => {
    const p = await mounted({ prompts: [banner] });
    const [box] = FakeIntersectionObserver.instances[0].targets;
    let painted = false;
    box.checkVisibility = (options) => {
      assert.deepEqual(options, { opacityProperty: true, visibilityProperty: true });
      return painted;
    };

    await scrollIntoView(1);
    assert.deepEqual(p.events(), []);

    painted = true;
    await new Promise((resolve) => setTimeout(resolve, 300));
    await flush();
    assert.deepEqual(p.events(), [["id-banner", "shown"]]);
  });

  test("in a background tab it waits until the page is visible", async () => {
    const p = await mounted({ prompts: [banner] });
    p.doc.setVisibility("hidden");

    await scrollIntoView(1);
    assert.deepEqual(p.events(), []);

    p.doc.setVisibility("visible");
    await flush();
    assert.deepEqual(p.events(), [["id-banner", "shown"]]);
  });

  test("a prompt dismissed before it was seen is never reported shown", async () => {
    const p = await mounted({ prompts: [banner] });
    byClass(p.container, "close")[0].click();

    await scrollIntoView(1);

    assert.deepEqual(p.events(), [["id-banner", "dismissed"]]);
  });

  test("without IntersectionObserver: reported once it is attached and laid out", async () => {
    const p = page({ prompts: [banner], intersectionObserver: false });
    p.container.hidden = true;
    const handle = p.nudge.mount(p.container, {});
    await handle.refresh();
    await new Promise((r) => setTimeout(r, 30));
    assert.deepEqual(p.events(), [], "not while its container is hidden");

    p.container.hidden = false;
    for (let waited = 0; !p.events().length && waited < 2000; waited += 50) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(p.events(), [["id-banner", "shown"]]);
    handle.destroy();
  });

  test("the same prompt across refreshes stays on screen and counts one impression", async () => {
    const p = await mounted({ prompts: [banner] });
    await scrollIntoView(1);
    const before = byRole(p.container, "region")[0];

    p.serve([{ ...banner, id: "id-banner-2" }]); // the service issues a new id each time
    await p.handle.refresh();
    await scrollIntoView(1);
    byClass(p.container, "close")[0].click();
    await flush();

    assert.equal(byRole(p.container, "region").length, 0);
    assert.ok(!before.isConnected);
    assert.deepEqual(p.events(), [
      ["id-banner", "shown"],
      ["id-banner-2", "dismissed"],
    ]);
  });

  test("a prompt whose words change is replaced and counts as a new impression", async () => {
    const p = await mounted({ prompts: [banner] });
    await scrollIntoView(1);

    p.serve([{ ...banner, id: "id-banner-2", title: "4 of 5 seats used" }]);
    await p.handle.refresh();
    await scrollIntoView(1);

    assert.equal(byRole(p.container, "region")[0].getAttribute("aria-label"), "4 of 5 seats used");
    assert.deepEqual(p.events(), [
      ["id-banner", "shown"],
      ["id-banner-2", "shown"],
    ]);
  });
});

describe("handle", () => {
  test("refresh shows what the service says now", async () => {
    const p = await mounted({ prompts: [] });
    assert.equal(byClass(p.container, "p").length, 0);

    p.serve([banner]);
    await p.handle.refresh();

    assert.equal(byRole(p.container, "region").length, 1);
  });

  test("an older answer that arrives after a newer one is dropped", async () => {
    const p = page({ prompts: [] });
    const gates = [];
    const nudge = createNudge({
      endpoint: "https://n.example",
      token: "t",
      fetch: (url, init) =>
        new Promise((resolve) => gates.push((prompts) => resolve(new Response(JSON.stringify({ prompts, degraded: false }))))),
    });
    const handle = nudge.mount(p.container, {}); // first request
    const second = handle.refresh();
    await flush();

    gates[1]([]);
    await second;
    gates[0]([banner]);
    await flush();

    assert.equal(byClass(p.container, "p").length, 0);
  });

  test("destroy removes everything, returns focus from a dialog, and later refreshes do nothing", async () => {
    const p = page();
    const opener = p.doc.body.appendChild(p.doc.createElement("button"));
    opener.focus();
    const handle = p.nudge.mount(p.container, {});
    await handle.refresh();
    const gets = p.gets();

    handle.destroy();
    handle.destroy();
    await handle.refresh();
    await scrollIntoView(1);

    assert.equal(p.container.childNodes.length, 0);
    assert.equal(p.doc.activeElement, opener);
    assert.equal(p.gets(), gets);
    assert.deepEqual(p.events(), []);
    assert.equal(press(p.doc, "Tab").defaultPrevented, false, "no key handler left behind");
  });

  test("two mounts report `shown` once for the same prompt id", async () => {
    const p = page({ prompts: [banner] });
    const other = p.doc.body.appendChild(p.doc.createElement("div"));
    const a = p.nudge.mount(p.container, {});
    const b = p.nudge.mount(other, {});
    await Promise.all([a.refresh(), b.refresh()]);

    await scrollIntoView(1);

    assert.deepEqual(p.events(), [["id-banner", "shown"]]);
  });
});
