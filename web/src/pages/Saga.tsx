// The live saga view of one order: its trace (every publish and delivery,
// with timings) as swimlanes, followed by long poll while hops arrive.
import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api, sleep } from "../api/client";
import { Copyable } from "../components/Copy";
import { Loading, Notice, StatusBadge, useTitle } from "../components/bits";
import { shortId } from "../ids";
import { buildSaga, duration, stillMoving } from "../saga/model";
import { HopDetails, Legend, SagaLanes, SagaList, type Selection } from "../saga/SagaView";
import { readTrace } from "../saga/traceApi";
import type { Trace } from "../saga/types";
import { RequireAccount } from "./RequireAccount";

type Feed =
  | { state: "loading" }
  | { state: "live" | "settled"; trace: Trace }
  | { state: "missing" }
  | { state: "error"; message: string; trace?: Trace };

const FINAL = new Set(["COMPLETED", "CANCELLED"]);
// after the order is final, how long to keep waiting for hops it implies
const SETTLE_MS = 30000;

function useTrace(id: string): Feed {
  const [feed, setFeed] = useState<Feed>({ state: "loading" });
  useEffect(() => {
    const stop = new AbortController();
    void (async () => {
      let trace: Trace | null = null;
      let settledSince = 0;
      let pause = 500;
      while (!stop.signal.aborted) {
        let answer;
        try {
          answer = await readTrace(id, 25, trace?.version ?? null, stop.signal);
        } catch {
          if (stop.signal.aborted) return;
          await sleep(pause, stop.signal);
          pause = Math.min(pause * 2, 10000);
          continue;
        }
        pause = 500;
        if (answer.kind === "missing") return setFeed({ state: "missing" });
        if (answer.kind === "wait") {
          await sleep(answer.seconds * 1000, stop.signal);
          continue;
        }
        if (answer.kind === "error") return setFeed({ state: "error", message: answer.message, ...(trace ? { trace } : {}) });
        const changed = !trace || answer.trace.version !== trace.version;
        trace = answer.trace;
        const final = trace.final || FINAL.has(trace.status);
        const moving = stillMoving(buildSaga(trace, { final }), final);
        if (final && changed) settledSince = Date.now();
        if (final && (!moving || Date.now() - settledSince > SETTLE_MS)) return setFeed({ state: "settled", trace });
        setFeed({ state: "live", trace });
        // a gateway that answers at once without a change is not waited on in a hot loop
        if (!changed) await sleep(1000, stop.signal);
      }
    })();
    return () => stop.abort();
  }, [id]);
  return feed;
}

/** The view of order id's saga; aside draws what a page adds under its
 * head (the console: the saga's dead letters). */
export function SagaBody({ id, aside }: { id: string; aside?: (trace: Trace) => ComponentChildren }) {
  const feed = useTrace(id);
  const trace = "trace" in feed ? feed.trace : undefined;
  const [cancelReason, setCancelReason] = useState<string | null>(null);
  const [selection, setSelection] = useState<Selection | null>(null);
  // the row that opened the details gets the focus back when they close
  const opener = useRef<Element | null>(null);
  const select = useCallback((s: Selection) => {
    opener.current = document.activeElement;
    setSelection(s);
  }, []);
  const close = useCallback(() => {
    setSelection(null);
    (opener.current as HTMLElement | SVGElement | null)?.focus?.();
  }, []);
  useEffect(() => {
    if (!trace || trace.status !== "CANCELLED") return;
    api.GET("/orders/{id}", { params: { path: { id } } }).then(({ data }) => {
      if (data && "cancel_reason" in data) setCancelReason(data.cancel_reason ?? null);
    });
  }, [id, trace?.status]);
  const final = !!trace && (trace.final || FINAL.has(trace.status));
  const model = useMemo(() => buildSaga(trace ?? null, { final, cancelReason }), [trace, final, cancelReason]);

  // keep the open details on the same hop as the trace grows
  const selectedKey = selection ? (selection.delivery ? `${selection.delivery.key}:delivery` : `${selection.event.key}:event`) : null;
  const current = useMemo(() => {
    if (!selection) return null;
    const event = model.events.find((e) => e.key === selection.event.key) ?? selection.event;
    const delivery = selection.delivery ? (event.deliveries.find((d) => d.key === selection.delivery!.key) ?? selection.delivery) : null;
    return { event, delivery };
  }, [selection, model]);

  if (feed.state === "loading") return <Loading what="the saga" />;
  if (feed.state === "missing") return <Notice kind="error">There is no such order among yours.</Notice>;
  if (!trace) return <Notice kind="error">{feed.state === "error" ? feed.message : "The trace could not be read."}</Notice>;

  const span = model.start !== null && model.end !== null ? duration(model.end - model.start) : "–";
  const m = model.marks;
  const marks = [
    m.retries && `${m.retries} ${m.retries === 1 ? "retry" : "retries"}`,
    m.duplicates && `${m.duplicates} duplicate${m.duplicates === 1 ? "" : "s"}`,
    m.deadLetters && `${m.deadLetters} dead letter${m.deadLetters === 1 ? "" : "s"}`,
    m.replays && `${m.replays} replay${m.replays === 1 ? "" : "s"}`,
  ].filter(Boolean);
  return (
    <>
      <div class="saga-head card">
        <div class="saga-facts">
          <StatusBadge status={trace.status} reason={cancelReason} />
          <span>
            <strong>{model.events.filter((e) => !e.expected).length}</strong> events · <strong>{model.hops}</strong> hops ·{" "}
            <strong>{span}</strong>
          </span>
          {marks.length > 0 && <span class="marks">{marks.join(" · ")}</span>}
          <span class={`live-state ${feed.state}`} role="status">
            {feed.state === "live" ? (
              <>
                <span class="pulse" aria-hidden="true" /> live
              </>
            ) : feed.state === "settled" ? (
              "final"
            ) : (
              "updates stopped"
            )}
          </span>
        </div>
        <div class="saga-trace-id">
          <span class="muted">Trace id</span> <Copyable value={trace.trace_id} label="trace id" />
        </div>
        <Legend />
      </div>
      {feed.state === "error" && <Notice kind="warning">Live updates stopped: {feed.message}</Notice>}
      {aside?.(trace)}
      <div class="saga-diagram card" data-hops={model.hops}>
        <SagaLanes model={model} selected={selectedKey} onSelect={select} />
        <SagaList model={model} selected={selectedKey} onSelect={select} />
      </div>
      {current && <HopDetails selection={current} events={model.events} onClose={close} />}
    </>
  );
}

export function SagaPage({ id }: { id: string }) {
  useTitle(`Saga of ${shortId(id)}`);
  return (
    <div class="page wide">
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href="/shop/orders">My orders</a> <span aria-hidden="true">/</span> <a href={`/shop/orders/${id}`}>{shortId(id)}</a>{" "}
        <span aria-hidden="true">/</span> <span>Saga</span>
      </nav>
      <h1>
        The saga of order <code>{shortId(id)}</code>
      </h1>
      <RequireAccount what="see this order's saga">
        <SagaBody id={id} />
      </RequireAccount>
    </div>
  );
}
