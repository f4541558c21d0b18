// A tiny DOM, just enough of the real one for the renderer's logic to run under
// `node --test`: elements, attributes, text, shadow roots, events with capture and
// bubbling, focus (document.activeElement / shadowRoot.activeElement), layout as
// "attached and not hidden", and an IntersectionObserver the test drives by hand.
// Real-browser behaviour (layout, CSS, screen readers) is for the Playwright tests.

export class FakeEvent {
  constructor(type, init = {}) {
    Object.assign(this, init);
    this.type = type;
    this.defaultPrevented = false;
    this.propagationStopped = false;
  }
  preventDefault() {
    this.defaultPrevented = true;
  }
  stopPropagation() {
    this.propagationStopped = true;
  }
}

class FakeNode {
  constructor(doc) {
    this.ownerDocument = doc;
    this.parentNode = null;
    this.childNodes = [];
    this.listeners = [];
  }
  appendChild(child) {
    if (child.parentNode) child.parentNode.removeChild(child);
    child.parentNode = this;
    this.childNodes.push(child);
    return child;
  }
  removeChild(child) {
    const at = this.childNodes.indexOf(child);
    if (at === -1) throw new Error("removeChild: not a child");
    this.childNodes.splice(at, 1);
    child.parentNode = null;
    return child;
  }
  remove() {
    if (this.parentNode) this.parentNode.removeChild(this);
  }
  // The node above this one in the composed tree (a shadow root leads to its host).
  get composedParent() {
    return this.parentNode;
  }
  get isConnected() {
    let node = this;
    while (node.composedParent) node = node.composedParent;
    return node === this.ownerDocument;
  }
  addEventListener(type, fn, capture) {
    this.listeners.push({ type, fn, capture: capture === true || !!(capture && capture.capture) });
  }
  removeEventListener(type, fn, capture) {
    const c = capture === true || !!(capture && capture.capture);
    this.listeners = this.listeners.filter((l) => !(l.type === type && l.fn === fn && l.capture === c));
  }
  dispatchEvent(event) {
    event.target = this;
    const path = [];
    for (let node = this; node; node = node.composedParent) path.push(node);
    const run = (node, capture) => {
      for (const l of node.listeners.slice()) {
        if (l.type === event.type && (node === this || l.capture === capture)) l.fn.call(node, event);
      }
    };
    for (const node of path.slice(1).reverse()) {
      run(node, true);
      if (event.propagationStopped) return !event.defaultPrevented;
    }
    run(this, null);
    for (const node of path.slice(1)) {
      if (event.propagationStopped) break;
      run(node, false);
    }
    return !event.defaultPrevented;
  }
  *descendants() {
    for (const child of this.childNodes) {
      yield child;
      yield* child.descendants();
      if (child.shadowRoot) yield* child.shadowRoot.descendants();
    }
  }
}

class FakeText extends FakeNode {
  constructor(doc, text) {
    super(doc);
    this.data = text;
  }
  get textContent() {
    return this.data;
  }
}

export class FakeElement extends FakeNode {
  constructor(doc, tagName) {
    super(doc);
    this.tagName = tagName.toUpperCase();
    this.attributes = new Map();
    this.shadowRoot = null;
    this.hidden = false;
  }
  setAttribute(name, value) {
    this.attributes.set(name, String(value));
  }
  getAttribute(name) {
    return this.attributes.has(name) ? this.attributes.get(name) : null;
  }
  get id() {
    return this.getAttribute("id") || "";
  }
  get textContent() {
    return this.childNodes.map((c) => c.textContent).join("");
  }
  set textContent(text) {
    for (const c of this.childNodes) c.parentNode = null;
    this.childNodes = [new FakeText(this.ownerDocument, String(text))];
    this.childNodes[0].parentNode = this;
  }
  attachShadow({ mode }) {
    if (this.shadowRoot) throw new Error("attachShadow: already has a shadow root");
    this.shadowRoot = new FakeShadowRoot(this.ownerDocument, this, mode);
    return this.shadowRoot;
  }
  focus() {
    if (!this.isConnected) return; // like a browser: a detached element cannot take focus
    const doc = this.ownerDocument;
    let top = this;
    while (top.parentNode) top = top.parentNode;
    if (doc.focusedShadow) doc.focusedShadow.focused = null;
    doc.focusedShadow = null;
    if (top instanceof FakeShadowRoot) {
      top.focused = this;
      doc.focusedShadow = top;
      doc.focused = top.host;
    } else {
      doc.focused = this;
    }
  }
  click() {
    return this.dispatchEvent(new FakeEvent("click", { button: 0 }));
  }
  getClientRects() {
    for (let node = this; node; node = node.composedParent) if (node.hidden) return [];
    return this.isConnected ? [{ width: 100, height: 20 }] : [];
  }
}

class FakeShadowRoot extends FakeNode {
  constructor(doc, host, mode) {
    super(doc);
    this.host = host;
    this.mode = mode;
    this.focused = null;
  }
  get composedParent() {
    return this.host;
  }
  get activeElement() {
    return this.focused && this.focused.isConnected && this.ownerDocument.focusedShadow === this ? this.focused : null;
  }
}

export class FakeIntersectionObserver {
  constructor(callback, options) {
    this.callback = callback;
    this.options = options;
    this.targets = [];
    FakeIntersectionObserver.instances.push(this);
  }
  observe(target) {
    this.targets.push(target);
  }
  disconnect() {
    this.targets = [];
  }
  // Test side: say that `ratio` of each observed target is in the viewport.
  report(ratio) {
    const entries = this.targets.map((target) => ({ target, isIntersecting: ratio > 0, intersectionRatio: ratio }));
    if (entries.length) this.callback(entries, this);
  }
}
FakeIntersectionObserver.instances = [];

export class FakeDocument extends FakeNode {
  constructor({ intersectionObserver = true } = {}) {
    super(null);
    this.ownerDocument = this;
    this.visibilityState = "visible";
    this.defaultView = intersectionObserver ? { IntersectionObserver: FakeIntersectionObserver } : {};
    this.body = this.appendChild(this.createElement("body"));
    this.focused = null;
    this.focusedShadow = null;
  }
  createElement(tagName) {
    return new FakeElement(this, tagName);
  }
  get activeElement() {
    return this.focused && this.focused.isConnected ? this.focused : this.body;
  }
  setVisibility(state) {
    this.visibilityState = state;
    this.dispatchEvent(new FakeEvent("visibilitychange"));
  }
}

/** Every element under `root`, shadow roots included, that `test` accepts. */
export function findAll(root, test) {
  return Array.from(root.descendants()).filter((n) => n instanceof FakeElement && test(n));
}

export function byRole(root, role) {
  return findAll(root, (n) => n.getAttribute("role") === role);
}

export function byClass(root, name) {
  return findAll(root, (n) => (n.getAttribute("class") || "").split(" ").includes(name));
}

/** Press a key where focus is, as a browser would dispatch it. */
export function press(doc, key, { shiftKey = false } = {}) {
  let target = doc.activeElement;
  while (target.shadowRoot && target.shadowRoot.activeElement) target = target.shadowRoot.activeElement;
  const event = new FakeEvent("keydown", { key, shiftKey });
  target.dispatchEvent(event);
  return event;
}
