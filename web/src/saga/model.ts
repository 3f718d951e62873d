// From a trace (every recorded hop of one order's saga) to what the saga
// view draws: the events in the order they happened, each with its
// publisher and one row per delivery attempt to each consumer, plus the
// steps still expected (greyed): the consumers an event has not reached
// yet and, while the saga runs, the events its path still needs.
// Pure: no DOM, unit-tested in model.test.ts.
import type { Hop, Trace } from "./types.js";
import {
  CONSUMERS,
  FAILURE_EVENTS,
  LANES,
  NEXT,
  PUBLISHER,
  isCompensation,
  isEventType,
  type EventType,
} from "./topology.js";

export interface Delivery {
  key: string;
  consumer: string;
  /** null: expected, not recorded yet */
  hop: Hop | null;
  outcome: string;
  attempt: number;
  compensation: boolean;
}

export interface SagaEvent {
  key: string;
  type: string;
  messageId: string | null;
  publisher: string;
  /** the publish hop; null when not recorded (yet) */
  publish: Hop | null;
  /** nothing of it is recorded: a step the saga still needs */
  expected: boolean;
  compensation: boolean;
  failure: boolean;
  /** ms since the epoch of its first hop, null when expected */
  at: number | null;
  deliveries: Delivery[];
}

export interface Marks {
  retries: number;
  duplicates: number;
  deadLetters: number;
  replays: number;
}

export interface SagaModel {
  lanes: string[];
  events: SagaEvent[];
  /** the first hop's time and the last hop's end, ms since the epoch */
  start: number | null;
  end: number | null;
  hops: number;
  marks: Marks;
}

export interface SagaState {
  /** the order is COMPLETED or CANCELLED: no new step will start */
  final: boolean;
  cancelReason?: string | null;
}

const ms = (iso: string | null | undefined): number | null => {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : t;
};

function lastTime(h: Hop): number | null {
  const times = [h.at, h.confirmed_at, h.published_at, h.committed_at, h.handler_ended_at].map(ms);
  const known = times.filter((t): t is number => t !== null);
  return known.length ? Math.max(...known) : null;
}

/** The steps the saga still needs, in the order it would take them. */
export function expectedEvents(seen: ReadonlySet<string>, state: SagaState): EventType[] {
  const expected: EventType[] = [];
  const queue: EventType[] = [];
  const want = (t: EventType) => {
    if (seen.has(t) || expected.includes(t)) return;
    expected.push(t);
    queue.push(t);
  };
  for (const t of seen) if (isEventType(t)) queue.push(t);
  if (seen.size === 0 && !state.final) want("CartCheckedOut");
  while (queue.length) {
    const t = queue.shift()!;
    const next = NEXT[t];
    for (const x of next.all ?? []) want(x);
    if (next.one && !next.one.some((x) => seen.has(x) || expected.includes(x)) && !state.final) want(next.one[0]!);
  }
  // The deadline's cancel is compensated by its consumers: inventory
  // releases a reservation, payment refunds a capture.
  if (state.cancelReason === "timed_out" && seen.has("OrderCancelled")) {
    if (seen.has("StockReserved") && !seen.has("StockReleased")) want("StockReleased");
    if (seen.has("PaymentSucceeded") && !seen.has("PaymentRefunded")) want("PaymentRefunded");
  }
  return expected;
}

function deliveriesOf(type: string, consumes: Hop[]): Delivery[] {
  const byService = new Map<string, Hop[]>();
  for (const h of consumes) {
    const list = byService.get(h.service) ?? [];
    list.push(h);
    byService.set(h.service, list);
  }
  const bound: string[] = isEventType(type) ? CONSUMERS[type] : [];
  const services = [...bound, ...[...byService.keys()].filter((s) => !bound.includes(s))];
  const out: Delivery[] = [];
  for (const service of services) {
    const hops = (byService.get(service) ?? []).sort(
      (a, b) => (a.attempt ?? 1) - (b.attempt ?? 1) || (ms(a.at) ?? 0) - (ms(b.at) ?? 0),
    );
    if (hops.length === 0) {
      out.push({
        key: `${type}:${service}:expected`,
        consumer: service,
        hop: null,
        outcome: "expected",
        attempt: 0,
        compensation: isCompensation(type, service),
      });
      continue;
    }
    hops.forEach((h, i) =>
      out.push({
        key: `${h.message_id}:${service}:${i}`,
        consumer: service,
        hop: h,
        outcome: h.outcome,
        attempt: h.attempt ?? i + 1,
        compensation: h.compensation || isCompensation(type, service),
      }),
    );
  }
  return out;
}

