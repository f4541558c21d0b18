// Nudge browser SDK: ask the service which upgrade prompt to show, show it, report
// what the user did. One dependency-free ES module. No public function throws or
// rejects: errors go to `onError` and to console.warn (once per kind), and reads
// fall back to "show nothing".

const STYLES = ["banner", "modal", "inline", "toast"];
const EVENT_TYPES = ["shown", "clicked", "dismissed", "converted"];
// A token that expires within this margin is refreshed before it is sent.
const EXPIRY_MARGIN_MS = 10000;

/** Create a client. See nudge.d.ts and README.md. */
export function createNudge(options) {
  const o = options && typeof options === "object" ? options : {};
  const warned = new Set();
  const shownIds = new Set();

  function fail(kind, message, extra) {
    const error = Object.assign(new Error("nudge: " + message), { name: "NudgeError", kind }, extra);
    if (typeof o.onError === "function") {
      try {
        o.onError(error);
      } catch (_) {
        // The host's own handler failing must not break the host either.
      }
    }
    if (!warned.has(kind)) {
      warned.add(kind);
      try {
        console.warn(error.message);
      } catch (_) {}
    }
    return error;
  }

  const endpoint = typeof o.endpoint === "string" ? o.endpoint.trim().replace(/\/+$/, "") : "";
  const getToken = typeof o.getToken === "function" ? o.getToken : null;
  const fetchImpl = typeof o.fetch === "function" ? o.fetch : globalThis.fetch;
  let timeoutMs = 1500;
  let configError = null;
  if (!endpoint) {
    configError = 'createNudge: "endpoint" is missing; pass the base URL of your Nudge service, e.g. {endpoint: "https://nudge.example.com"}';
  } else if (!getToken && !(typeof o.token === "string" && o.token)) {
    configError = 'createNudge: pass "token" (a client token your backend minted) or "getToken" (a function that returns one)';
  } else if (typeof fetchImpl !== "function") {
    configError = 'createNudge: this environment has no fetch; pass one as the "fetch" option';
  }
  if (o.timeoutMs !== undefined) {
    if (typeof o.timeoutMs === "number" && o.timeoutMs > 0 && o.timeoutMs < Infinity) timeoutMs = o.timeoutMs;
    else fail("config", `createNudge: "timeoutMs" must be a positive number of milliseconds, not ${String(o.timeoutMs)}; using 1500`);
  }
  if (configError) fail("config", configError);

  let token = typeof o.token === "string" && o.token ? o.token : null;
  let pendingToken = null;
  // Set when getToken hands out a token that this machine's clock already calls
  // expired: then only a 401 refreshes it, so a skewed clock cannot loop on getToken.
  let ignoreExpiry = false;

  function fetchToken() {
    if (!pendingToken) {
      const pending = Promise.resolve()
        .then(() => getToken())
        .then(
          (fresh) => {
            if (typeof fresh !== "string" || !fresh) {
              throw fail("token", `getToken returned ${fresh === "" ? "an empty string" : typeof fresh}; it must return (or resolve to) a client token string`);
            }
            ignoreExpiry = expiresSoon(fresh);
            token = fresh;
            return fresh;
          },
          (error) => {
            throw fail("token", `getToken failed: ${describe(error)}`, { cause: error });
          },
        )
        .finally(() => {
          if (pendingToken === pending) pendingToken = null;
        });
      pendingToken = pending;
    }
    return pendingToken;
  }

  // The token to send; `rejected` is the one a 401 just refused.
  function currentToken(rejected) {
    if (!getToken) return Promise.resolve(token);
    if (rejected === undefined && token && (ignoreExpiry || !expiresSoon(token))) return Promise.resolve(token);
    if (rejected !== undefined && token && token !== rejected) return Promise.resolve(token); // refreshed meanwhile
    return fetchToken();
  }

  // One HTTP exchange under one deadline (token, request, 401 refresh and retry, body).
  async function exchange(method, path, body, what) {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const deadline = new Promise((_, reject) => {
      controller.signal.addEventListener("abort", () => reject(new Error("timeout")));
    });
    deadline.catch(() => {});
    const send = (credential) =>
      fetchImpl.call(globalThis, endpoint + path, {
        method,
        headers: Object.assign(
          { Accept: "application/json", Authorization: "Bearer " + credential },
          body ? { "Content-Type": "application/json" } : {},
        ),
        body: body ? JSON.stringify(body) : undefined,
        signal: controller.signal,
        cache: "no-store",
        // A "clicked" report must outlive the navigation the click starts.
        keepalive: method === "POST",
      });
    try {
      let credential = await Promise.race([currentToken(), deadline]);
      let response = await Promise.race([send(credential), deadline]);
      if (response.status === 401 && getToken) {
        credential = await Promise.race([currentToken(credential), deadline]);
        response = await Promise.race([send(credential), deadline]);
      }
      const text = await Promise.race([response.text(), deadline]);
      let data = null;
      try {
        data = text ? JSON.parse(text) : null;
      } catch (_) {}
      if (!response.ok) throw httpError(response.status, data, what);
      return data;
    } catch (error) {
      if (error && error.name === "NudgeError") throw error;
      if (timedOut) {
        pendingToken = null; // a getToken that hangs must not hold back the next call
        throw fail("timeout", `${what} took longer than ${timeoutMs} ms; showing nothing (raise "timeoutMs" if the service is far away)`);
      }
      throw fail("network", `${what} could not reach ${endpoint} (${describe(error)}); check "endpoint" and that the service allows this origin (NUDGE_CORS_ORIGINS)`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }

  function httpError(status, data, what) {
    const e = data && data.error && typeof data.error === "object" ? data.error : {};
    const said = typeof e.message === "string" ? `: ${e.message}` : "";
    let hint = "";
    if (status === 401) hint = getToken ? " (even with a fresh token from getToken)" : "; pass getToken so the SDK can fetch a fresh token";
    else if (status === 404 && /^GET/.test(what)) hint = '; is "endpoint" the service\'s base URL, without /v1?';
    return fail(status === 401 ? "unauthorized" : "http", `${what} answered ${status}${said}${hint}`, {
      status,
      code: typeof e.code === "string" ? e.code : undefined,
    });
  }

  async function getPrompts(query) {
    try {
      if (configError) return [];
      const placement = query && query.placement != null ? String(query.placement) : "";
      const bad = loneSurrogate(placement);
      if (bad >= 0) {
        fail("invalid_argument", `getPrompts: the placement ${JSON.stringify(placement)} is not valid Unicode (a lone surrogate at ${bad}), so it cannot be sent; pass the placement's name as text`);
        return [];
      }
      const path = "/v1/prompts" + (placement ? "?placement=" + encodeURIComponent(placement) : "");
      const data = await exchange("GET", path, null, "GET " + path);
      if (!data || !Array.isArray(data.prompts)) {
        fail("response", `GET ${path} answered without a "prompts" list; is "endpoint" a Nudge service?`);
        return [];
      }
      if (data.degraded === true) {
        fail("degraded", "the service answered degraded (its store is slow or down); showing nothing");
        return [];
      }
      return data.prompts.filter(isPrompt).map(normalizePrompt);
    } catch (_) {
      return [];
    }
  }

  async function report(promptId, type) {
    try {
      if (configError) return false;
      if (typeof promptId !== "string" || !promptId) {
        fail("invalid_argument", `report: the prompt id must be the "id" of a prompt from getPrompts, not ${JSON.stringify(promptId)}`);
        return false;
      }
      const bad = loneSurrogate(promptId);
      if (bad >= 0) {
        fail("invalid_argument", `report: the prompt id ${JSON.stringify(promptId)} is not valid Unicode (a lone surrogate at ${bad}), so it cannot be sent; pass the "id" of a prompt from getPrompts as it came`);
        return false;
      }
      if (!EVENT_TYPES.includes(type)) {
        fail("invalid_argument", `report: unknown event type ${JSON.stringify(type)}; use one of ${EVENT_TYPES.join(", ")}`);
        return false;
      }
      const path = "/v1/prompts/" + encodeURIComponent(promptId) + "/events";
      await exchange("POST", path, { type }, `POST /v1/prompts/{id}/events (${type})`);
      return true;
    } catch (_) {
      return false;
    }
  }

  function mount(element, options) {
    try {
      return mountRenderer({ element, options: options || {}, getPrompts, report, fail, shownIds });
    } catch (error) {
      fail("render", `mount failed: ${describe(error)}`, { cause: error });
      return { refresh: () => Promise.resolve(), destroy() {} };
    }
  }

  return Object.freeze({ getPrompts, report, mount });
}

function describe(error) {
  return (error && error.message) || String(error);
}

// Where `text` has a surrogate without its pair (-1: nowhere). Such a string is not valid
// Unicode: it has no UTF-8 form (encodeURIComponent throws on it) and the service
// refuses it, so it is refused here, before any request.
function loneSurrogate(text) {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0xd800 || unit > 0xdfff) continue;
    const next = text.charCodeAt(i + 1);
    if (unit > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) return i;
    i++; // a pair: one character outside the BMP
  }
  return -1;
}

