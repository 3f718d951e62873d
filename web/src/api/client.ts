// The console's one way to the gateway: a client generated from the
// gateway's /openapi.json (openapi-typescript's types in ./schema.d.ts,
// openapi-fetch's typed calls), so a path, parameter, body or answer the
// document does not have fails the console's type check. The bearer token
// of the signed-in visitor goes on every request (the middleware below);
// a 401 to a request that carried one ends the session.
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";
import { storedToken } from "./token";

export type Schemas = components["schemas"];
export type ApiError = Schemas["Error"];

let onSessionExpired: () => void = () => {};

/** Called when the gateway refuses the stored token (expired, or signed
 * with another key): the session module signs the visitor out. */
export function whenSessionExpires(fn: () => void): void {
  onSessionExpired = fn;
}

const bearer: Middleware = {
  onRequest({ request }) {
    const token = storedToken();
    if (token && !request.headers.has("Authorization"))
      request.headers.set("Authorization", `Bearer ${token}`);
    return request;
  },
  onResponse({ request, response }) {
    if (response.status === 401 && request.headers.has("Authorization")) onSessionExpired();
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: globalThis.location?.origin ?? "" });
api.use(bearer);

/** What went wrong, for a person: the error contract's message (and field),
 * or the status when the answer was not the contract's. */
export function describeError(error: unknown, response?: Response): string {
  const e = error as Partial<ApiError> | undefined;
  if (e && typeof e === "object" && e.error && typeof e.error.message === "string") {
    const field = (e.error.details as { field?: string } | undefined)?.field;
    return field && !e.error.message.includes(field) ? `${e.error.message} (${field})` : e.error.message;
  }
  if (response) return `the gateway answered ${response.status} ${response.statusText}`.trim();
  return error instanceof Error ? error.message : "the gateway could not be reached";
}

/** The error contract's code, or "". */
export function errorCode(error: unknown): string {
  const e = error as Partial<ApiError> | undefined;
  return (e && typeof e === "object" && e.error?.code) || "";
}

/** Seconds a 429 or 503 asks to wait (Retry-After), at least 1. */
export function retryAfter(response: Response): number {
  const s = Number(response.headers.get("Retry-After"));
  return Number.isFinite(s) && s > 0 ? s : 1;
}

export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(t);
      resolve();
    });
  });
