// The saga of one order drawn as swimlanes: one lane per service, time
// going down. Each event is a row at its publisher's lane; below it, one
// arrow per delivery to a consumer's lane (every attempt its own arrow),
// labelled with its queue wait (q) and handler time (h). Compensations are
// dashed and violet, failures red, retries, duplicates, dead letters and
// replays carry a badge, and the steps still expected are grey. Every row
// is a button (Enter or Space) that opens its details. Below 760 px the
// same model is a list instead (CSS picks one).
import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";
import { Copyable } from "../components/Copy";
import { duration, publishLatency, type Delivery, type SagaEvent, type SagaModel } from "./model";
import type { Hop } from "./types";

export interface Selection {
  event: SagaEvent;
  delivery: Delivery | null;
}

interface ViewProps {
  model: SagaModel;
  /** the key of the open row */
  selected: string | null;
  onSelect: (s: Selection) => void;
}

const W = 1160;
const GUTTER = 184;
const HEADER = 52;
const EVENT_ROW = 34;
const DELIVERY_ROW = 27;
const GAP = 8;

const OUTCOME_TEXT: Record<string, string> = {
  handled: "handled",
  duplicate: "duplicate",
  retry_scheduled: "retry",
  dead_lettered: "dead-lettered",
  replayed: "replayed",
  expected: "expected",
  published: "published",
  pending: "not confirmed yet",
};

export const outcomeText = (o: string) => OUTCOME_TEXT[o] ?? o.replace(/_/g, " ");

function rel(model: SagaModel, at: number | null): string {
  if (at === null || model.start === null) return "";
  return `+${duration(at - model.start)}`;
}

function badgeOf(d: Delivery): string {
  const h = d.hop;
  if (!h) return "";
  switch (d.outcome) {
    case "retry_scheduled":
      return `retry ${d.attempt}${h.retry_delay_ms ? ` · +${duration(h.retry_delay_ms)}` : ""}`;
    case "duplicate":
      return "duplicate";
    case "dead_lettered":
      return `dead letter · attempt ${d.attempt}`;
    case "replayed":
      return "replayed";
    default:
      return d.attempt > 1 ? `attempt ${d.attempt}` : (h.replayed ?? 0) > 0 ? "replayed" : "";
  }
}

const badgeWidth = (text: string) => text.length * 6.4 + 12;

function timings(h: Hop | null): string {
  if (!h) return "expected";
  const q = h.queue_wait_ms;
  const t = h.handler_ms;
  if (q == null && t == null) return outcomeText(h.outcome);
  return `q ${duration(q)} · h ${duration(t)}`;
}

function deliveryLabel(e: SagaEvent, d: Delivery): string {
  const what = d.hop ? `${outcomeText(d.outcome)}${d.attempt > 1 ? `, attempt ${d.attempt}` : ""}` : "expected, not recorded yet";
  const time = d.hop && d.hop.queue_wait_ms != null ? `, queue wait ${duration(d.hop.queue_wait_ms)}, handler ${duration(d.hop.handler_ms)}` : "";
  return `${e.type} to ${d.consumer}: ${what}${time}${d.compensation ? ", a compensation" : ""}`;
}

function eventLabel(e: SagaEvent): string {
  if (e.expected) return `${e.type} from ${e.publisher}: expected, not published yet`;
  const state = e.publish ? outcomeText(e.publish.outcome) : "publish not recorded";
  return `${e.type} from ${e.publisher}: ${state}${e.compensation ? ", a compensation" : ""}`;
}

function activate(fn: () => void) {
  return {
    onClick: fn,
    onKeyDown: (ev: KeyboardEvent) => {
      if (ev.key === "Enter" || ev.key === " ") {
        ev.preventDefault();
        fn();
      }
    },
  };
}

function eventClass(e: SagaEvent): string {
  return ["event", e.expected && "expected", e.compensation && "compensation", e.failure && "failure"].filter(Boolean).join(" ");
}

function deliveryClass(e: SagaEvent, d: Delivery): string {
  return ["arrow", `o-${d.outcome}`, d.compensation && "compensation", e.expected && "expected"].filter(Boolean).join(" ");
}