function expiresSoon(jwt) {
  try {
    const part = jwt.split(".")[1];
    const claims = JSON.parse(atob(part.replace(/-/g, "+").replace(/_/g, "/")));
    return typeof claims.exp === "number" && claims.exp * 1000 - EXPIRY_MARGIN_MS <= Date.now();
  } catch (_) {
    return false; // not a JWT we can read: let the service decide
  }
}

function isPrompt(p) {
  return p && typeof p === "object" && typeof p.id === "string" && p.id && typeof p.title === "string";
}

function normalizePrompt(p) {
  const cta = p.cta && typeof p.cta.label === "string" && typeof p.cta.url === "string" ? { label: p.cta.label, url: p.cta.url } : null;
  return Object.assign({}, p, {
    style: STYLES.includes(p.style) ? p.style : "banner",
    body: typeof p.body === "string" && p.body ? p.body : null,
    cta,
  });
}

// Only web links: a rule file must never be able to run script through a CTA.
function safeHref(url) {
  try {
    const parsed = new URL(url, "https://relative.invalid/");
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? url : null;
  } catch (_) {
    return null;
  }
}

// Themable through the --nudge-* custom properties, which inherit into the shadow root.
const CSS = `:host{all:initial;display:block}
.p{box-sizing:border-box;position:relative;display:flex;flex-wrap:wrap;align-items:center;gap:8px 16px;padding:12px 48px 12px 16px;font:var(--nudge-font-size,14px)/1.45 var(--nudge-font,system-ui,-apple-system,"Segoe UI",Roboto,sans-serif);color:var(--nudge-fg,#1f2330);background:var(--nudge-bg,#fff);border:1px solid var(--nudge-border,rgba(0,0,0,.12));border-radius:var(--nudge-radius,8px)}
.banner{border-width:0 0 1px;border-radius:0;border-left:4px solid var(--nudge-accent,#4f46e5)}
.inline{margin:8px 0}
.t{margin:0;font-weight:600;font-size:1em}.b{margin:0}.x{flex:1 1 240px}
.toasts:empty{display:none}
.toasts{position:fixed;right:16px;bottom:16px;z-index:var(--nudge-z,2147483000);display:flex;flex-direction:column;gap:8px;width:min(380px,calc(100vw - 32px))}
.toast,.modal{box-shadow:var(--nudge-shadow,0 8px 28px rgba(0,0,0,.18))}
.backdrop{position:fixed;top:0;right:0;bottom:0;left:0;z-index:var(--nudge-z,2147483000);display:flex;align-items:center;justify-content:center;padding:16px;background:var(--nudge-backdrop,rgba(15,18,30,.55))}
.modal{flex-direction:column;align-items:stretch;gap:12px;width:min(440px,100%);padding:24px}
.modal .t{font-size:1.25em;padding-right:24px}.modal .b{margin-top:6px}.modal .x{flex:none}
.cta{display:inline-block;padding:7px 14px;border-radius:calc(var(--nudge-radius,8px) - 2px);background:var(--nudge-accent,#4f46e5);color:var(--nudge-accent-fg,#fff);font-weight:600;text-decoration:none;text-align:center}
.modal .cta{align-self:flex-end}
.close{position:absolute;top:6px;right:6px;width:32px;height:32px;padding:0;border:0;border-radius:50%;background:transparent;color:inherit;font:20px/1 sans-serif;cursor:pointer;opacity:.7}
.close:hover{opacity:1}
.cta:focus-visible,.close:focus-visible{outline:2px solid var(--nudge-accent,#4f46e5);outline-offset:2px}
@media (forced-colors:active){.cta{border:1px solid}}`;

