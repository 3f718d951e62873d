// The system view, for watching a load test (GET /admin/system, read every
// two seconds): completed checkouts per second and the saga's p50 and p99
// over the last minutes, the choreography as a graph with each edge's
// message rate, and every queue's depth, consumers and rates, each linking
// to its page in the RabbitMQ management UI.
import type { ChartConfiguration } from "chart.js";
import { useLocation } from "preact-iso";
import { useEffect, useMemo, useState } from "preact/hooks";
import { api, describeError, retryAfter, sleep, type Schemas } from "../api/client";
import { Loading, Notice } from "../components/bits";
import { LANES } from "../saga/topology";
import { COLORS, ChartBox, fade, logTicks } from "./Chart";
import { ConsoleFrame } from "./Frame";
import { ChoreographyGraph } from "./Graph";
import { count, millis, perSecond } from "./format";

type View = Schemas["SystemView"];
type Queue = View["queues"][number];

const WINDOWS: [number, string][] = [
  [60, "1 min"],
  [300, "5 min"],
  [900, "15 min"],
  [3600, "1 h"],
];
const EVERY_MS = 1500;
// The management API's rates are not steady under a steady load: read
// every half second during 35 checkouts/s, a queue's rate read its value
// for one to two seconds of every five and 0 in between. The view holds
// each non-zero rate it read for 6 s, so a running load does not blink to
// 0 between those samples (and a stopped one reads 0 six seconds later).
const HOLD_MS = 6000;

type Held = Map<string, { value: number; at: number }>;

function hold(memory: Held, key: string, value: number, now: number): number {
  if (value > 0) {
    memory.set(key, { value, at: now });
    return value;
  }
  const last = memory.get(key);
  return last && now - last.at < HOLD_MS ? last.value : 0;
}

/** The view with every broker rate held as above. */
function held(view: View, memory: Held, now: number): View {
  return {
    ...view,
    queues: view.queues.map((q) => ({
      ...q,
      publish_per_s: hold(memory, `q:${q.name}:publish`, q.publish_per_s, now),
      deliver_per_s: hold(memory, `q:${q.name}:deliver`, q.deliver_per_s, now),
      ack_per_s: hold(memory, `q:${q.name}:ack`, q.ack_per_s, now),
      redeliver_per_s: hold(memory, `q:${q.name}:redeliver`, q.redeliver_per_s, now),
    })),
    exchanges: view.exchanges.map((e) => ({
      ...e,
      publish_in_per_s: hold(memory, `x:${e.name}:in`, e.publish_in_per_s, now),
      publish_out_per_s: hold(memory, `x:${e.name}:out`, e.publish_out_per_s, now),
    })),
    edges: view.edges.map((e) => ({ ...e, per_s: hold(memory, `e:${e.kind}:${e.from}:${e.to}`, e.per_s, now) })),
  };
}

function useSystem(windowS: number): { view: View | null; error: string } {
  const [view, setView] = useState<View | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    const stop = new AbortController();
    const memory: Held = new Map();
    void (async () => {
      while (!stop.signal.aborted) {
        let wait = EVERY_MS;
        try {
          const { data, error: e, response } = await api.GET("/admin/system", { params: { query: { window: windowS } }, signal: stop.signal });
          if (data) {
            setView(held(data, memory, Date.now()));
            setError("");
          } else {
            setError(describeError(e, response));
            if (response.status === 503 || response.status === 429) wait = retryAfter(response) * 1000;
          }
        } catch {
          if (stop.signal.aborted) return;
          setError("the gateway could not be reached");
        }
        await sleep(wait, stop.signal);
      }
    })();
    return () => stop.abort();
  }, [windowS]);
  return { view, error };
}

const clock = (iso: string) => new Date(iso).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit", second: "2-digit" });

