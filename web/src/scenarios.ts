// The demo aid of the checkout page: each failure path of the saga, and
// what the checkout sends to reach it. The tokens are souk-psp's, the
// stand-in payment provider (psp/psp.c): tok_decline is declined,
// tok_timeout answers after the payment worker's timeout (retried, charged
// once), tok_error fails every time (retried, then dead-lettered, and the
// order's deadline cancels it); any other token is approved. The country
// is the default of SOUK_SHIPPING_UNSERVED_COUNTRIES (core/config.h), where
// shipping refuses to deliver, so the payment is refunded.

export type ScenarioId = "approve" | "decline" | "timeout" | "error" | "unserved" | "oversell";

export interface Scenario {
  id: ScenarioId;
  title: string;
  /** what the checkout sends differently */
  sends: string;
  /** what the saga does, and how the order ends */
  expect: string;
  token: string;
  country?: string;
  /** the first line's quantity becomes the product's available stock + 1 */
  overStock?: boolean;
}

export const UNSERVED_COUNTRY = "AQ";

export const PAYMENT_METHODS = [
  { token: "tok_approve", label: "Test card •••• 4242", note: "approved" },
  { token: "tok_decline", label: "Test card •••• 0002", note: "declined by the provider" },
  { token: "tok_timeout", label: "Test card •••• 3220", note: "the provider answers too late" },
  { token: "tok_error", label: "Test card •••• 0119", note: "the provider fails every time" },
] as const;

export const SCENARIOS: readonly Scenario[] = [
  {
    id: "approve",
    title: "Approve",
    sends: "an approved card",
    expect: "Stock reserved, paid, shipped: COMPLETED.",
    token: "tok_approve",
  },
  {
    id: "decline",
    title: "Decline",
    sends: "a card the provider declines",
    expect: "PaymentFailed: the stock is released, CANCELLED (payment_declined).",
    token: "tok_decline",
  },
  {
    id: "timeout",
    title: "Provider timeout",
    sends: "a card the provider answers too late for",
    expect: "The charge is retried through the retry queues and charged once: COMPLETED, seconds later.",
    token: "tok_timeout",
  },
  {
    id: "error",
    title: "Provider error",
    sends: "a card the provider fails on (500) every time",
    expect: "Retried, then dead-lettered; the order's deadline cancels it: CANCELLED (timed_out).",
    token: "tok_error",
  },
  {
    id: "unserved",
    title: "Unserved country",
    sends: `the shipping country ${UNSERVED_COUNTRY} (Antarctica), where shipping does not deliver`,
    expect: "ShippingFailed: refunded, stock released, CANCELLED (shipping_failed).",
    token: "tok_approve",
    country: UNSERVED_COUNTRY,
  },
  {
    id: "oversell",
    title: "More than the stock",
    sends: "one unit more than the stock of the first item",
    expect: "StockReservationFailed (nothing is reserved): CANCELLED (out_of_stock).",
    token: "tok_approve",
    overStock: true,
  },
];

export function scenario(id: ScenarioId): Scenario {
  return SCENARIOS.find((s) => s.id === id) ?? SCENARIOS[0]!;
}