let uid = 0;

function mountRenderer({ element, options, getPrompts, report, fail, shownIds }) {
  const doc = element && element.ownerDocument;
  if (!doc || typeof element.appendChild !== "function") {
    fail("render", "mount: the first argument must be a DOM element (the container the prompts go in)");
    return { refresh: () => Promise.resolve(), destroy() {} };
  }
  const win = doc.defaultView || globalThis;
  const placement = options.placement;
  const limit = options.limit > 0 ? Math.floor(options.limit) : 1;
  const ratio = options.visibleRatio > 0 && options.visibleRatio <= 1 ? options.visibleRatio : 0.5;
  const closeLabel = typeof options.closeLabel === "string" && options.closeLabel ? options.closeLabel : "Dismiss";

  // An element name of our own, so the page's `div {...}` rules cannot reach the host.
  const host = doc.createElement("nudge-prompts");
  if (typeof host.attachShadow !== "function") {
    fail("render", "mount: this browser has no shadow DOM; render prompts yourself with getPrompts and report");
    return { refresh: () => Promise.resolve(), destroy() {} };
  }
  const root = host.attachShadow({ mode: "open" });
  const style = doc.createElement("style");
  style.textContent = CSS;
  const flow = el("div", { class: "flow" });
  const toasts = el("div", { class: "toasts" });
  root.appendChild(style);
  root.appendChild(flow);
  root.appendChild(toasts);
  element.appendChild(host);

  const shown = new Map(); // key (trigger) -> entry
  const dismissedKeys = new Set(); // hidden for this mount's life even if the report failed
  let seq = 0;
  let destroyed = false;

  function el(tag, attrs, text) {
    const node = doc.createElement(tag);
    for (const name in attrs) node.setAttribute(name, attrs[name]);
    if (text != null) node.textContent = text;
    return node;
  }

  const keyOf = (p) => (typeof p.trigger === "string" && p.trigger ? p.trigger : p.id);
  const looksOf = (p) => JSON.stringify([p.style, p.title, p.body, p.cta]);

  function build(entry) {
    const p = entry.prompt;
    const n = ++uid;
    const modal = p.style === "modal";
    const box = el("div", { class: "p " + p.style, part: "prompt " + p.style, "data-trigger": keyOf(p) });
    if (modal) {
      box.setAttribute("role", "dialog");
      box.setAttribute("aria-modal", "true");
      box.setAttribute("aria-labelledby", "nudge-t" + n);
      if (p.body) box.setAttribute("aria-describedby", "nudge-b" + n);
      box.setAttribute("tabindex", "-1");
    } else {
      box.setAttribute("role", p.style === "toast" ? "status" : "region");
      box.setAttribute("aria-label", p.title);
    }
    const close = el("button", { type: "button", class: "close", part: "close", "aria-label": closeLabel }, "\u00d7");
    close.addEventListener("click", () => dismiss(entry));
    box.appendChild(close);
    const text = el("div", { class: "x" });
    text.appendChild(el(modal ? "h2" : "p", { class: "t", part: "title", id: "nudge-t" + n }, p.title));
    if (p.body) text.appendChild(el("p", { class: "b", part: "body", id: "nudge-b" + n }, p.body));
    box.appendChild(text);
    const href = p.cta ? safeHref(p.cta.url) : null;
    if (p.cta && !href) fail("render", `prompt "${keyOf(p)}": CTA url ${JSON.stringify(p.cta.url)} is not an http(s) or relative link; the button is left out`);
    if (href) {
      const cta = el("a", { class: "cta", part: "cta", href }, p.cta.label);
      const clicked = () => report(entry.prompt.id, "clicked");
      cta.addEventListener("click", clicked);
      cta.addEventListener("auxclick", (e) => e.button === 1 && clicked());
      box.appendChild(cta);
      entry.cta = cta;
    }
    entry.close = close;
    entry.box = box;
    if (modal) openModal(entry);
    else {
      box.addEventListener("keydown", (e) => {
        if (e.key === "Escape") {
          e.preventDefault();
          dismiss(entry);
        }
      });
      (p.style === "toast" ? toasts : flow).appendChild(box);
    }
    entry.stopWatching = watchShown(entry, box);
  }

  function openModal(entry) {
    const backdrop = el("div", { class: "backdrop", part: "backdrop" });
    // A click on the backdrop keeps focus in the dialog; it does not dismiss.
    backdrop.addEventListener("mousedown", (e) => e.target === backdrop && e.preventDefault());
    backdrop.appendChild(entry.box);
    entry.node = backdrop;
    entry.returnFocus = deepActive(doc);
    entry.onKey = (e) => {
      if (e.key === "Escape") {
        e.preventDefault();
        dismiss(entry);
      } else if (e.key === "Tab") {
        // Focus cycles through the dialog's controls and never leaves it.
        const items = [entry.close, entry.cta].filter(Boolean);
        const at = items.indexOf(root.activeElement);
        const next = e.shiftKey ? (at <= 0 ? items.length - 1 : at - 1) : at + 1 >= items.length ? 0 : at + 1;
        e.preventDefault();
        items[next].focus();
      }
    };
    doc.addEventListener("keydown", entry.onKey, true);
    root.appendChild(backdrop);
    entry.close.focus();
  }

  function deepActive(d) {
    let a = d.activeElement;
    while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
    return a;
  }

  function remove(entry) {
    shown.delete(entry.key);
    if (entry.stopWatching) entry.stopWatching();
    (entry.node || entry.box).remove();
    if (entry.onKey) {
      doc.removeEventListener("keydown", entry.onKey, true);
      const back = entry.returnFocus;
      if (back && back.isConnected && typeof back.focus === "function") {
        try {
          back.focus();
        } catch (_) {}
      }
    }
  }

  function dismiss(entry) {
    if (!shown.has(entry.key) || shown.get(entry.key) !== entry) return;
    dismissedKeys.add(entry.key);
    remove(entry);
    report(entry.prompt.id, "dismissed");
  }

  // Whether the browser paints the box: not hidden by visibility, opacity or
  // content-visibility anywhere up its tree (where the browser can tell).
  function painted(box) {
    try {
      return typeof box.checkVisibility !== "function" ||
        box.checkVisibility({ opacityProperty: true, visibilityProperty: true });
    } catch (_) {
      return true;
    }
  }

  // Report `shown` once per prompt id, when enough of it is in the viewport of a
  // visible page (IntersectionObserver), or else once it is attached and laid out,
  // and painted.
  function watchShown(entry, box) {
    let inView = false;
    let done = false;
    let observer = null;
    let timer = null;
    const check = () => {
      if (done || destroyed || doc.visibilityState === "hidden" || !inView) return;
      if (!painted(box)) {
        // In the viewport but not painted (visibility: hidden, opacity: 0 on the way
        // up): look again shortly, since no observer fires when only CSS changes.
        clearTimeout(timer);
        timer = setTimeout(check, 250);
        return;
      }
      done = true;
      stop();
      if (!shownIds.has(entry.prompt.id)) {
        shownIds.add(entry.prompt.id);
        report(entry.prompt.id, "shown");
      }
    };
    const stop = () => {
      if (observer) observer.disconnect();
      clearTimeout(timer);
      doc.removeEventListener("visibilitychange", check);
    };
    doc.addEventListener("visibilitychange", check);
    if (typeof win.IntersectionObserver === "function") {
      observer = new win.IntersectionObserver(
        (entries) => {
          for (const e of entries) inView = e.isIntersecting && e.intersectionRatio >= ratio;
          check();
        },
        { threshold: ratio },
      );
      observer.observe(box);
    } else {
      const poll = () => {
        inView = box.isConnected && box.getClientRects().length > 0;
        check();
        if (!done) timer = setTimeout(poll, 250);
      };
      timer = setTimeout(poll, 0);
    }
    return stop;
  }

  function render(prompts) {
    const wanted = new Map();
    let modals = 0;
    for (const p of prompts) {
      const key = keyOf(p);
      if (dismissedKeys.has(key) || wanted.has(key)) continue;
      if (p.style === "modal" && modals++) continue; // one dialog at a time
      if (wanted.size < limit) wanted.set(key, p);
    }
    for (const entry of Array.from(shown.values())) {
      const p = wanted.get(entry.key);
      if (!p || looksOf(p) !== looksOf(entry.prompt)) remove(entry);
    }
    for (const [key, p] of wanted) {
      const entry = shown.get(key);
      if (entry) {
        // Same words still on screen: keep it (no second impression), newest id for events.
        entry.prompt = p;
        continue;
      }
      const fresh = { key, prompt: p };
      shown.set(key, fresh);
      build(fresh);
    }
  }

  async function refresh() {
    try {
      if (destroyed) return;
      const mine = ++seq;
      const prompts = await getPrompts(placement != null ? { placement } : {});
      if (destroyed || mine !== seq) return;
      render(prompts);
    } catch (error) {
      fail("render", `rendering failed: ${describe(error)}`, { cause: error });
    }
  }

  function destroy() {
    try {
      if (destroyed) return;
      destroyed = true;
      for (const entry of Array.from(shown.values())) remove(entry);
      host.remove();
    } catch (error) {
      fail("render", `destroy failed: ${describe(error)}`, { cause: error });
    }
  }

  refresh();
  return { refresh, destroy };
}
