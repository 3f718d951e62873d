import { strict as assert } from "node:assert";
import { test } from "node:test";
import { completedTrace, deadLetteredTrace, declinedTrace } from "./fixtures.js";
import { buildSaga, expectedEvents, stillMoving } from "./model.js";

test("a completed saga: six events in order, every delivery recorded, nothing expected", () => {
  const m = buildSaga(completedTrace(), { final: true });
  assert.deepEqual(
    m.events.map((e) => e.type),
    ["CartCheckedOut", "OrderCreated", "StockReserved", "PaymentSucceeded", "ShippingCreated", "OrderCompleted"],
  );
  assert.equal(m.events.flatMap((e) => e.deliveries).length, 15);
  assert.ok(m.events.every((e) => !e.expected && e.deliveries.every((d) => d.hop !== null)));
  assert.equal(m.events[0]!.publisher, "gateway");
  assert.deepEqual(m.lanes, ["gateway", "order", "inventory", "payment", "shipping", "notification", "analytics"]);
  assert.equal(stillMoving(m, true), false);
  assert.ok(m.start !== null && m.end !== null && m.end > m.start);
});

test("a declined saga marks its compensations and its duplicate", () => {
  const m = buildSaga(declinedTrace(), { final: true, cancelReason: "payment_declined" });
  const released = m.events.find((e) => e.type === "StockReleased")!;
  assert.ok(released.compensation, "StockReleased is a compensation");
  const failed = m.events.find((e) => e.type === "PaymentFailed")!;
  assert.ok(failed.failure);
  assert.ok(failed.deliveries.find((d) => d.consumer === "inventory")!.compensation, "inventory releases on PaymentFailed");
  assert.ok(!failed.deliveries.find((d) => d.consumer === "order")!.compensation);
  assert.equal(m.marks.duplicates, 1);
  const reserved = m.events.find((e) => e.type === "StockReserved")!;
  assert.equal(reserved.deliveries.filter((d) => d.consumer === "order").length, 2, "the duplicate is its own row");
  assert.ok(!m.events.some((e) => e.expected));
});

test("while a saga runs, the rest of its happy path is expected", () => {
  const t = completedTrace();
  t.hops = t.hops.filter((h) => ["CartCheckedOut", "OrderCreated"].includes(h.event_type));
  t.final = false;
  const m = buildSaga(t, { final: false });
  assert.deepEqual(
    m.events.filter((e) => e.expected).map((e) => e.type),
    ["StockReserved", "PaymentSucceeded", "ShippingCreated", "OrderCompleted"],
  );
  assert.ok(m.events.filter((e) => e.expected).every((e) => e.deliveries.every((d) => d.hop === null)));
  assert.equal(stillMoving(m, false), true);
});

test("a delivery not recorded yet is expected, also once the order is final", () => {
  const t = completedTrace();
  t.hops = t.hops.filter((h) => !(h.event_type === "OrderCompleted" && h.service === "notification"));
  const m = buildSaga(t, { final: true });
  const completed = m.events.find((e) => e.type === "OrderCompleted")!;
  const notification = completed.deliveries.find((d) => d.consumer === "notification")!;
  assert.equal(notification.hop, null);
  assert.equal(notification.outcome, "expected");
  assert.equal(stillMoving(m, true), true);
});

test("retries are one row per attempt, the dead letter last, and a replay is counted", () => {
  const m = buildSaga(deadLetteredTrace(true), { final: false });
  const payment = m.events.find((e) => e.type === "StockReserved")!.deliveries.filter((d) => d.consumer === "payment");
  assert.deepEqual(payment.map((d) => d.outcome), ["retry_scheduled", "retry_scheduled", "dead_lettered", "replayed"]);
  assert.deepEqual(payment.map((d) => d.attempt), [1, 2, 3, 4]);
  assert.deepEqual(m.marks, { retries: 2, duplicates: 0, deadLetters: 1, replays: 1 });
  assert.deepEqual(
    m.events.filter((e) => e.expected).map((e) => e.type),
    ["PaymentSucceeded", "ShippingCreated", "OrderCompleted"],
  );
});

test("the expected steps follow the branch the saga took", () => {
  assert.deepEqual(expectedEvents(new Set(), { final: false }), [
    "CartCheckedOut", "OrderCreated", "StockReserved", "PaymentSucceeded", "ShippingCreated", "OrderCompleted",
  ]);
  assert.deepEqual(
    expectedEvents(new Set(["CartCheckedOut", "OrderCreated", "StockReserved", "PaymentSucceeded", "ShippingFailed"]), { final: false }),
    ["PaymentRefunded", "StockReleased", "OrderCancelled"],
  );
  assert.deepEqual(expectedEvents(new Set(["CartCheckedOut", "OrderCreated", "StockReservationFailed"]), { final: false }), ["OrderCancelled"]);
  // the deadline's cancel: release and refund follow it
  assert.deepEqual(
    expectedEvents(new Set(["CartCheckedOut", "OrderCreated", "StockReserved", "PaymentSucceeded", "OrderCancelled"]), {
      final: true,
      cancelReason: "timed_out",
    }),
    ["StockReleased", "PaymentRefunded"],
  );
  // a final saga starts nothing new
  assert.deepEqual(expectedEvents(new Set(["CartCheckedOut", "OrderCreated"]), { final: true }), []);
});