export function buildSaga(trace: Trace | null, state: SagaState): SagaModel {
  const hops = trace?.hops ?? [];
  const groups = new Map<string, Hop[]>();
  for (const h of hops) {
    const list = groups.get(h.message_id) ?? [];
    list.push(h);
    groups.set(h.message_id, list);
  }
  const marks: Marks = { retries: 0, duplicates: 0, deadLetters: 0, replays: 0 };
  for (const h of hops) {
    if (h.outcome === "retry_scheduled") marks.retries++;
    else if (h.outcome === "duplicate") marks.duplicates++;
    else if (h.outcome === "dead_lettered") marks.deadLetters++;
    if (h.outcome === "replayed" || (h.replayed ?? 0) > 0) marks.replays++;
  }

  const events: SagaEvent[] = [];
  for (const [messageId, group] of groups) {
    const publish = group.find((h) => h.kind === "publish") ?? null;
    const consumes = group.filter((h) => h.kind === "consume");
    const type = (publish ?? group[0]!).event_type;
    const times = group.map((h) => ms(h.at)).filter((t): t is number => t !== null);
    events.push({
      key: messageId,
      type,
      messageId,
      publisher: publish?.service ?? (isEventType(type) ? PUBLISHER[type] : "unknown"),
      publish,
      expected: false,
      compensation: (publish?.compensation ?? false) || isCompensation(type),
      failure: FAILURE_EVENTS.has(type),
      at: times.length ? Math.min(...times) : null,
      deliveries: deliveriesOf(type, consumes),
    });
  }
  events.sort((a, b) => (a.at ?? 0) - (b.at ?? 0));

  const seen = new Set(events.map((e) => e.type));
  for (const type of expectedEvents(seen, state)) {
    events.push({
      key: `expected:${type}`,
      type,
      messageId: null,
      publisher: PUBLISHER[type],
      publish: null,
      expected: true,
      compensation: isCompensation(type),
      failure: FAILURE_EVENTS.has(type),
      at: null,
      deliveries: deliveriesOf(type, []),
    });
  }

  const lanes: string[] = [...LANES];
  for (const h of hops) if (!lanes.includes(h.service)) lanes.push(h.service);
  const starts = hops.map((h) => ms(h.at)).filter((t): t is number => t !== null);
  const ends = hops.map(lastTime).filter((t): t is number => t !== null);
  return {
    lanes,
    events,
    start: starts.length ? Math.min(...starts) : null,
    end: ends.length ? Math.max(...ends) : null,
    hops: hops.length,
    marks,
  };
}

/** "0.8 ms", "12 ms", "1.4 s". */
export function duration(msValue: number | null | undefined): string {
  if (msValue === null || msValue === undefined || !Number.isFinite(msValue)) return "–";
  if (msValue < 10) return `${msValue.toFixed(1)} ms`;
  if (msValue < 1000) return `${Math.round(msValue)} ms`;
  return `${(msValue / 1000).toFixed(msValue < 10000 ? 2 : 1)} s`;
}

/** The publish's own time: from the outbox row's write to the broker's confirm. */
export function publishLatency(h: Hop | null): number | null {
  if (!h) return null;
  const a = ms(h.written_at ?? h.at);
  const b = ms(h.confirmed_at ?? h.published_at);
  return a !== null && b !== null ? b - a : null;
}

/** Whether the view should keep following: the saga runs, or it is final
 * and some hop it implies (a consumer, a compensation) is not recorded. */
export function stillMoving(model: SagaModel, final: boolean): boolean {
  if (!final) return true;
  return model.events.some((e) => e.expected || e.deliveries.some((d) => d.hop === null));
}
