// The package as a user installs it: its exports, its declarations, its docs.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { test } from "node:test";

import * as nudgeModule from "../nudge.js";
import { byClass, FakeDocument, findAll } from "../test-support/fake-dom.js";
import { fakeFetch, prompt } from "../test-support/helpers.js";

const here = (path) => new URL(path, import.meta.url);
const pkg = JSON.parse(readFileSync(here("../package.json"), "utf8"));
const readme = readFileSync(here("../README.md"), "utf8");

test("the package name resolves, through exports, to nudge.js", async () => {
  const viaName = await import(pkg.name);

  assert.equal(viaName.createNudge, nudgeModule.createNudge);
});

test("package.json: an ES module with types, its files listed, and no dependencies", () => {
  assert.equal(pkg.type, "module");
  assert.deepEqual(pkg.exports["."], { types: "./nudge.d.ts", default: "./nudge.js" });
  for (const file of ["nudge.js", "nudge.d.ts", "README.md"]) {
    assert.ok(pkg.files.includes(file), `${file} is published`);
    assert.ok(existsSync(here("../" + file)), `${file} exists`);
  }
  assert.equal(pkg.dependencies, undefined);
  assert.equal(pkg.devDependencies, undefined);
});

test("nudge.d.ts declares every export of nudge.js", () => {
  const declarations = readFileSync(here("../nudge.d.ts"), "utf8");
  for (const name of Object.keys(nudgeModule)) {
    assert.match(declarations, new RegExp(`export (declare )?function ${name}\\(`), name);
  }
});

test("nudge.js imports nothing", () => {
  const source = readFileSync(here("../nudge.js"), "utf8");

  assert.doesNotMatch(source, /^\s*import\s/m);
  assert.doesNotMatch(source, /\bimport\(/);
});

test("the README documents exactly the CSS custom properties the renderer reads", async () => {
  const doc = new FakeDocument();
  const container = doc.body.appendChild(doc.createElement("div"));
  const nudge = createNudgeFor([prompt()]);
  await nudge.mount(container, {}).refresh();
  const css = findAll(container, (n) => n.tagName === "STYLE")[0].textContent;
  const names = (text) => new Set(text.match(/--nudge-[a-z][a-z-]*/g));

  assert.deepEqual([...names(readme)].sort(), [...names(css)].sort());
});

test("the README documents the parts the renderer exposes", async () => {
  const doc = new FakeDocument();
  const container = doc.body.appendChild(doc.createElement("div"));
  await createNudgeFor([prompt()]).mount(container, {}).refresh();
  const parts = new Set(findAll(container, (n) => n.getAttribute("part")).flatMap((n) => n.getAttribute("part").split(" ")));

  assert.ok(byClass(container, "p").length === 1);
  for (const part of parts) assert.ok(readme.includes("`" + part + "`"), `part "${part}" is in the README`);
});

function createNudgeFor(prompts) {
  return nudgeModule.createNudge({
    endpoint: "https://n.example",
    token: "t",
    fetch: fakeFetch(() => [200, { prompts, degraded: false }]),
  });
}