function Series({ view }: { view: View }) {
  const c = view.checkouts;
  const labels = c.series.map((b) => clock(b.start));
  const key = `${c.series.length}:${c.series.at(-1)?.start}:${c.completed}:${c.cancelled}:${c.current_completed_per_s}`;
  const throughput = useMemo<ChartConfiguration<"line">>(
    () => ({
      type: "line",
      data: {
        labels,
        datasets: [
          {
            label: "completed/s",
            data: c.series.map((b) => b.completed_per_s),
            borderColor: COLORS.green,
            backgroundColor: fade(COLORS.green, 0.14),
            fill: true,
            cubicInterpolationMode: "monotone",
            pointRadius: 0,
            borderWidth: 2,
          },
          {
            label: "cancelled/s",
            data: c.series.map((b) => b.cancelled / c.bucket_s),
            borderColor: COLORS.red,
            backgroundColor: fade(COLORS.red, 0.08),
            fill: true,
            cubicInterpolationMode: "monotone",
            pointRadius: 0,
            borderWidth: 1.5,
          },
        ],
      },
      options: {
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { position: "top", align: "end" }, tooltip: { callbacks: { label: (x) => ` ${x.dataset.label}: ${perSecond(x.parsed.y)}` } } },
        scales: { x: { ticks: { maxTicksLimit: 7, maxRotation: 0 }, grid: { display: false } }, y: { beginAtZero: true, title: { display: true, text: "checkouts/s" } } },
      },
    }),
    [key],
  );
  const latency = useMemo<ChartConfiguration<"line">>(
    () => ({
      type: "line",
      data: {
        labels,
        datasets: [
          { label: "p50", data: c.series.map((b) => b.p50_ms), borderColor: COLORS.blue, backgroundColor: COLORS.blue, cubicInterpolationMode: "monotone", pointRadius: 0, borderWidth: 2, spanGaps: true },
          { label: "p99", data: c.series.map((b) => b.p99_ms), borderColor: COLORS.saffron, backgroundColor: COLORS.saffron, cubicInterpolationMode: "monotone", pointRadius: 0, borderWidth: 2, spanGaps: true },
        ],
      },
      options: {
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { position: "top", align: "end" }, tooltip: { callbacks: { label: (x) => ` ${x.dataset.label}: ${millis(x.parsed.y)}` } } },
        // logarithmic: one slow saga (a retry, a replay) does not flatten the rest
        scales: {
          x: { ticks: { maxTicksLimit: 7, maxRotation: 0 }, grid: { display: false } },
          y: { type: "logarithmic", title: { display: true, text: "saga ms (log)" }, ticks: { callback: logTicks, maxRotation: 0 } },
        },
      },
    }),
    [key],
  );
  return (
    <div class="chart-grid">
      <section class="card chart-card">
        <h2>Checkouts per second</h2>
        <ChartBox name="checkouts" config={throughput} label={`Completed checkouts per second over the last ${c.window_s} s; now ${perSecond(c.current_completed_per_s)}`} />
      </section>
      <section class="card chart-card">
        <h2>Saga time, p50 and p99</h2>
        <ChartBox name="saga-latency" config={latency} label={`Saga time over the last ${c.window_s} s: p50 ${millis(c.saga_ms.p50)}, p99 ${millis(c.saga_ms.p99)}`} />
      </section>
    </div>
  );
}

function Tiles({ view }: { view: View }) {
  const c = view.checkouts;
  const queued = view.queues.filter((q) => q.role === "main").reduce((n, q) => n + q.messages, 0);
  const dead = view.queues.filter((q) => q.role === "dlq").reduce((n, q) => n + q.messages, 0);
  const flow = view.exchanges.reduce((n, e) => n + e.publish_in_per_s, 0);
  return (
    <div class="tiles">
      <div class="tile card">
        <span class="tile-label">Completed checkouts/s</span>
        <span class="tile-value" data-testid="checkouts-now">
          {perSecond(c.current_completed_per_s)}
        </span>
        <span class="tile-note">{perSecond(c.completed_per_s)} over the window</span>
      </div>
      <div class="tile card">
        <span class="tile-label">Ended in the window</span>
        <span class="tile-value">{count(c.completed)}</span>
        <span class="tile-note">completed · {count(c.cancelled)} cancelled</span>
      </div>
      <div class="tile card">
        <span class="tile-label">Saga p50 · p99</span>
        <span class="tile-value small">
          {millis(c.saga_ms.p50)} · {millis(c.saga_ms.p99)}
        </span>
        <span class="tile-note">{count(c.saga_ms.count)} sagas</span>
      </div>
      <div class="tile card">
        <span class="tile-label">Events published</span>
        <span class="tile-value" data-testid="events-rate">
          {perSecond(flow)}
        </span>
        <span class="tile-note">
          {count(queued)} queued · {dead ? <a href="/console/dead-letters">{count(dead)} dead letters</a> : "no dead letters"}
        </span>
      </div>
    </div>
  );
}

