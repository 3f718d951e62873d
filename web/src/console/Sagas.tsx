// Every order's saga (GET /sagas), newest first, with the list's filters
// (search, state, reason, stuck_after, the time it started, paging) kept
// in the page's address, and followed live: the list is asked again with
// wait and the answer's version, so the gateway answers as soon as a
// listed saga moves, becomes stuck or a new one matches. Stuck and
// compensating sagas stand out; each row opens the order's saga view.
import { useLocation } from "preact-iso";
import { useEffect, useState } from "preact/hooks";
import { api, describeError, retryAfter, sleep, type Schemas } from "../api/client";
import type { operations } from "../api/schema";
import { Loading, Notice, StatusBadge, reasonText } from "../components/bits";
import { shortId } from "../ids";
import { when } from "../money";
import { ConsoleFrame } from "./Frame";
import { ago, count, fromLocalInput, span, toLocalInput, useNow } from "./format";

type Saga = Schemas["SagaSummary"];
type State = Saga["state"];
type Reason = NonNullable<Saga["cancel_reason"]>;

const STATES: [State, string][] = [
  ["in_flight", "in flight"],
  ["stuck", "stuck"],
  ["compensating", "compensating"],
  ["completed", "completed"],
  ["cancelled", "cancelled"],
];
const REASONS: Reason[] = ["out_of_stock", "payment_declined", "shipping_failed", "timed_out"];
const PAGE_SIZES = [20, 50, 100];

interface Filters {
  q: string;
  state: State | "";
  reason: Reason | "";
  stuckAfter: number;
  from: string;
  to: string;
  limit: number;
  offset: number;
}

function readFilters(query: Record<string, string | undefined>): Filters {
  const int = (v: string | undefined, d: number, min: number, max: number) => {
    const n = Number(v);
    return v && Number.isInteger(n) && n >= min && n <= max ? n : d;
  };
  const state = STATES.some(([s]) => s === query["state"]) ? (query["state"] as State) : "";
  const reason = REASONS.includes(query["reason"] as Reason) ? (query["reason"] as Reason) : "";
  return {
    q: query["q"] ?? "",
    state,
    reason,
    stuckAfter: int(query["stuck_after"], 30, 1, 86400),
    from: query["from"] ?? "",
    to: query["to"] ?? "",
    limit: PAGE_SIZES.includes(Number(query["limit"])) ? Number(query["limit"]) : 20,
    offset: int(query["offset"], 0, 0, 10000000),
  };
}

function address(f: Filters): string {
  const p = new URLSearchParams();
  if (f.q) p.set("q", f.q);
  if (f.state) p.set("state", f.state);
  if (f.reason) p.set("reason", f.reason);
  if (f.stuckAfter !== 30) p.set("stuck_after", String(f.stuckAfter));
  if (f.from) p.set("from", f.from);
  if (f.to) p.set("to", f.to);
  if (f.limit !== 20) p.set("limit", String(f.limit));
  if (f.offset) p.set("offset", String(f.offset));
  const s = p.toString();
  return s ? `/console/sagas?${s}` : "/console/sagas";
}

type SagaQuery = NonNullable<operations["listSagas"]["parameters"]["query"]>;

type Feed =
  | { state: "loading" }
  | { state: "live"; page: Schemas["SagaPage"]; warning?: string }
  | { state: "error"; message: string };

/** The page the filters select, read again whenever it changes. */
function useSagaFeed(f: Filters): Feed {
  const [feed, setFeed] = useState<Feed>({ state: "loading" });
  const key = address(f);
  useEffect(() => {
    const stop = new AbortController();
    setFeed({ state: "loading" });
    void (async () => {
      let version: string | null = null;
      let pause = 500;
      while (!stop.signal.aborted) {
        const query: SagaQuery = {
          limit: f.limit,
          offset: f.offset,
          stuck_after: f.stuckAfter,
          ...(f.q ? { q: f.q } : {}),
          ...(f.state ? { state: f.state } : {}),
          ...(f.reason ? { reason: f.reason } : {}),
          ...(f.from ? { from: f.from } : {}),
          ...(f.to ? { to: f.to } : {}),
          ...(version ? { wait: 25, version } : {}),
        };
        try {
          const { data, error, response } = await api.GET("/sagas", { params: { query }, signal: stop.signal });
          pause = 500;
          if (data) {
            const changed = data.version !== version;
            version = data.version;
            if (changed) setFeed({ state: "live", page: data });
            continue;
          }
          if (response.status === 429 || response.status === 503) {
            await sleep(retryAfter(response) * 1000, stop.signal);
            continue;
          }
          setFeed({ state: "error", message: describeError(error, response) });
          return;
        } catch {
          if (stop.signal.aborted) return;
          setFeed((s) => (s.state === "live" ? { ...s, warning: "The connection to the gateway was lost; retrying…" } : s));
          await sleep(pause, stop.signal);
          pause = Math.min(pause * 2, 10000);
        }
      }
    })();
    return () => stop.abort();
  }, [key]);
  return feed;
}