export function SagaLanes({ model, selected, onSelect }: ViewProps) {
  const lanes = model.lanes;
  const laneW = (W - GUTTER - 8) / lanes.length;
  const x = (service: string) => {
    const i = lanes.indexOf(service);
    return GUTTER + laneW * ((i < 0 ? lanes.length - 1 : i) + 0.5);
  };
  let y = HEADER;
  const rows: ComponentChildren[] = [];
  for (const e of model.events) {
    const px = x(e.publisher);
    const top = y;
    const eventKey = `${e.key}:event`;
    const lastY = top + EVENT_ROW + (e.deliveries.length - 0.5) * DELIVERY_ROW;
    rows.push(
      <g key={eventKey} class={eventClass(e)} data-event={e.type}>
        <g
          class={`row${selected === eventKey ? " selected" : ""}`}
          tabindex={0}
          role="button"
          aria-label={eventLabel(e)}
          aria-pressed={selected === eventKey}
          {...activate(() => onSelect({ event: e, delivery: null }))}
        >
          <rect class="hit" x={0} y={top} width={W} height={EVENT_ROW} rx={6} />
          <text class="rel" x={10} y={top + 14}>
            {e.expected ? "next" : rel(model, e.at)}
          </text>
          <text class="event-name" x={10} y={top + 28}>
            {e.compensation ? "↺ " : ""}
            {e.type}
          </text>
          <circle class={`node${e.publish?.outcome === "pending" ? " pending" : ""}`} cx={px} cy={top + EVENT_ROW / 2} r={7} />
          <text class="node-label" x={px + 12} y={top + EVENT_ROW / 2 + 4}>
            {e.expected
              ? "expected"
              : !e.publish
                ? "publish not recorded"
                : e.publish.outcome === "pending"
                  ? "published, not confirmed yet"
                  : `published · ${duration(publishLatency(e.publish))}`}
          </text>
        </g>
        {e.deliveries.length > 0 && <line class="stem" x1={px} y1={top + EVENT_ROW / 2 + 7} x2={px} y2={lastY} />}
        {e.deliveries.map((d, i) => {
          const dy = top + EVENT_ROW + i * DELIVERY_ROW + DELIVERY_ROW / 2;
          const cx = x(d.consumer);
          const dir = cx >= px ? 1 : -1;
          const tip = cx - dir * 8;
          const key = `${d.key}:delivery`;
          const badge = badgeOf(d);
          const mid = (px + cx) / 2;
          return (
            <g
              key={key}
              class={`row ${deliveryClass(e, d)}${selected === key ? " selected" : ""}`}
              data-consumer={d.consumer}
              data-outcome={d.outcome}
              tabindex={0}
              role="button"
              aria-label={deliveryLabel(e, d)}
              aria-pressed={selected === key}
              {...activate(() => onSelect({ event: e, delivery: d }))}
            >
              <rect class="hit" x={GUTTER - 4} y={dy - DELIVERY_ROW / 2} width={W - GUTTER + 4} height={DELIVERY_ROW} rx={5} />
              <line class="shaft" x1={px} y1={dy} x2={tip} y2={dy} />
              <path class="head" d={`M${tip} ${dy - 5} L${cx} ${dy} L${tip} ${dy + 5} Z`} />
              <text class="timing" x={mid} y={dy - 5} text-anchor="middle">
                {timings(d.hop)}
              </text>
              {badge && (
                // beyond the arrow's head, on the side it points to
                <g class="badge">
                  <rect x={dir > 0 ? cx + 8 : cx - 8 - badgeWidth(badge)} y={dy - 9} width={badgeWidth(badge)} height={18} rx={9} />
                  <text x={dir > 0 ? cx + 14 : cx - 2 - badgeWidth(badge)} y={dy + 4}>
                    {badge}
                  </text>
                </g>
              )}
            </g>
          );
        })}
      </g>,
    );
    y = top + EVENT_ROW + e.deliveries.length * DELIVERY_ROW + GAP;
  }
  const height = y + 8;
  return (
    <svg
      class="lanes"
      viewBox={`0 0 ${W} ${height}`}
      role="group"
      aria-label={`Swimlanes of the saga: ${model.events.length} events across ${lanes.length} services`}
    >
      {lanes.map((l, i) => (
        <g key={l} class={`lane lane-${l}`}>
          <rect class="lane-band" x={GUTTER + laneW * i} y={HEADER - 8} width={laneW} height={height - HEADER + 8} />
          <line class="lane-line" x1={x(l)} y1={HEADER - 8} x2={x(l)} y2={height} />
          <rect class="lane-pill" x={x(l) - laneW / 2 + 8} y={10} width={laneW - 16} height={26} rx={13} />
          <text class="lane-name" x={x(l)} y={27} text-anchor="middle">
            {l}
          </text>
        </g>
      ))}
      {rows}
    </svg>
  );
}

