// The saga view's copy of the choreography (src/saga/topology.ts) is the
// broker's: every event's exchange is bound to exactly the queues the view
// draws arrows to, on the RabbitMQ of the test stack (management API).
import { strict as assert } from "node:assert";
import { test } from "node:test";
import { CONSUMERS, EVENTS } from "../src/saga/topology.js";
import { mgmt } from "./harness.js";

test("every event's consumers are the queues bound to its exchange", async () => {
  assert.ok(process.env["SOUK_TEST_MGMT_URL"], "SOUK_TEST_MGMT_URL is not set (run through ./souk test)");
  const bindings = (await mgmt("/bindings/souk")) as { source: string; destination: string; destination_type: string }[];
  for (const event of EVENTS) {
    const bound = bindings
      .filter((b) => b.source === event && b.destination_type === "queue")
      .map((b) => b.destination.replace(/-service$/, ""))
      .sort();
    assert.deepEqual(bound, [...CONSUMERS[event]].sort(), `${event}'s queues`);
  }
});
