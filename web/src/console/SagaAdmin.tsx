// An order's saga as an admin opens it from the saga list: the storefront's
// saga view (any order, for an admin) under the console's tabs, with its
// dead letters named above the diagram, each linking to its service's
// dead-letter page, where it can be inspected and replayed.
import { Notice } from "../components/bits";
import { shortId } from "../ids";
import { SagaBody } from "../pages/Saga";
import type { Hop, Trace } from "../saga/types";
import { ConsoleFrame } from "./Frame";

interface Letter {
  hop: Hop;
  /** a later delivery of the same message to the same service after a replay */
  after: Hop | undefined;
}

/** The deliveries of the trace that were dead-lettered, each with what
 * became of it once replayed. */
export function deadLetters(trace: Trace): Letter[] {
  const letters: Letter[] = [];
  for (const hop of trace.hops) {
    if (hop.kind !== "consume" || hop.outcome !== "dead_lettered") continue;
    const after = trace.hops.find(
      (h) =>
        h.kind === "consume" &&
        h.service === hop.service &&
        h.message_id === hop.message_id &&
        (h.replayed ?? 0) > (hop.replayed ?? 0),
    );
    letters.push({ hop, after });
  }
  return letters;
}

function DeadLetterNotes({ trace }: { trace: Trace }) {
  const letters = deadLetters(trace);
  if (letters.length === 0) return null;
  return (
    <div class="dead-letter-notes">
      {letters.map(({ hop, after }) => (
        <Notice
          key={`${hop.service}:${hop.message_id}:${hop.replayed ?? 0}`}
          kind={!after ? "error" : after.outcome === "dead_lettered" ? "warning" : "success"}
        >
          <span class="dl-note" data-dead-letter={hop.message_id} data-replayed={after ? "yes" : "no"}>
            <strong>{hop.event_type}</strong> was dead-lettered at <strong>{hop.service}</strong>
            {hop.reason ? <> ({hop.reason})</> : null}
            {after ? (
              <>
                {" "}
                · <strong>{after.outcome === "dead_lettered" ? "replayed, and dead-lettered again" : "replayed and handled"}</strong>
              </>
            ) : (
              <>
                {" "}
                · it waits in <code>{hop.queue ?? hop.service}.dlq</code>.{" "}
                <a href={`/console/dead-letters/${hop.service}?order=${trace.order_id}`}>Inspect and replay it →</a>
              </>
            )}
          </span>
        </Notice>
      ))}
    </div>
  );
}

export function ConsoleSagaPage({ id }: { id: string }) {
  return (
    <ConsoleFrame
      title={`Saga of ${shortId(id)}`}
      heading={
        <>
          The saga of order <code>{shortId(id)}</code>
        </>
      }
      crumbs={
        <>
          <a href="/console/sagas">Sagas</a> <span aria-hidden="true">/</span> <span>{shortId(id)}</span>{" "}
          <span aria-hidden="true">/</span> <a href={`/shop/orders/${id}`}>order page</a>
        </>
      }
    >
      <SagaBody id={id} aside={(trace) => <DeadLetterNotes trace={trace} />} />
    </ConsoleFrame>
  );
}