/** The same saga as a list: the phone's view, and a plain reading order. */
export function SagaList({ model, selected, onSelect }: ViewProps) {
  return (
    <ol class="saga-list">
      {model.events.map((e) => (
        <li key={e.key} class={`saga-card ${eventClass(e)}`} data-event={e.type}>
          <button
            type="button"
            class={`saga-card-head${selected === `${e.key}:event` ? " selected" : ""}`}
            aria-label={eventLabel(e)}
            onClick={() => onSelect({ event: e, delivery: null })}
          >
            <span class="event-name">
              {e.compensation ? "↺ " : ""}
              {e.type}
            </span>
            <span class="muted">
              {e.publisher} · {e.expected ? "expected" : rel(model, e.at)}
            </span>
          </button>
          <ul>
            {e.deliveries.map((d) => (
              <li key={d.key}>
                <button
                  type="button"
                  class={`saga-delivery ${deliveryClass(e, d)}${selected === `${d.key}:delivery` ? " selected" : ""}`}
                  data-consumer={d.consumer}
                  data-outcome={d.outcome}
                  aria-label={deliveryLabel(e, d)}
                  onClick={() => onSelect({ event: e, delivery: d })}
                >
                  <span>→ {d.consumer}</span>
                  <span class="muted">{timings(d.hop)}</span>
                  {badgeOf(d) && <span class="chip">{badgeOf(d)}</span>}
                </button>
              </li>
            ))}
          </ul>
        </li>
      ))}
    </ol>
  );
}

function Field({ name, children }: { name: string; children: ComponentChildren }) {
  return (
    <>
      <dt>{name}</dt>
      <dd>{children}</dd>
    </>
  );
}

const at = (iso: string | null | undefined) => (iso ? <span class="mono">{iso.replace("T", " ").replace("Z", "")}</span> : <span class="muted">–</span>);

