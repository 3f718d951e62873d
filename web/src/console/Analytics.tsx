// The analytics service's summary of the orders that started in a window
// (GET /analytics/summary, from and to) as charts: orders by status,
// cancellations by reason, the top products, and how long each step of the
// saga takes; read again every ten seconds.
import type { ChartConfiguration } from "chart.js";
import { useLocation } from "preact-iso";
import { useEffect, useMemo, useState } from "preact/hooks";
import { api, describeError, sleep, type Schemas } from "../api/client";
import { Loading, Notice, reasonText } from "../components/bits";
import { money } from "../money";
import { COLORS, ChartBox, SERIES, fade, logTicks } from "./Chart";
import { ConsoleFrame } from "./Frame";
import { count, millis } from "./format";

type Summary = Schemas["AnalyticsSummary"];

const WINDOWS: [string, string, number | null][] = [
  ["1h", "last hour", 3600],
  ["24h", "last 24 h", 86400],
  ["7d", "last 7 days", 7 * 86400],
  ["all", "all time", null],
];

const STATUS_COLORS: Record<string, string> = {
  COMPLETED: COLORS.green,
  CANCELLED: COLORS.red,
  PENDING: COLORS.grey,
  STOCK_RESERVED: COLORS.saffron,
  PAID: COLORS.teal,
};

function useSummary(windowS: number | null): { summary: Summary | null; error: string } {
  const [summary, setSummary] = useState<Summary | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    const stop = new AbortController();
    setSummary(null);
    void (async () => {
      while (!stop.signal.aborted) {
        const query = windowS ? { from: new Date(Date.now() - windowS * 1000).toISOString() } : {};
        try {
          const { data, error: e, response } = await api.GET("/analytics/summary", { params: { query }, signal: stop.signal });
          if (data) {
            setSummary(data);
            setError("");
          } else setError(describeError(e, response));
        } catch {
          if (stop.signal.aborted) return;
          setError("the gateway could not be reached");
        }
        await sleep(10000, stop.signal);
      }
    })();
    return () => stop.abort();
  }, [windowS]);
  return { summary, error };
}

const horizontal = (unit: string): ChartConfiguration<"bar">["options"] => ({
  indexAxis: "y",
  plugins: { legend: { display: false }, tooltip: { callbacks: { label: (c) => ` ${c.formattedValue} ${unit}` } } },
  scales: { x: { beginAtZero: true, ticks: { precision: 0 } }, y: { grid: { display: false } } },
});

