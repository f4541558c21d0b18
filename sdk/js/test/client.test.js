// getPrompts and report against a real local HTTP server, through Node's real fetch.
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, mock, test } from "node:test";

import { createNudge } from "../nudge.js";
import { fakeFetch, json, jwt, nowSeconds, prompt, startService } from "../test-support/helpers.js";

const warn = mock.method(console, "warn", () => {});
let service = null;
// Tests against a server that never answers fail, rather than hang, if the deadline breaks.
const HANG_LIMIT = { timeout: 5000 };

beforeEach(() => warn.mock.resetCalls());
afterEach(async () => {
  if (service) await service.close();
  service = null;
});

function client(options) {
  const errors = [];
  const nudge = createNudge({ endpoint: service.endpoint, onError: (e) => errors.push(e), ...options });
  return { nudge, errors };
}

describe("getPrompts", () => {
  test("asks GET /v1/prompts for the placement with the token as a Bearer credential", async () => {
    service = await startService((req, res) => json(res, 200, { prompts: [prompt()], degraded: false }));
    const { nudge, errors } = client({ token: "tok-1" });

    const prompts = await nudge.getPrompts({ placement: "members" });

    assert.deepEqual(prompts, [prompt()]);
    assert.equal(service.requests.length, 1);
    const [req] = service.requests;
    assert.equal(req.method, "GET");
    assert.equal(req.url, "/v1/prompts?placement=members");
    assert.equal(req.headers.authorization, "Bearer tok-1");
    assert.equal(req.headers.accept, "application/json");
    assert.deepEqual(errors, []);
  });

  test("encodes the placement, and sends none when none is asked for", async () => {
    service = await startService((req, res) => json(res, 200, { prompts: [], degraded: false }));
    const { nudge } = client({ token: "t" });

    await nudge.getPrompts({ placement: "billing & plans" });
    await nudge.getPrompts();

    assert.deepEqual(
      service.requests.map((r) => r.url),
      ["/v1/prompts?placement=billing%20%26%20plans", "/v1/prompts"],
    );
  });

  test("keeps a path prefix in the endpoint and ignores a trailing slash", async () => {
    service = await startService((req, res) => json(res, 200, { prompts: [], degraded: false }));
    const nudge = createNudge({ endpoint: service.endpoint + "/nudge/", token: "t" });

    await nudge.getPrompts({ placement: "members" });

    assert.equal(service.requests[0].url, "/nudge/v1/prompts?placement=members");
  });

  test("a degraded answer shows nothing and says why", async () => {
    service = await startService((req, res) => json(res, 200, { prompts: [], degraded: true }));
    const { nudge, errors } = client({ token: "t" });

    assert.deepEqual(await nudge.getPrompts(), []);
    assert.deepEqual(
      errors.map((e) => e.kind),
      ["degraded"],
    );
  });

  test("a degraded answer that still lists prompts shows nothing", async () => {
    service = await startService((req, res) => json(res, 200, { prompts: [prompt()], degraded: true }));
    const { nudge } = client({ token: "t" });

    assert.deepEqual(await nudge.getPrompts(), []);
  });

  test("a service error answers [] and hands on the service's message and status", async () => {
    const message = "invalid request: placement: must be 1-64 characters";
    service = await startService((req, res) =>
      json(res, 422, { error: { code: "invalid_request", message, details: [] } }),
    );
    const { nudge, errors } = client({ token: "t" });

    assert.deepEqual(await nudge.getPrompts({ placement: "x".repeat(65) }), []);
    assert.equal(errors.length, 1);
    assert.equal(errors[0].kind, "http");
    assert.equal(errors[0].status, 422);
    assert.equal(errors[0].code, "invalid_request");
    assert.match(errors[0].message, /answered 422: invalid request: placement/);
  });

  test("a 500 with a body that is not JSON answers []", async () => {
    service = await startService((req, res) => {
      res.writeHead(500, { "content-type": "text/html" });
      res.end("<h1>Bad gateway</h1>");
    });
    const { nudge, errors } = client({ token: "t" });

    assert.deepEqual(await nudge.getPrompts(), []);
    assert.equal(errors[0].status, 500);
  });

  test("an answer that is not the service's shape answers []", async () => {
    service = await startService((req, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<!doctype html><title>My SPA</title>");
    });
    const { nudge, errors } = client({ token: "t" });

    assert.deepEqual(await nudge.getPrompts(), []);
    assert.equal(errors[0].kind, "response");
  });

  test("drops entries that are not prompts and defaults an unknown style to banner", async () => {
    const good = prompt({ id: "p2", style: "sidebar", body: null, cta: { label: "Go" } });
    service = await startService((req, res) =>
      json(res, 200, { prompts: [null, { id: "p1" }, good, "text"], degraded: false }),
    );
    const { nudge } = client({ token: "t" });

    const prompts = await nudge.getPrompts();

    assert.equal(prompts.length, 1);
    assert.equal(prompts[0].id, "p2");
    assert.equal(prompts[0].style, "banner");
    assert.equal(prompts[0].cta, null);
  });

  test("a service that does not answer in time gives [] after timeoutMs, without throwing", HANG_LIMIT, async () => {
    service = await startService(() => {}); // never answers
    const { nudge, errors } = client({ token: "t", timeoutMs: 200 });

    const started = performance.now();
    const prompts = await nudge.getPrompts();
    const took = performance.now() - started;

    assert.deepEqual(prompts, []);
    assert.ok(took >= 190 && took < 1000, `took ${took} ms`);
    assert.equal(errors[0].kind, "timeout");
    assert.match(errors[0].message, /took longer than 200 ms/);
  });

  test("a body that stalls after the headers is cut off by the same deadline", HANG_LIMIT, async () => {
    service = await startService((req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"prompts": [');
    });
    const { nudge, errors } = client({ token: "t", timeoutMs: 200 });

    const started = performance.now();
    assert.deepEqual(await nudge.getPrompts(), []);
    assert.ok(performance.now() - started < 1000);
    assert.equal(errors[0].kind, "timeout");
  });

  test("a service that is down gives [] and names the endpoint", async () => {
    service = await startService(() => {});
    const endpoint = service.endpoint;
    await service.close();
    service = null;
    const errors = [];
    const nudge = createNudge({ endpoint, token: "t", onError: (e) => errors.push(e) });

    assert.deepEqual(await nudge.getPrompts(), []);
    assert.equal(errors[0].kind, "network");
    assert.ok(errors[0].message.includes(endpoint), errors[0].message);
  });

  test("a placement that is not valid Unicode answers [] without a request and says why", async () => {
    service = await startService((req, res) => json(res, 200, { prompts: [prompt()], degraded: false }));
    const { nudge, errors } = client({ token: "t" });

    assert.deepEqual(await nudge.getPrompts({ placement: "members\ud800" }), []);
    assert.equal(service.requests.length, 0);
    assert.equal(errors.length, 1);
    assert.equal(errors[0].kind, "invalid_argument");
    assert.match(errors[0].message, /the placement "members\\ud800" is not valid Unicode \(a lone surrogate at 7\)/);
    assert.equal((await nudge.getPrompts({ placement: "équipe-😀" })).length, 1);
    assert.equal(service.requests[0].url, "/v1/prompts?placement=%C3%A9quipe-%F0%9F%98%80");
  });

  test("uses the fetch it is given instead of the global one", async () => {
    const fetch = fakeFetch(() => [200, { prompts: [prompt()], degraded: false }]);
    const nudge = createNudge({ endpoint: "https://nudge.example.com", token: "t", fetch });

    assert.equal((await nudge.getPrompts({ placement: "members" })).length, 1);
    assert.equal(fetch.calls[0].url, "https://nudge.example.com/v1/prompts?placement=members");
    assert.equal(fetch.calls[0].init.headers.Authorization, "Bearer t");
    assert.equal(fetch.calls[0].init.cache, "no-store");
  });
});

describe("token flow", () => {
  const answerPrompts = (req, res) => json(res, 200, { prompts: [prompt()], degraded: false });

  test("getToken is called when a token is first needed, then its token is reused", async () => {
    service = await startService(answerPrompts);
    let calls = 0;
    const { nudge } = client({ getToken: () => `tok-${++calls}` });
    assert.equal(calls, 0, "not called by createNudge");

    await nudge.getPrompts();
    await nudge.getPrompts();

    assert.equal(calls, 1);
    assert.deepEqual(
      service.requests.map((r) => r.headers.authorization),
      ["Bearer tok-1", "Bearer tok-1"],
    );
  });

  test("an async getToken is awaited, and concurrent calls share one call of it", async () => {
    service = await startService(answerPrompts);
    let calls = 0;
    const { nudge } = client({
      getToken: async () => {
        await new Promise((r) => setTimeout(r, 20));
        return `tok-${++calls}`;
      },
    });

    const results = await Promise.all([nudge.getPrompts(), nudge.getPrompts(), nudge.getPrompts()]);

    assert.equal(calls, 1);
    assert.deepEqual(
      results.map((r) => r.length),
      [1, 1, 1],
    );
    assert.ok(service.requests.every((r) => r.headers.authorization === "Bearer tok-1"));
  });

  test("on 401 it gets a fresh token and retries once", async () => {
    service = await startService((req, res) => {
      if (req.headers.authorization === "Bearer stale") {
        json(res, 401, { error: { code: "unauthorized", message: "client token has expired; mint a fresh one", details: [] } });
      } else answerPrompts(req, res);
    });
    const tokens = ["stale", "fresh"];
    const { nudge, errors } = client({ getToken: () => tokens.shift() });

    const prompts = await nudge.getPrompts({ placement: "members" });

    assert.equal(prompts.length, 1);
    assert.deepEqual(
      service.requests.map((r) => [r.url, r.headers.authorization]),
      [
        ["/v1/prompts?placement=members", "Bearer stale"],
        ["/v1/prompts?placement=members", "Bearer fresh"],
      ],
    );
    assert.deepEqual(errors, []);
  });

  test("a static token is used first and getToken refreshes it on 401", async () => {
    service = await startService((req, res) =>
      req.headers.authorization === "Bearer from-page" ? json(res, 401, {}) : answerPrompts(req, res),
    );
    let calls = 0;
    const { nudge } = client({ token: "from-page", getToken: () => (calls++, "from-backend") });

    assert.equal((await nudge.getPrompts()).length, 1);
    assert.equal(calls, 1);
    assert.deepEqual(
      service.requests.map((r) => r.headers.authorization),
      ["Bearer from-page", "Bearer from-backend"],
    );
  });

  test("a second 401 gives [] without a third request", async () => {
    service = await startService((req, res) =>
      json(res, 401, { error: { code: "unauthorized", message: "client token signature does not match", details: [] } }),
    );
    let calls = 0;
    const { nudge, errors } = client({ getToken: () => `tok-${++calls}` });

    assert.deepEqual(await nudge.getPrompts(), []);
    assert.equal(calls, 2);
    assert.equal(service.requests.length, 2);
    assert.equal(errors[0].kind, "unauthorized");
    assert.match(errors[0].message, /client token signature does not match/);
  });

  test("with only a static token a 401 is not retried, and the message says to pass getToken", async () => {
    service = await startService((req, res) => json(res, 401, {}));
    const { nudge, errors } = client({ token: "t" });

    assert.deepEqual(await nudge.getPrompts(), []);
    assert.equal(service.requests.length, 1);
    assert.match(errors[0].message, /pass getToken/);
  });

  test("a cached token that has expired is replaced before it is sent", async () => {
    service = await startService(answerPrompts);
    const expired = jwt({ account_id: "acme", exp: nowSeconds() - 60 });
    const valid = jwt({ account_id: "acme", exp: nowSeconds() + 3600 });
    const { nudge } = client({ token: expired, getToken: () => valid });

    await nudge.getPrompts();

    assert.deepEqual(
      service.requests.map((r) => r.headers.authorization),
      [`Bearer ${valid}`],
    );
  });

  test("a token this machine's clock calls expired is not fetched again on every call", async () => {
    service = await startService(answerPrompts);
    let calls = 0;
    const { nudge } = client({ getToken: () => (calls++, jwt({ account_id: "acme", exp: nowSeconds() - 600 })) });

    await nudge.getPrompts();
    await nudge.getPrompts();
    await nudge.getPrompts();

    assert.equal(calls, 1);
    assert.equal(service.requests.length, 3);
  });

  test("a getToken that throws gives [] and no request", async () => {
    service = await startService(answerPrompts);
    const { nudge, errors } = client({
      getToken: () => {
        throw new Error("session expired");
      },
    });

    assert.deepEqual(await nudge.getPrompts(), []);
    assert.equal(service.requests.length, 0);
    assert.equal(errors[0].kind, "token");
    assert.match(errors[0].message, /getToken failed: session expired/);
  });

  test("a getToken that resolves to something other than a string gives []", async () => {
    service = await startService(answerPrompts);
    const { nudge, errors } = client({ getToken: async () => ({ token: "t" }) });

    assert.deepEqual(await nudge.getPrompts(), []);
    assert.equal(service.requests.length, 0);
    assert.match(errors[0].message, /getToken returned object; it must return .* a client token string/);
  });

  test("a getToken that hangs is cut off by the timeout, and the next call asks again", HANG_LIMIT, async () => {
    service = await startService(answerPrompts);
    let calls = 0;
    const { nudge, errors } = client({
      timeoutMs: 100,
      getToken: () => (++calls === 1 ? new Promise(() => {}) : "tok"),
    });

    assert.deepEqual(await nudge.getPrompts(), []);
    assert.equal(errors[0].kind, "timeout");
    assert.equal((await nudge.getPrompts()).length, 1);
    assert.equal(calls, 2);
  });
});

describe("report", () => {
  test("POSTs the event type as JSON to the prompt's events route and resolves true", async () => {
    service = await startService((req, res) => json(res, 202, { status: "accepted" }));
    const { nudge, errors } = client({ token: "t" });
    const id = prompt().id;

    assert.equal(await nudge.report(id, "dismissed"), true);

    const [req] = service.requests;
    assert.equal(req.method, "POST");
    assert.equal(req.url, `/v1/prompts/${id}/events`);
    assert.equal(req.headers.authorization, "Bearer t");
    assert.equal(req.headers["content-type"], "application/json");
    assert.deepEqual(JSON.parse(req.body), { type: "dismissed" });
    assert.deepEqual(errors, []);
  });

  test("accepts each event type the service knows", async () => {
    service = await startService((req, res) => json(res, 202, { status: "accepted" }));
    const { nudge } = client({ token: "t" });

    for (const type of ["shown", "clicked", "dismissed", "converted"]) {
      assert.equal(await nudge.report("p1", type), true, type);
    }
    assert.deepEqual(
      service.requests.map((r) => JSON.parse(r.body).type),
      ["shown", "clicked", "dismissed", "converted"],
    );
  });

  test("refreshes the token on 401 and retries once", async () => {
    service = await startService((req, res) =>
      req.headers.authorization === "Bearer old" ? json(res, 401, {}) : json(res, 202, { status: "accepted" }),
    );
    const tokens = ["old", "new"];
    const { nudge } = client({ getToken: () => tokens.shift() });

    assert.equal(await nudge.report("p1", "clicked"), true);
    assert.deepEqual(
      service.requests.map((r) => r.headers.authorization),
      ["Bearer old", "Bearer new"],
    );
  });

  test("an unknown event type resolves false without a request and names the known types", async () => {
    service = await startService((req, res) => json(res, 202, {}));
    const { nudge, errors } = client({ token: "t" });

    assert.equal(await nudge.report("p1", "closed"), false);
    assert.equal(await nudge.report("", "shown"), false);
    assert.equal(service.requests.length, 0);
    assert.equal(errors[0].kind, "invalid_argument");
    assert.match(errors[0].message, /unknown event type "closed"; use one of shown, clicked, dismissed, converted/);
  });

  test("a prompt id that is not valid Unicode resolves false without a request and says why", async () => {
    service = await startService((req, res) => json(res, 202, { status: "accepted" }));
    const { nudge, errors } = client({ token: "t" });

    for (const id of ["\ud800", "abc\udc00def", "p1\ud83d", "\ude00p1"]) {
      assert.equal(await nudge.report(id, "shown"), false, JSON.stringify(id));
    }
    assert.equal(service.requests.length, 0);
    assert.deepEqual(
      errors.map((e) => [e.kind, e.message.match(/not valid Unicode \(a lone surrogate at (\d+)\)/)?.[1]]),
      [
        ["invalid_argument", "0"],
        ["invalid_argument", "3"],
        ["invalid_argument", "2"],
        ["invalid_argument", "0"],
      ],
    );
    assert.equal(await nudge.report("p1-\ud83d\ude00", "shown"), true); // a pair is one character
    assert.equal(service.requests[0].url, "/v1/prompts/p1-%F0%9F%98%80/events");
  });

  test("a prompt id that is not a string resolves false without a request", async () => {
    service = await startService((req, res) => json(res, 202, {}));
    const { nudge, errors } = client({ token: "t" });

    for (const id of [undefined, null, 42, { id: "p1" }]) assert.equal(await nudge.report(id, "shown"), false);
    assert.equal(service.requests.length, 0);
    assert.ok(errors.every((e) => e.kind === "invalid_argument" && /the prompt id must be the "id" of a prompt/.test(e.message)));
    assert.equal(errors.length, 4);
  });

  test("resolves false, never rejects, when the service is down, slow or refuses", HANG_LIMIT, async () => {
    service = await startService((req, res, n) => {
      if (n === 1) json(res, 404, { error: { code: "not_found", message: "prompt id signature does not match" } });
      if (n === 2) json(res, 503, { error: { code: "store_unavailable", message: "store unavailable" } });
      // the third never answers
    });
    const { nudge, errors } = client({ token: "t", timeoutMs: 150 });

    assert.equal(await nudge.report("p1", "dismissed"), false);
    assert.equal(await nudge.report("p1", "dismissed"), false);
    assert.equal(await nudge.report("p1", "dismissed"), false);
    assert.deepEqual(
      errors.map((e) => e.status ?? e.kind),
      [404, 503, "timeout"],
    );
  });
});

describe("never throws into the host page", () => {
  test("createNudge without options, and its methods, neither throw nor reject", async () => {
    for (const options of [undefined, null, 42, {}, { endpoint: "https://n.example" }]) {
      const nudge = createNudge(options);
      assert.deepEqual(await nudge.getPrompts(), []);
      assert.deepEqual(await nudge.getPrompts(null), []);
      assert.equal(await nudge.report("p1", "shown"), false);
    }
  });

  test("a missing endpoint or credential is reported with how to fix it, and nothing is sent", async () => {
    const errors = [];
    const fetch = fakeFetch(() => [200, { prompts: [] }]);
    createNudge({ token: "t", fetch, onError: (e) => errors.push(e) });
    createNudge({ endpoint: "https://n.example", fetch, onError: (e) => errors.push(e) });

    assert.deepEqual(
      errors.map((e) => e.kind),
      ["config", "config"],
    );
    assert.match(errors[0].message, /"endpoint" is missing; pass the base URL of your Nudge service/);
    assert.match(errors[1].message, /pass "token" .* or "getToken"/);
    assert.equal(fetch.calls.length, 0);
  });

  test("a bad timeoutMs falls back to 1500 ms and says so", async () => {
    const errors = [];
    const fetch = fakeFetch(() => [200, { prompts: [prompt()], degraded: false }]);
    const nudge = createNudge({ endpoint: "https://n.example", token: "t", timeoutMs: "fast", fetch, onError: (e) => errors.push(e) });

    assert.equal((await nudge.getPrompts()).length, 1);
    assert.match(errors[0].message, /"timeoutMs" must be a positive number of milliseconds, not fast; using 1500/);
  });

  test("a fetch that throws synchronously gives [] and false", async () => {
    const fetch = () => {
      throw new TypeError("Illegal invocation");
    };
    const nudge = createNudge({ endpoint: "https://n.example", token: "t", fetch });

    assert.deepEqual(await nudge.getPrompts(), []);
    assert.equal(await nudge.report("p1", "shown"), false);
  });

  test("an onError that throws does not reach the caller", async () => {
    const fetch = fakeFetch(() => [500, {}]);
    const nudge = createNudge({
      endpoint: "https://n.example",
      token: "t",
      fetch,
      onError: () => {
        throw new Error("host bug");
      },
    });

    assert.deepEqual(await nudge.getPrompts(), []);
  });

  test("console.warn is called once per kind of error, onError for every error", async () => {
    let status = 500;
    const fetch = fakeFetch(() => [status, {}]);
    const errors = [];
    const nudge = createNudge({ endpoint: "https://n.example", token: "t", fetch, onError: (e) => errors.push(e) });

    await nudge.getPrompts();
    await nudge.getPrompts();
    status = 200;
    await nudge.getPrompts(); // no "prompts" list: another kind
    await nudge.getPrompts();

    assert.equal(errors.length, 4);
    assert.equal(warn.mock.callCount(), 2);
    assert.match(warn.mock.calls[0].arguments[0], /^nudge: GET \/v1\/prompts answered 500/);
    assert.match(warn.mock.calls[1].arguments[0], /without a "prompts" list/);
  });

  test("errors handed to onError say what kind they are", async () => {
    const errors = [];
    const nudge = createNudge({ endpoint: "https://n.example", token: "t", fetch: fakeFetch(() => [503, {}]), onError: (e) => errors.push(e) });

    await nudge.getPrompts();

    assert.ok(errors[0] instanceof Error);
    assert.equal(errors[0].name, "NudgeError");
    assert.equal(errors[0].kind, "http");
    assert.equal(errors[0].status, 503);
  });
});
