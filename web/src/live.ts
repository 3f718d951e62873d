// Following an order while its saga runs: GET /orders/{id}?wait=S in a
// loop. The gateway answers at once when the order is COMPLETED or
// CANCELLED, else after S seconds with the order as it is then (so a
// short S also shows the steps in between). A 429 (the caller's waiting
// budget) or 503 is waited out as Retry-After says; a lost connection is
// retried with a growing pause.
import { useEffect, useState } from "preact/hooks";
import { api, describeError, retryAfter, sleep } from "./api/client";

// what the typed client answers (openapi-fetch's Readable form of the
// document's OrderRead)
const readOrder = (id: string) => api.GET("/orders/{id}", { params: { path: { id } } });
export type OrderRead = NonNullable<Awaited<ReturnType<typeof readOrder>>["data"]>;
export type OrderDetail = Extract<OrderRead, { customer_id: string }>;

export const isDetail = (o: OrderRead | null | undefined): o is OrderDetail => !!o && "customer_id" in o;
export const isFinal = (o: OrderRead | null | undefined) => o?.status === "COMPLETED" || o?.status === "CANCELLED";

export interface LiveOrder {
  order: OrderRead | null;
  error: string;
  missing: boolean;
}

/** The order, read at once and then followed while it is not final.
 * known: the caller has the order's state already (a list's row): skip the
 * first read, and do nothing at all when that state is final. */
export function useLiveOrder(id: string, waitSeconds: number, known?: { final: boolean }): LiveOrder {
  const [state, setState] = useState<LiveOrder>({ order: null, error: "", missing: false });
  useEffect(() => {
    if (known?.final) return;
    const stop = new AbortController();
    void (async () => {
      let pause = 500;
      let first = !known;
      while (!stop.signal.aborted) {
        try {
          const { data, error, response } = await api.GET("/orders/{id}", {
            params: { path: { id }, query: { wait: first ? 0 : waitSeconds } },
            signal: stop.signal,
          });
          first = false;
          if (data) {
            pause = 500;
            setState({ order: data, error: "", missing: false });
            if (isFinal(data)) return;
            continue;
          }
          if (response.status === 404) {
            setState({ order: null, error: "", missing: true });
            return;
          }
          if (response.status === 429 || response.status === 503) {
            await sleep(retryAfter(response) * 1000, stop.signal);
            continue;
          }
          setState((s) => ({ ...s, error: describeError(error, response) }));
          return;
        } catch {
          if (stop.signal.aborted) return;
          setState((s) => ({ ...s, error: "The connection to the gateway was lost; retrying…" }));
          await sleep(pause, stop.signal);
          pause = Math.min(pause * 2, 10000);
        }
      }
    })();
    return () => stop.abort();
  }, [id, waitSeconds]);
  return state;
}
