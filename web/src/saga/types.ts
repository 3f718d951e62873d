// A hop of GET /orders/{id}/trace as the saga view reads it: every hop of
// one order's saga, a publish (an outbox row relayed to its exchange) or a
// consume (one settled delivery to a service's queue). One type for both
// kinds, the fields of the other kind optional: the API's TracePublishHop
// and TraceConsumeHop (its /openapi.json) must be assignable to it, which
// traceApi.ts's type check proves.

export type HopKind = "publish" | "consume";

export type Outcome =
  | "published"
  | "pending"
  | "handled"
  | "duplicate"
  | "retry_scheduled"
  | "dead_lettered"
  | "replayed";

export interface Hop {
  kind: HopKind;
  service: string;
  event_type: string;
  message_id: string;
  causation_id: string | null;
  exchange: string | null;
  queue?: string | null;
  outcome: Outcome | string;
  attempt: number | null;
  retry_delay_ms?: number | null;
  reason?: string | null;
  replayed: number | null;
  compensation: boolean;
  trace_id: string | null;
  span_id: string | null;
  parent_span_id: string | null;
  at: string;
  written_at?: string | null;
  published_at?: string | null;
  confirmed_at?: string | null;
  delivered_at?: string | null;
  handler_started_at?: string | null;
  handler_ended_at?: string | null;
  committed_at?: string | null;
  queue_wait_ms?: number | null;
  handler_ms?: number | null;
  headers?: Record<string, unknown> | null;
  payload?: unknown;
}

export interface Trace {
  order_id: string;
  trace_id: string | null;
  status: string;
  final: boolean;
  version: string;
  hops: Hop[];
}