export function StateChip({ state, since }: { state: State; since?: string }) {
  return (
    <span class={`state-chip state-${state}`} data-state={state}>
      {state === "stuck" || state === "compensating" ? <span class="state-mark" aria-hidden="true" /> : null}
      {state.replace("_", " ")}
      {since && <span class="state-since"> · {since}</span>}
    </span>
  );
}

function SagaRow({ saga, now, stuckAfter }: { saga: Saga; now: number; stuckAfter: number }) {
  const { route } = useLocation();
  const href = `/console/sagas/${saga.order_id}`;
  const quiet = now - Date.parse(saga.last_hop_at);
  const final = saga.state === "completed" || saga.state === "cancelled";
  // a saga not final that goes quiet becomes stuck at stuck_after: say how
  // long it has been, so the row tells before the gateway's next answer does
  const since = saga.state === "stuck" ? `no hop for ${span(quiet)}` : undefined;
  return (
    <tr
      class={`saga-row state-${saga.state}`}
      data-order={saga.order_id}
      data-state={saga.state}
      onClick={(e) => {
        // the whole row opens the saga for a pointer; the link is the keyboard's
        if (!(e.target as Element).closest("a, button")) route(href);
      }}
    >
      <td data-label="Order">
        <a href={href} class="saga-link">
          <code>{shortId(saga.order_id)}</code>
          <span class="visually-hidden"> open the saga</span>
        </a>
        <span class="saga-email" title={saga.customer_email ?? ""}>
          {saga.customer_email ?? <span class="muted">no e-mail</span>}
        </span>
      </td>
      <td data-label="State">
        <StateChip state={saga.state} {...(since ? { since } : {})} />
      </td>
      <td data-label="Order status">
        <StatusBadge status={saga.status} reason={saga.cancel_reason} />
      </td>
      <td data-label="Hops" class="num">
        {saga.hops}
      </td>
      <td data-label="Started">{when(saga.created_at)}</td>
      <td data-label="Last hop" class={!final && quiet > stuckAfter * 1000 ? "quiet" : ""}>
        {ago(saga.last_hop_at, now)}
      </td>
    </tr>
  );
}

function FilterBar({ f, go }: { f: Filters; go: (f: Filters) => void }) {
  const [q, setQ] = useState(f.q);
  // on a phone the filters past search, state and reason fold away
  const [more, setMore] = useState(false);
  const [stuck, setStuck] = useState(String(f.stuckAfter));
  useEffect(() => setQ(f.q), [f.q]);
  useEffect(() => setStuck(String(f.stuckAfter)), [f.stuckAfter]);
  const apply = (patch: Partial<Filters>) => go({ ...f, offset: 0, ...patch });
  const preset = (minutes: number) => apply({ from: new Date(Date.now() - minutes * 60000).toISOString(), to: "" });
  return (
    <form
      class={`filters card${more ? " more" : ""}`}
      role="search"
      aria-label="Filter the sagas"
      onSubmit={(e) => {
        e.preventDefault();
        const n = Number(stuck);
        apply({ q: q.trim(), stuckAfter: Number.isInteger(n) && n >= 1 && n <= 86400 ? n : 30 });
      }}
    >
      <div class="filter filter-q">
        <label for="saga-q">Search</label>
        <input
          id="saga-q"
          type="search"
          placeholder="order id, trace id or customer e-mail"
          value={q}
          onInput={(e) => setQ(e.currentTarget.value)}
        />
      </div>
      <div class="filter">
        <label for="saga-state">State</label>
        <select id="saga-state" value={f.state} onChange={(e) => apply({ state: e.currentTarget.value as State | "" })}>
          <option value="">any</option>
          {STATES.map(([s, label]) => (
            <option key={s} value={s}>
              {label}
            </option>
          ))}
        </select>
      </div>
      <div class="filter">
        <label for="saga-reason">Cancel reason</label>
        <select id="saga-reason" value={f.reason} onChange={(e) => apply({ reason: e.currentTarget.value as Reason | "" })}>
          <option value="">any</option>
          {REASONS.map((r) => (
            <option key={r} value={r}>
              {reasonText(r)}
            </option>
          ))}
        </select>
      </div>
      <div class="filter filter-narrow filter-extra">
        <label for="saga-stuck">Stuck after (s)</label>
        <input
          id="saga-stuck"
          type="number"
          min={1}
          max={86400}
          value={stuck}
          onInput={(e) => setStuck(e.currentTarget.value)}
          onChange={(e) => {
            const n = Number(e.currentTarget.value);
            if (Number.isInteger(n) && n >= 1 && n <= 86400) apply({ stuckAfter: n });
          }}
        />
      </div>
      <div class="filter filter-extra">
        <label for="saga-from">Started from</label>
        <input
          id="saga-from"
          type="datetime-local"
          value={toLocalInput(f.from)}
          onChange={(e) => apply({ from: fromLocalInput(e.currentTarget.value) })}
        />
      </div>
      <div class="filter filter-extra">
        <label for="saga-to">until</label>
        <input
          id="saga-to"
          type="datetime-local"
          value={toLocalInput(f.to)}
          onChange={(e) => apply({ to: fromLocalInput(e.currentTarget.value) })}
        />
      </div>
      <div class="filter-buttons">
        <button class="button" type="submit">
          Search
        </button>
        <button type="button" class="button ghost small more-filters" aria-expanded={more} onClick={() => setMore(!more)}>
          {more ? "Fewer filters" : "More filters"}
        </button>
        <span class="presets filter-extra" role="group" aria-label="Started within">
          <button type="button" class="button ghost small" onClick={() => preset(5)}>
            5 min
          </button>
          <button type="button" class="button ghost small" onClick={() => preset(60)}>
            1 h
          </button>
          <button type="button" class="button ghost small" onClick={() => preset(24 * 60)}>
            24 h
          </button>
        </span>
        <button
          type="button"
          class="link-button"
          onClick={() => go({ q: "", state: "", reason: "", stuckAfter: 30, from: "", to: "", limit: f.limit, offset: 0 })}
        >
          Clear the filters
        </button>
      </div>
    </form>
  );
}

