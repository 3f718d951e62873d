// GET /orders/{id}/trace through the typed client: the trace at once, or
// with wait and the version of the last answer, a long poll for the next
// version. Its answer is the view's Trace (./types.ts), so a change of
// the document that the view cannot read fails the type check here.
import { api, retryAfter } from "../api/client";
import type { Trace } from "./types";

export type TraceAnswer =
  | { kind: "trace"; trace: Trace }
  | { kind: "missing" } // no such order (or another customer's)
  | { kind: "wait"; seconds: number } // 429 or 503: retry after
  | { kind: "error"; message: string };

export async function readTrace(id: string, wait: number, version: string | null, signal: AbortSignal): Promise<TraceAnswer> {
  const { data, error, response } = await api.GET("/orders/{id}/trace", {
    params: { path: { id }, query: wait > 0 && version ? { wait, version } : {} },
    signal,
  });
  if (data) {
    const trace: Trace = data;
    return { kind: "trace", trace };
  }
  if (response.status === 404) return { kind: "missing" };
  if (response.status === 429 || response.status === 503) return { kind: "wait", seconds: retryAfter(response) };
  return { kind: "error", message: error?.error.message ?? `the gateway answered ${response.status}` };
}
