// Plotline's page: the product's own UI, plus Nudge's JS SDK for upgrade prompts.
//
// The Nudge part is small: create a client with the service's URL and a client token
// our backend minted (and a getToken to mint a fresh one), mount the default renderer
// in a slot with the placement of the view, and ask it to refresh after the user does
// something that changes usage.
import { createNudge } from "/sdk/nudge.js";

const $ = (selector) => document.querySelector(selector);
const VIEWS = ["dashboards", "members"];

let state = null; // the backend's view of the workspace (GET /api/session)
let nudge = null;
let slot = null; // the mounted renderer of the current view
let slotPlacement = null;
let checks = 0; // prompt checks completed, for anyone (or any test) waiting on one

async function backend(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error((data.error && data.error.message) || `${path} answered ${response.status}`);
  return data;
}

// --- the "Under the hood" panel ------------------------------------------------------

function log(who, text, detail) {
  const item = document.createElement("li");
  item.className = who;
  const tag = document.createElement("span");
  tag.className = "who";
  tag.textContent = who === "backend" ? "backend · Python SDK" : "page · JS SDK";
  const code = document.createElement("code");
  code.textContent = text;
  item.append(tag, code);
  if (detail) {
    const more = document.createElement("span");
    more.className = "detail";
    more.textContent = detail;
    item.append(more);
  }
  const list = $("#hood-log");
  list.prepend(item);
  while (list.children.length > 8) list.lastElementChild.remove();
}

// What our backend did with the Python SDK for one of its answers.
function logBackend(route) {
  const calls = state.backend_calls || [];
  if (calls.length) log("backend", calls.join("\n"), `for ${route}`);
}

// The SDK takes a `fetch` option; this one only watches what it sends, for the panel.
async function watchedFetch(url, init) {
  const response = await fetch(url, init);
  const path = String(url).replace(state.nudge.endpoint, "");
  const shortPath = path.replace(/\/v1\/prompts\/[^/]+\/events/, "/v1/prompts/{id}/events");
  let detail = `${response.status}`;
  try {
    const sent = init && init.body ? JSON.parse(init.body) : null;
    if (sent && sent.type) detail = `${sent.type} → ${response.status}`;
    if (response.ok && /^\/v1\/prompts(\?|$)/.test(path)) {
      const { prompts } = await response.clone().json();
      detail += prompts.length ? ` · ${prompts.map((p) => `${p.trigger} (${p.style})`).join(", ")}` : " · no prompt";
    }
  } catch (_) {}
  log("page", `${(init && init.method) || "GET"} ${shortPath}`, detail);
  return response;
}

// --- Nudge ---------------------------------------------------------------------------

function startNudge() {
  nudge = createNudge({
    endpoint: state.nudge.endpoint,
    token: state.nudge.token, // minted by our backend for this account and user
    getToken: async () => (await backend("POST", "/api/nudge-token")).token, // on expiry or 401
    fetch: watchedFetch,
    onError: (error) => log("page", "nudge error", error.message),
  });
}

function mountFor(view) {
  if (slotPlacement === view) return;
  if (slot) slot.destroy();
  slot = nudge.mount($("#nudge-slot"), { placement: view });
  slotPlacement = view;
}

async function askNudge() {
  await slot.refresh(); // resolves once the answer is on screen
  document.body.dataset.promptChecks = String(++checks);
}

// --- the product -----------------------------------------------------------------------

