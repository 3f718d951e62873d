// GET /orders/{id}/trace (wait, version: a long poll for the next version
// of the trace). The route is not in the gateway's /openapi.json yet, so
// the typed client cannot call it: this is plain fetch with the same
// bearer token, to be replaced by api.GET("/orders/{id}/trace") once the
// document has it.
import { storedToken } from "../api/token";
import type { Trace } from "./types";

export type TraceAnswer =
  | { kind: "trace"; trace: Trace }
  | { kind: "unsupported" } // this gateway has no such route
  | { kind: "missing" } // no such order (or another customer's)
  | { kind: "wait"; seconds: number } // 429 or 503: retry after
  | { kind: "error"; message: string };

export async function readTrace(id: string, wait: number, version: string | null, signal: AbortSignal): Promise<TraceAnswer> {
  const query = new URLSearchParams();
  if (wait > 0 && version) {
    query.set("wait", String(wait));
    query.set("version", version);
  }
  const token = storedToken();
  const response = await fetch(`/orders/${encodeURIComponent(id)}/trace${query.size ? `?${query}` : ""}`, {
    headers: token ? { Authorization: `Bearer ${token}` } : {},
    signal,
  });
  const body = (await response.json().catch(() => null)) as { error?: { code?: string; message?: string } } | Trace | null;
  if (response.ok && body && "hops" in body) return { kind: "trace", trace: body };
  const error = body && "error" in body ? body.error : undefined;
  if (response.status === 404)
    return error?.message === "no such endpoint" ? { kind: "unsupported" } : { kind: "missing" };
  if (response.status === 429 || response.status === 503)
    return { kind: "wait", seconds: Number(response.headers.get("Retry-After")) || 1 };
  return { kind: "error", message: error?.message ?? `the gateway answered ${response.status}` };
}