function Pager({ f, total, go }: { f: Filters; total: number; go: (f: Filters) => void }) {
  const last = f.offset + f.limit >= total;
  return (
    <nav class="pager" aria-label="Pages">
      <button type="button" class="button ghost" disabled={f.offset === 0} onClick={() => go({ ...f, offset: Math.max(0, f.offset - f.limit) })}>
        ← Newer
      </button>
      <span>
        Page {Math.floor(f.offset / f.limit) + 1} of {Math.max(1, Math.ceil(total / f.limit))}
      </span>
      <button type="button" class="button ghost" disabled={last} onClick={() => go({ ...f, offset: f.offset + f.limit })}>
        Older →
      </button>
      <label class="page-size">
        <span>Per page</span>
        <select value={String(f.limit)} onChange={(e) => go({ ...f, limit: Number(e.currentTarget.value), offset: 0 })}>
          {PAGE_SIZES.map((n) => (
            <option key={n} value={String(n)}>
              {n}
            </option>
          ))}
        </select>
      </label>
    </nav>
  );
}

function SagaList() {
  const { query, route } = useLocation();
  const f = readFilters(query);
  const go = (next: Filters) => route(address(next), true);
  const feed = useSagaFeed(f);
  const now = useNow();
  const page = feed.state === "live" ? feed.page : null;
  const standing = page ? page.items.filter((s) => s.state === "stuck" || s.state === "compensating").length : 0;
  return (
    <>
      <FilterBar f={f} go={go} />
      {feed.state === "error" && <Notice kind="error">The sagas could not be read: {feed.message}</Notice>}
      {feed.state === "loading" && <Loading what="the sagas" />}
      {page && (
        <>
          <div class="list-meta" aria-live="polite">
            <span>
              <strong>{count(page.total)}</strong> {page.total === 1 ? "saga" : "sagas"}
              {page.total > 0 && ` · ${page.offset + 1}–${page.offset + page.items.length} shown`}
              {standing > 0 && (
                <span class="standing">
                  {" "}
                  · {standing} on this page {standing === 1 ? "needs" : "need"} a look
                </span>
              )}
            </span>
            <span class="live-state live">
              <span class="pulse" aria-hidden="true" /> live
            </span>
          </div>
          {feed.state === "live" && feed.warning && <Notice kind="warning">{feed.warning}</Notice>}
          {page.items.length === 0 ? (
            <div class="empty card">
              <p>No saga matches these filters.</p>
            </div>
          ) : (
            <div class="table-card card">
              <table class="data sagas">
                <caption class="visually-hidden">Sagas, newest first</caption>
                <thead>
                  <tr>
                    <th scope="col">Order</th>
                    <th scope="col">State</th>
                    <th scope="col">Order status</th>
                    <th scope="col" class="num">
                      Hops
                    </th>
                    <th scope="col">Started</th>
                    <th scope="col">Last hop</th>
                  </tr>
                </thead>
                <tbody>
                  {page.items.map((s) => (
                    <SagaRow key={s.order_id} saga={s} now={now} stuckAfter={f.stuckAfter} />
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {page.total > f.limit && <Pager f={f} total={page.total} go={go} />}
        </>
      )}
    </>
  );
}

export function SagasPage() {
  return (
    <ConsoleFrame title="Sagas">
      <SagaList />
    </ConsoleFrame>
  );
}