function render() {
  const { workspace, user, members, dashboards, usage } = state;
  $("#workspace-name").textContent = workspace.name;
  $("#plan-badge").textContent = `${workspace.plan} plan`;
  $("#plan-badge").dataset.plan = workspace.plan;
  const upgrade = $("#upgrade");
  upgrade.hidden = !workspace.next_plan;
  if (workspace.next_plan) {
    upgrade.href = `/billing/upgrade?plan=${encodeURIComponent(workspace.next_plan)}`;
    upgrade.textContent = `Upgrade to ${title(workspace.next_plan)}`;
  }

  const select = $("#user-select");
  select.replaceChildren(
    ...members.map((m) => new Option(`${m.name}${m.role === "owner" ? " (owner)" : ""}`, m.user_id, false, m.user_id === user.user_id)),
  );

  $("#members").replaceChildren(
    ...members.map((m) => {
      const item = document.createElement("li");
      const avatar = document.createElement("span");
      avatar.className = "avatar";
      avatar.textContent = m.name.split(" ").map((part) => part[0]).join("");
      avatar.setAttribute("aria-hidden", "true");
      const who = document.createElement("span");
      who.className = "who";
      who.innerHTML = "<strong></strong><small></small>";
      who.querySelector("strong").textContent = m.name + (m.user_id === user.user_id ? " (you)" : "");
      who.querySelector("small").textContent = m.email;
      const role = document.createElement("span");
      role.className = "role";
      role.textContent = m.role;
      item.append(avatar, who, role);
      return item;
    }),
  );

  $("#dashboards").replaceChildren(
    ...(dashboards.length
      ? dashboards.map((name, i) => {
          const card = document.createElement("li");
          card.className = "card";
          card.innerHTML = `<svg viewBox="0 0 120 40" aria-hidden="true"><polyline points="${sparkline(i)}"/></svg><span></span>`;
          card.querySelector("span").textContent = name;
          return card;
        })
      : [Object.assign(document.createElement("li"), { className: "empty", textContent: "No dashboards yet." })]),
  );

  $("#seats-meter").replaceChildren(meter(usage && usage.seats, members.length, "seats"));
  $("#dashboards-meter").replaceChildren(meter(usage && usage.dashboards, dashboards.length, "dashboards"));
}

function meter(metric, count, noun) {
  const wrap = document.createElement("span");
  const limit = metric ? metric.limit : null;
  const counted = `${count} ${count === 1 ? noun.slice(0, -1) : noun}`; // noun: a plural
  // No metric: Nudge did not answer the backend, so the page knows no limits just now.
  wrap.textContent = limit == null ? `${counted}${metric ? " · unlimited" : ""}` : `${count} of ${limit} ${noun} used`;
  if (limit) {
    const bar = document.createElement("progress");
    bar.max = limit;
    bar.value = Math.min(count, limit);
    bar.setAttribute("aria-label", `${noun} used`);
    wrap.append(bar);
  }
  return wrap;
}

function sparkline(seed) {
  let y = 20 + ((seed * 7) % 11);
  return Array.from({ length: 12 }, (_, x) => {
    y = Math.max(4, Math.min(36, y + (((seed + 3) * (x + 5) * 13) % 17) - 8));
    return `${x * 10 + 5},${y}`;
  }).join(" ");
}

const title = (plan) => plan.charAt(0).toUpperCase() + plan.slice(1);

function say(text) {
  $("#status").textContent = text || "";
}

function showView() {
  // The hash names the view; without one, the view this tab showed last (say, after the
  // upgrade page sends the user back to "/").
  const wanted = location.hash.slice(1) || sessionStorage.getItem("plotline-view");
  const view = VIEWS.includes(wanted) ? wanted : "dashboards";
  sessionStorage.setItem("plotline-view", view);
  for (const name of VIEWS) $(`#view-${name}`).hidden = name !== view;
  for (const link of document.querySelectorAll(".sidebar a")) {
    if (link.dataset.view === view) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  mountFor(view); // the renderer asks Nudge for this view's placement
}

// An action that changes usage: the backend reports it (Python SDK), then we ask again.
async function act(button, route, body) {
  say("");
  button.disabled = true;
  try {
    const [method, path] = route.split(" ");
    state = await backend(method, path, body);
    logBackend(route);
    render();
  } catch (error) {
    say(error.message);
  } finally {
    button.disabled = false;
    button.focus(); // where Nudge's modal returns focus when it closes
  }
  await askNudge();
}

async function start() {
  try {
    state = await backend("GET", "/api/session");
  } catch (error) {
    say(`Could not load the workspace: ${error.message}`);
    return;
  }
  logBackend("GET /api/session");
  render();
  startNudge();
  showView();
  window.addEventListener("hashchange", showView);

  $("#invite").addEventListener("click", (e) => act(e.currentTarget, "POST /api/members"));
  $("#add-dashboard").addEventListener("click", (e) => act(e.currentTarget, "POST /api/dashboards"));
  $("#ask-again").addEventListener("click", () => askNudge());
  $("#reset").addEventListener("click", async () => {
    await backend("POST", "/api/reset");
    location.reload();
  });
  $("#user-select").addEventListener("change", async (e) => {
    await backend("POST", "/api/user", { user_id: e.target.value });
    location.reload(); // a new user: a new client token, their own dismissals
  });
}

start();