function Charts({ s }: { s: Summary }) {
  const statuses = Object.entries(s.orders_by_status).filter(([, n]) => n > 0);
  const reasons = Object.entries(s.cancellations_by_reason).filter(([, n]) => n > 0);
  // slowest first; a timed-out order's step (seconds) next to a handler's (ms)
  const steps = Object.entries(s.step_ms)
    .filter(([, v]) => v.count > 0 && (v.p50 ?? 0) > 0)
    .sort(([, a], [, b]) => (b.p95 ?? 0) - (a.p95 ?? 0));
  // products of one name (tests make many) are told apart by their SKU
  const names = s.top_products.map((p) => p.name ?? p.sku ?? p.product_id.slice(0, 8));
  const productLabels = names.map((n, i) => (names.indexOf(n) !== names.lastIndexOf(n) ? `${n} (${s.top_products[i]!.sku ?? ""})` : n));
  const byStatus = useMemo<ChartConfiguration<"doughnut">>(
    () => ({
      type: "doughnut",
      data: {
        labels: statuses.map(([k]) => k.replace(/_/g, " ").toLowerCase()),
        datasets: [
          {
            data: statuses.map(([, n]) => n),
            backgroundColor: statuses.map(([k], i) => STATUS_COLORS[k] ?? SERIES[i % SERIES.length]!),
            borderColor: "#fff",
            borderWidth: 2,
          },
        ],
      },
      options: { cutout: "62%", plugins: { legend: { position: "right" } } },
    }),
    [JSON.stringify(statuses)],
  );
  const byReason = useMemo<ChartConfiguration<"bar">>(
    () => ({
      type: "bar",
      data: {
        labels: reasons.map(([k]) => reasonText(k)),
        datasets: [{ data: reasons.map(([, n]) => n), backgroundColor: fade(COLORS.red, 0.75), borderRadius: 4, maxBarThickness: 28 }],
      },
      options: horizontal("orders"),
    }),
    [JSON.stringify(reasons)],
  );
  const top = useMemo<ChartConfiguration<"bar">>(
    () => ({
      type: "bar",
      data: {
        labels: productLabels,
        datasets: [{ data: s.top_products.map((p) => p.units), backgroundColor: fade(COLORS.teal, 0.8), borderRadius: 4, maxBarThickness: 22 }],
      },
      options: horizontal("units"),
    }),
    [JSON.stringify(s.top_products)],
  );
  const stepTimes = useMemo<ChartConfiguration<"bar">>(
    () => ({
      type: "bar",
      data: {
        labels: steps.map(([k]) => k.replace(" -> ", " → ")),
        datasets: [
          { label: "p50", data: steps.map(([, v]) => v.p50 ?? 0), backgroundColor: fade(COLORS.blue, 0.85), borderRadius: 3, maxBarThickness: 16 },
          { label: "p95", data: steps.map(([, v]) => v.p95 ?? 0), backgroundColor: fade(COLORS.saffron, 0.85), borderRadius: 3, maxBarThickness: 16 },
        ],
      },
      options: {
        indexAxis: "y",
        plugins: { legend: { position: "top", align: "end" }, tooltip: { callbacks: { label: (c) => ` ${c.dataset.label}: ${millis(c.parsed.x)}` } } },
        scales: {
          x: { type: "logarithmic", title: { display: true, text: "ms (log)" }, ticks: { callback: logTicks, maxRotation: 0 } },
          y: { grid: { display: false } },
        },
      },
    }),
    [JSON.stringify(steps)],
  );
  const revenue = Object.entries(s.revenue_minor_by_currency);
  const d = s.saga_duration_ms;
  return (
    <>
      <div class="tiles">
        <div class="tile card">
          <span class="tile-label">Orders</span>
          <span class="tile-value" data-testid="orders">
            {count(s.orders)}
          </span>
        </div>
        <div class="tile card">
          <span class="tile-label">Revenue (net of refunds)</span>
          <span class="tile-value">{revenue.length ? revenue.map(([c, m]) => money(m, c)).join(" · ") : "–"}</span>
        </div>
        <div class="tile card">
          <span class="tile-label">Saga p50 · p95 · p99</span>
          <span class="tile-value small">
            {millis(d.p50)} · {millis(d.p95)} · {millis(d.p99)}
          </span>
          <span class="tile-note">{count(d.count)} sagas ended</span>
        </div>
      </div>
      <div class="chart-grid">
        <section class="card chart-card">
          <h2>Orders by status</h2>
          {statuses.length ? (
            <ChartBox name="orders-by-status" config={byStatus} label={`Orders by status: ${statuses.map(([k, n]) => `${k} ${n}`).join(", ")}`} />
          ) : (
            <p class="muted">No orders in this window.</p>
          )}
        </section>
        <section class="card chart-card">
          <h2>Cancellations by reason</h2>
          {reasons.length ? (
            <ChartBox name="cancellations" config={byReason} label={`Cancellations: ${reasons.map(([k, n]) => `${reasonText(k)} ${n}`).join(", ")}`} />
          ) : (
            <p class="muted">No order was cancelled in this window.</p>
          )}
        </section>
        <section class="card chart-card">
          <h2>Top products (units ordered)</h2>
          {s.top_products.length ? (
            <ChartBox
              name="top-products"
              config={top}
              height={Math.max(160, s.top_products.length * 30 + 40)}
              label={`Top products: ${s.top_products.map((p) => `${p.name ?? p.sku} ${p.units}`).join(", ")}`}
            />
          ) : (
            <p class="muted">Nothing ordered in this window.</p>
          )}
        </section>
        <section class="card chart-card">
          <h2>Saga steps, p50 and p95, slowest first</h2>
          {steps.length ? (
            <ChartBox
              name="step-times"
              config={stepTimes}
              height={Math.max(180, steps.length * 34 + 60)}
              label={`Step times: ${steps.map(([k, v]) => `${k} p50 ${millis(v.p50)}`).join(", ")}`}
            />
          ) : (
            <p class="muted">No step timed in this window.</p>
          )}
        </section>
      </div>
    </>
  );
}

function Summary({ windowS }: { windowS: number | null }) {
  const { summary, error } = useSummary(windowS);
  return (
    <>
      {error && <Notice kind="error">The summary could not be read: {error}</Notice>}
      {!summary && !error && <Loading what="the summary" />}
      {summary && <Charts s={summary} />}
    </>
  );
}

export function AnalyticsPage() {
  const { query, route } = useLocation();
  const chosen = WINDOWS.find(([k]) => k === query["window"]) ?? WINDOWS[1]!;
  return (
    <ConsoleFrame
      title="Analytics"
      actions={
        <div class="segmented" role="group" aria-label="Orders that started in the">
          {WINDOWS.map(([k, label]) => (
            <button
              key={k}
              type="button"
              class="segment"
              aria-pressed={k === chosen[0]}
              onClick={() => route(k === "24h" ? "/console/analytics" : `/console/analytics?window=${k}`, true)}
            >
              {label}
            </button>
          ))}
        </div>
      }
    >
      <p class="lead">The orders that started in the {chosen[1]}, as the analytics service counted them from the saga's events.</p>
      <Summary windowS={chosen[2]} />
    </ConsoleFrame>
  );
}