const rank = (q: Queue) => {
  const lane = q.service ? LANES.indexOf(q.service as never) : 99;
  return lane * 10 + { main: 0, retry: 1, dlq: 2, other: 3 }[q.role];
};
const byRank = (a: Queue, b: Queue) => rank(a) - rank(b) || a.name.localeCompare(b.name, "en", { numeric: true });

function QueueLink({ q }: { q: Queue }) {
  return (
    <a href={q.ui_url} target="_blank" rel="noopener noreferrer" class="mono">
      {q.name} <span aria-hidden="true">↗</span>
      <span class="visually-hidden"> (the RabbitMQ UI)</span>
    </a>
  );
}

/** Each service's queue, with its retry queues' and DLQ's depths beside
 * it; every queue of the vhost in full below, folded. */
function QueueTable({ view }: { view: View }) {
  const queues = [...view.queues].sort(byRank);
  const mains = queues.filter((q) => q.role === "main" || q.role === "other");
  const family = (q: Queue, role: Queue["role"]) => queues.filter((x) => x.role === role && x.service !== null && x.service === q.service);
  return (
    <>
      <div class="table-scroll">
        <table class="data queues">
          <caption class="visually-hidden">Each service's queue: depth, consumers, rates, its retry queues and its dead letters</caption>
          <thead>
            <tr>
              <th scope="col">Queue</th>
              <th scope="col" class="num">
                Depth
              </th>
              <th scope="col" class="num">
                Unacked
              </th>
              <th scope="col" class="num">
                Consumers
              </th>
              <th scope="col" class="num">
                In/s
              </th>
              <th scope="col" class="num">
                Delivered/s
              </th>
              <th scope="col" class="num">
                Acked/s
              </th>
              <th scope="col" class="num">
                Retrying
              </th>
              <th scope="col">Dead letters</th>
            </tr>
          </thead>
          <tbody>
            {mains.map((q) => {
              const retries = family(q, "retry");
              const dlq = family(q, "dlq")[0];
              const retrying = retries.reduce((n, r) => n + r.messages, 0);
              return (
                <tr key={q.name} class={`queue-row${dlq?.messages ? " alarm" : ""}`} data-queue={q.name}>
                  <th scope="row" data-label="Queue">
                    <QueueLink q={q} />
                  </th>
                  <td data-label="Depth" class="num strong">
                    {count(q.messages)}
                  </td>
                  <td data-label="Unacked" class="num">
                    {count(q.messages_unacknowledged)}
                  </td>
                  <td data-label="Consumers" class={`num${q.role === "main" && q.consumers === 0 ? " out" : ""}`}>
                    {q.consumers}
                  </td>
                  <td data-label="In/s" class="num">
                    {perSecond(q.publish_per_s)}
                  </td>
                  <td data-label="Delivered/s" class="num">
                    {perSecond(q.deliver_per_s)}
                  </td>
                  <td data-label="Acked/s" class="num">
                    {perSecond(q.ack_per_s)}
                  </td>
                  <td
                    data-label="Retrying"
                    class="num"
                    title={retries.map((r) => `${r.name}: ${r.messages}`).join("\n") || undefined}
                  >
                    {retries.length ? count(retrying) : "–"}
                  </td>
                  <td data-label="Dead letters">
                    {dlq ? (
                      <span class="dlq-cell">
                        <a href={`/console/dead-letters/${q.service}`} class={dlq.messages ? "dlq-count-link" : "muted"}>
                          {count(dlq.messages)}
                        </a>
                        <a href={dlq.ui_url} target="_blank" rel="noopener noreferrer" class="muted small-link">
                          {dlq.name} ↗
                        </a>
                      </span>
                    ) : (
                      "–"
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <details class="all-queues">
        <summary>Every queue of the vhost ({queues.length}), retry and dead-letter queues included</summary>
        <div class="table-scroll">
          <table class="data queues all">
            <thead>
              <tr>
                <th scope="col">Queue</th>
                <th scope="col" class="num">
                  Depth
                </th>
                <th scope="col" class="num">
                  Ready
                </th>
                <th scope="col" class="num">
                  Unacked
                </th>
                <th scope="col" class="num">
                  Consumers
                </th>
                <th scope="col" class="num">
                  In/s
                </th>
                <th scope="col" class="num">
                  Delivered/s
                </th>
                <th scope="col" class="num">
                  Acked/s
                </th>
                <th scope="col" class="num">
                  Redelivered/s
                </th>
              </tr>
            </thead>
            <tbody>
              {queues.map((q) => (
                <tr key={q.name} class={`role-${q.role}`} data-queue={q.name}>
                  <th scope="row" data-label="Queue">
                    <QueueLink q={q} />
                    {q.role !== "main" && <span class={`tag role-tag ${q.role}`}>{q.role}</span>}
                  </th>
                  <td data-label="Depth" class="num strong">
                    {count(q.messages)}
                  </td>
                  <td data-label="Ready" class="num">
                    {count(q.messages_ready)}
                  </td>
                  <td data-label="Unacked" class="num">
                    {count(q.messages_unacknowledged)}
                  </td>
                  <td data-label="Consumers" class="num">
                    {q.consumers}
                  </td>
                  <td data-label="In/s" class="num">
                    {perSecond(q.publish_per_s)}
                  </td>
                  <td data-label="Delivered/s" class="num">
                    {perSecond(q.deliver_per_s)}
                  </td>
                  <td data-label="Acked/s" class="num">
                    {perSecond(q.ack_per_s)}
                  </td>
                  <td data-label="Redelivered/s" class="num">
                    {perSecond(q.redeliver_per_s)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </>
  );
}

function SystemBody({ windowS }: { windowS: number }) {
  const { view, error } = useSystem(windowS);
  return (
    <>
      {error && <Notice kind={view ? "warning" : "error"}>The system view could not be read: {error}</Notice>}
      {!view && !error && <Loading what="the system view" />}
      {view && (
        <>
          <p class="list-meta">
            <span>
              The broker's last sample and the orders that ended in the last {WINDOWS.find(([s]) => s === windowS)?.[1]}, read every{" "}
              {EVERY_MS / 1000} s.
            </span>
            <span class="live-state live">
              <span class="pulse" aria-hidden="true" /> live · {clock(view.generated_at)}
            </span>
          </p>
          <Tiles view={view} />
          <Series view={view} />
          <section class="card graph-card">
            <header class="card-head">
              <h2>The choreography, messages per second</h2>
              <a href={view.rabbitmq.ui_url} target="_blank" rel="noopener noreferrer">
                RabbitMQ management UI ↗
              </a>
            </header>
            <div class="graph-scroll" tabIndex={0} aria-label="The choreography graph (scrolls sideways on a narrow screen)">
              <ChoreographyGraph view={view} />
            </div>
          </section>
          <section class="card">
            <header class="card-head">
              <h2>Queues</h2>
              <span class="muted">depth = ready + unacknowledged</span>
            </header>
            <QueueTable view={view} />
          </section>
        </>
      )}
    </>
  );
}

export function SystemPage() {
  const { query, route } = useLocation();
  const windowS = WINDOWS.find(([s]) => String(s) === query["window"])?.[0] ?? 300;
  return (
    <ConsoleFrame
      title="System"
      actions={
        <div class="segmented" role="group" aria-label="The last">
          {WINDOWS.map(([s, label]) => (
            <button
              key={s}
              type="button"
              class="segment"
              aria-pressed={s === windowS}
              onClick={() => route(s === 300 ? "/console/system" : `/console/system?window=${s}`, true)}
            >
              {label}
            </button>
          ))}
        </div>
      }
    >
      <SystemBody windowS={windowS} />
    </ConsoleFrame>
  );
}
