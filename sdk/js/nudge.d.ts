// Type declarations for nudge.js, the Nudge browser SDK.

/** How a prompt is shown. */
export type PromptStyle = "banner" | "modal" | "inline" | "toast";

/** What the user did with a prompt, as `POST /v1/prompts/{id}/events` takes it. */
export type PromptEventType = "shown" | "clicked" | "dismissed" | "converted";

/** A prompt, as `GET /v1/prompts` returns it (docs/api.md). */
export interface Prompt {
  /** Opaque and signed; report events with it (valid for 7 days). */
  id: string;
  /** The id of the trigger that fired. */
  trigger: string;
  /** The metric it is about; `null` for a trigger with only a `when:` condition. */
  metric: string | null;
  usage: number | null;
  /** `null` where the plan has no limit. */
  limit: number | null;
  plan: string;
  upgrade_plan: string | null;
  /** An unknown style from a newer service is shown as `"banner"`. */
  style: PromptStyle;
  title: string;
  body: string | null;
  cta: { label: string; url: string } | null;
}

/** What went wrong, in `NudgeError.kind`. Each kind is warned on the console at most once per client. */
export type NudgeErrorKind =
  /** createNudge options are missing or wrong; nothing is sent. */
  | "config"
  /** getToken threw, rejected, or gave something other than a non-empty string. */
  | "token"
  /** the call did not finish within `timeoutMs`. */
  | "timeout"
  /** fetch failed: the service is down, the endpoint is wrong, or CORS refused this origin. */
  | "network"
  /** 401 (after one refresh through getToken, where there is one). */
  | "unauthorized"
  /** any other non-2xx answer; see `status` and `code`. */
  | "http"
  /** the service answered `"degraded": true`: its store is slow or down. */
  | "degraded"
  /** a 2xx answer that is not the service's JSON. */
  | "response"
  /**
   * Nothing was sent: report() got a prompt id that is not a non-empty string or an unknown
   * event type, or report() or getPrompts() got text that is not valid Unicode (a lone
   * surrogate, which has no UTF-8 form). report() resolves false, getPrompts() [].
   */
  | "invalid_argument"
  /** mount() or the renderer could not do its work. */
  | "render";

export interface NudgeError extends Error {
  name: "NudgeError";
  kind: NudgeErrorKind;
  /** The HTTP status, for `http` and `unauthorized`. */
  status?: number;
  /** The service's error code (`invalid_request`, `store_unavailable`, ...), where it sent one. */
  code?: string;
  cause?: unknown;
}

interface BaseOptions {
  /** The base URL of the Nudge service, without `/v1`: `"https://nudge.example.com"` or `"/nudge"`. */
  endpoint: string;
  /** The deadline of each call (token, request, one 401 retry and the body), in ms. Default 1500. */
  timeoutMs?: number;
  /** A fetch to use instead of `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Called with every error; the SDK itself never throws or rejects. */
  onError?: (error: NudgeError) => void;
}

/** A client token your backend minted for the signed-in user. */
export type TokenSource =
  | { token: string; getToken?: () => string | Promise<string> }
  | { token?: string; getToken: () => string | Promise<string> };

/**
 * Options of createNudge. `token`: used as is. `getToken`: called when a token is first
 * needed, when the cached one has expired (JWT `exp`), and once after a 401 (then the
 * request is retried once). With both, `token` is used first and `getToken` renews it.
 */
export type NudgeOptions = BaseOptions & TokenSource;

export interface GetPromptsOptions {
  /** Only triggers without `placements` or listing this one (1-64 characters). */
  placement?: string;
}

export interface MountOptions extends GetPromptsOptions {
  /** How many prompts to show at once, highest priority first (never more than one modal). Default 1. */
  limit?: number;
  /** The close button's accessible name. Default `"Dismiss"`. */
  closeLabel?: string;
  /** The share of a prompt (0-1] that must be in the viewport before `shown` is reported. Default 0.5. */
  visibleRatio?: number;
}

export interface MountHandle {
  /** Ask the service again and update what is shown; resolves once it is on screen. Never rejects. */
  refresh(): Promise<void>;
  /** Remove the prompts and the host element; returns focus from an open modal. */
  destroy(): void;
}

export interface Nudge {
  /**
   * The prompts to show now; `[]` on any error, timeout or degraded answer, and (with no
   * request) for a placement that is not valid Unicode. Never rejects.
   */
  getPrompts(options?: GetPromptsOptions): Promise<Prompt[]>;
  /**
   * Report an event; resolves `true` once the service accepted it, else `false`. Never
   * rejects. What the service always refuses (an empty prompt id, an unknown type, text
   * that is not valid Unicode) resolves `false` at once, without a request, and
   * `onError` hears why (kind `invalid_argument`).
   */
  report(promptId: string, type: PromptEventType): Promise<boolean>;
  /** Render the prompts for a placement into `element`, in a shadow root of their own. */
  mount(element: Element, options?: MountOptions): MountHandle;
}

/** Create a client. Never throws: bad options are reported through `onError` and the console. */
export function createNudge(options: NudgeOptions): Nudge;