export function HopDetails({ selection, onClose, events }: { selection: Selection; onClose: () => void; events: SagaEvent[] }) {
  const { event: e, delivery: d } = selection;
  const panel = useRef<HTMLElement>(null);
  const opened = selection.delivery?.key ?? selection.event.key;
  useEffect(() => {
    panel.current?.focus();
  }, [opened]);
  useEffect(() => {
    const onKey = (ev: KeyboardEvent) => ev.key === "Escape" && onClose();
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [onClose]);
  const hop = d ? d.hop : e.publish;
  const cause = hop?.causation_id ? events.find((x) => x.messageId === hop.causation_id) : undefined;
  const title = d ? `${e.type} → ${d.consumer}` : `${e.type}, published by ${e.publisher}`;
  return (
    <section class="hop-details card" aria-labelledby="hop-title" tabIndex={-1} ref={panel}>
      <header>
        <h2 id="hop-title">{title}</h2>
        <button type="button" class="button ghost small" onClick={onClose} aria-label="Close the details">
          ✕
        </button>
      </header>
      <p class="chips">
        <span class={`chip o-${d ? d.outcome : (hop?.outcome ?? "expected")}`}>{outcomeText(d ? d.outcome : (hop?.outcome ?? "expected"))}</span>
        {(d?.compensation || (!d && e.compensation)) && <span class="chip compensation">compensation</span>}
        {e.failure && <span class="chip failure">failure path</span>}
        {d && d.attempt > 0 && <span class="chip">attempt {d.attempt}</span>}
      </p>
      {!hop ? (
        <p class="muted">
          Expected: the choreography says this {d ? "delivery" : "event"} comes next, and it is not recorded yet.
        </p>
      ) : (
        <dl class="facts">
          <Field name="Trace id">
            <Copyable value={hop.trace_id} label="trace id" />
          </Field>
          <Field name="Message id">
            <Copyable value={hop.message_id} label="message id" />
          </Field>
          <Field name="Caused by">
            {hop.causation_id ? (
              <>
                {cause ? <strong>{cause.type}</strong> : null} <span class="mono">{hop.causation_id}</span>
              </>
            ) : (
              <span class="muted">the checkout request</span>
            )}
          </Field>
          <Field name="Exchange">{hop.exchange ? <span class="mono">{hop.exchange}</span> : <span class="muted">–</span>}</Field>
          <Field name="Queue">{hop.queue ? <span class="mono">{hop.queue}</span> : <span class="muted">–</span>}</Field>
          <Field name="Span">
            <span class="mono">{hop.span_id ?? "–"}</span>
            {hop.parent_span_id && <span class="muted"> (parent {hop.parent_span_id})</span>}
          </Field>
          {hop.kind === "consume" ? (
            <>
              <Field name="Delivered">{at(hop.delivered_at ?? hop.at)}</Field>
              <Field name="Queue wait">{duration(hop.queue_wait_ms)}</Field>
              <Field name="Handler">
                {duration(hop.handler_ms)} <span class="muted">({at(hop.handler_started_at)} → {at(hop.handler_ended_at)})</span>
              </Field>
              <Field name="Committed">{at(hop.committed_at)}</Field>
            </>
          ) : (
            <>
              <Field name="Written">{at(hop.written_at ?? hop.at)}</Field>
              <Field name="Published">{at(hop.published_at)}</Field>
              <Field name="Confirmed">{hop.confirmed_at ? at(hop.confirmed_at) : <span class="muted">not yet</span>}</Field>
            </>
          )}
          {hop.retry_delay_ms != null && <Field name="Retry after">{duration(hop.retry_delay_ms)}</Field>}
          {hop.reason && <Field name="Reason">{hop.reason}</Field>}
          {(hop.replayed ?? 0) > 0 && <Field name="Replayed">{hop.replayed} time(s)</Field>}
        </dl>
      )}
      {hop?.headers && Object.keys(hop.headers).length > 0 && (
        <>
          <h3>Headers</h3>
          <dl class="facts mono-values">
            {Object.entries(hop.headers).map(([k, v]) => (
              <Field key={k} name={k}>
                <span class="mono">{typeof v === "string" ? v : JSON.stringify(v)}</span>
              </Field>
            ))}
          </dl>
        </>
      )}
      {hop?.payload !== undefined && hop?.payload !== null && (
        <>
          <h3>Payload</h3>
          <pre class="payload">{JSON.stringify(hop.payload, null, 2)}</pre>
        </>
      )}
    </section>
  );
}

export function Legend() {
  const item = (cls: string, text: string) => (
    <li>
      <svg viewBox="0 0 36 10" aria-hidden="true" class={`legend-mark arrow ${cls}`}>
        <line class="shaft" x1={1} y1={5} x2={29} y2={5} />
        <path class="head" d="M28 1 L35 5 L28 9 Z" />
      </svg>
      {text}
    </li>
  );
  return (
    <ul class="legend" aria-label="Legend">
      {item("o-handled", "handled")}
      {item("o-retry_scheduled", "retried")}
      {item("o-duplicate", "duplicate")}
      {item("o-dead_lettered", "dead letter")}
      {item("o-replayed", "replayed")}
      {item("o-handled compensation", "compensation")}
      {item("o-expected expected", "expected")}
      <li class="muted">q: queue wait · h: handler time</li>
    </ul>
  );
}
