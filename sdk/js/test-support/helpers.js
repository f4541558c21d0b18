// Shared test helpers: a real HTTP server standing in for the Nudge service, prompts
// in the service's JSON shape, and unsigned JWTs (the SDK reads `exp`, never verifies).
import http from "node:http";

/** Start a local HTTP server; `handle(request, res, n)` answers the n-th request. */
export async function startService(handle) {
  const requests = [];
  const server = http.createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    const request = { method: req.method, url: req.url, headers: req.headers, body };
    requests.push(request);
    handle(request, res, requests.length);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${server.address().port}`,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

export function json(res, status, data) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(data));
}

const b64url = (text) => Buffer.from(text).toString("base64url");

/** An unsigned JWT with these claims. */
export function jwt(claims) {
  return [b64url('{"alg":"HS256","typ":"JWT"}'), b64url(JSON.stringify(claims)), "sig"].join(".");
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A prompt as GET /v1/prompts returns it (docs/api.md). */
export function prompt(overrides = {}) {
  return {
    id: "WyJhY21lIiwiYW5hIiwic2VhdHMtZnVsbCIsMTc5NTY0ODA5OV0.3_QYFCdG2aY1zTdGf-4KdQ",
    trigger: "seats-full",
    metric: "seats",
    usage: 3,
    limit: 3,
    plan: "free",
    upgrade_plan: "team",
    style: "modal",
    title: "Your team is full",
    body: "free includes 3 seats. Upgrade to team to invite more people.",
    cta: { label: "Upgrade", url: "/billing/upgrade?plan=team" },
    ...overrides,
  };
}

/** A `fetch` double answering from `answer(url, init)`; it records every call. */
export function fakeFetch(answer) {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ url, init, body: init.body ? JSON.parse(init.body) : null });
    const [status, data] = await answer(url, init);
    return new Response(data === undefined ? null : JSON.stringify(data), { status });
  };
  fetch.calls = calls;
  return fetch;
}
