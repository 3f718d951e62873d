// The saga's choreography as the broker runs it: who publishes each event
// and which services' queues are bound to its exchange (events/topology.c;
// the browser test checks this against the bindings of the test stack's
// RabbitMQ), what follows each event, and which steps are compensations.

export const LANES = ["gateway", "order", "inventory", "payment", "shipping", "notification", "analytics"] as const;
export type Lane = (typeof LANES)[number];

export const EVENTS = [
  "CartCheckedOut",
  "OrderCreated",
  "StockReserved",
  "StockReservationFailed",
  "PaymentSucceeded",
  "PaymentFailed",
  "ShippingCreated",
  "ShippingFailed",
  "PaymentRefunded",
  "StockReleased",
  "OrderCompleted",
  "OrderCancelled",
] as const;
export type EventType = (typeof EVENTS)[number];

export const PUBLISHER: Record<EventType, Lane> = {
  CartCheckedOut: "gateway",
  OrderCreated: "order",
  StockReserved: "inventory",
  StockReservationFailed: "inventory",
  PaymentSucceeded: "payment",
  PaymentFailed: "payment",
  ShippingCreated: "shipping",
  ShippingFailed: "shipping",
  PaymentRefunded: "payment",
  StockReleased: "inventory",
  OrderCompleted: "order",
  OrderCancelled: "order",
};

/** The queues bound to each event's exchange, in lane order. */
export const CONSUMERS: Record<EventType, Lane[]> = {
  CartCheckedOut: ["order", "analytics"],
  OrderCreated: ["inventory", "analytics"],
  StockReserved: ["order", "payment", "analytics"],
  StockReservationFailed: ["order", "analytics"],
  PaymentSucceeded: ["order", "shipping", "analytics"],
  PaymentFailed: ["order", "inventory", "analytics"],
  ShippingCreated: ["order", "analytics"],
  ShippingFailed: ["order", "payment", "analytics"],
  PaymentRefunded: ["order", "inventory", "analytics"],
  StockReleased: ["order", "analytics"],
  OrderCompleted: ["inventory", "notification", "analytics"],
  OrderCancelled: ["inventory", "payment", "notification", "analytics"],
};

/** What follows an event: "one" of its outcomes (the first is the happy
 * path's), or "all" of the events its consumers emit. */
export const NEXT: Record<EventType, { one?: EventType[]; all?: EventType[] }> = {
  CartCheckedOut: { all: ["OrderCreated"] },
  OrderCreated: { one: ["StockReserved", "StockReservationFailed"] },
  StockReserved: { one: ["PaymentSucceeded", "PaymentFailed"] },
  StockReservationFailed: { all: ["OrderCancelled"] },
  PaymentSucceeded: { one: ["ShippingCreated", "ShippingFailed"] },
  PaymentFailed: { all: ["StockReleased", "OrderCancelled"] },
  ShippingCreated: { all: ["OrderCompleted"] },
  ShippingFailed: { all: ["PaymentRefunded"] },
  PaymentRefunded: { all: ["StockReleased", "OrderCancelled"] },
  StockReleased: {},
  OrderCompleted: {},
  OrderCancelled: {},
};

/** Events that undo an earlier step (the refund and the release). */
export const COMPENSATING_EVENTS = new Set<string>(["PaymentRefunded", "StockReleased"]);

/** Deliveries that run a compensation: payment refunding on ShippingFailed
 * or OrderCancelled, inventory releasing on PaymentFailed, PaymentRefunded
 * or OrderCancelled. */
const COMPENSATING_DELIVERIES = new Set<string>([
  "ShippingFailed payment",
  "OrderCancelled payment",
  "PaymentFailed inventory",
  "PaymentRefunded inventory",
  "OrderCancelled inventory",
]);

export function isCompensation(event: string, consumer?: string): boolean {
  return consumer ? COMPENSATING_DELIVERIES.has(`${event} ${consumer}`) : COMPENSATING_EVENTS.has(event);
}

/** Events that mean a step failed. */
export const FAILURE_EVENTS = new Set<string>(["StockReservationFailed", "PaymentFailed", "ShippingFailed", "OrderCancelled"]);

export function isEventType(s: string): s is EventType {
  return (EVENTS as readonly string[]).includes(s);
}

export function isLane(s: string): s is Lane {
  return (LANES as readonly string[]).includes(s);
}
