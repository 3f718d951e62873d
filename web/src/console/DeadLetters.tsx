// The dead letters of every service (GET /admin/dlq), and one service's
// grouped by reason (GET /admin/dlq/{service}), with souk dlq's operations
// through the gateway's admin API, so with its guarantee: a replay
// publishes each message to its original exchange, waits for the broker's
// confirm and routing, and only then removes it from the DLQ. Inspect one
// (headers and payload), replay one, replay all (a job whose progress the
// page follows), purge (after a confirmation).
import { Fragment, type ComponentChildren } from "preact";
import { useLocation } from "preact-iso";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { api, describeError, errorCode, sleep, type Schemas } from "../api/client";
import { Copyable } from "../components/Copy";
import { Loading, Notice } from "../components/bits";
import { shortId } from "../ids";
import { when } from "../money";
import { Confirm, Drawer } from "./Dialogs";
import { ConsoleFrame } from "./Frame";
import { count } from "./format";

type Service = "order" | "inventory" | "payment" | "shipping" | "analytics" | "notification";
const SERVICES: Service[] = ["order", "inventory", "payment", "shipping", "notification", "analytics"];
const isService = (s: string): s is Service => (SERVICES as string[]).includes(s);

type Overview = Schemas["DeadLetterOverview"];
type Groups = Schemas["DeadLetterGroups"];
type Group = Groups["groups"][number];
type Short = Group["messages"][number];
type Letter = Schemas["DeadLetter"];
type Replay = Schemas["DeadLetterReplay"];

/** GET /admin/dlq every `everyMs` while the page is open. */
function useOverview(everyMs: number): { overview: Overview | null; error: string } {
  const [overview, setOverview] = useState<Overview | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    const stop = new AbortController();
    void (async () => {
      while (!stop.signal.aborted) {
        try {
          const { data, error: e, response } = await api.GET("/admin/dlq", { signal: stop.signal });
          if (data) {
            setOverview(data);
            setError("");
          } else setError(describeError(e, response));
        } catch {
          if (stop.signal.aborted) return;
          setError("the gateway could not be reached");
        }
        await sleep(everyMs, stop.signal);
      }
    })();
    return () => stop.abort();
  }, [everyMs]);
  return { overview, error };
}

function ReplayState({ replay }: { replay: Replay }) {
  const done = replay.replayed + replay.unroutable;
  return (
    <div class={`replay-state replay-${replay.state}`} data-replay-state={replay.state} role="status">
      <div class="replay-line">
        <strong>
          {replay.state === "running"
            ? "Replaying…"
            : replay.state === "done"
              ? "Replay done"
              : replay.state === "failed"
                ? "Replay failed"
                : "Replay stopped"}
        </strong>
        <span>
          {count(replay.replayed)} of {count(replay.planned)} replayed
          {replay.unroutable > 0 && ` · ${count(replay.unroutable)} unroutable, left in place`}
          {replay.state === "running" && ` · ${count(replay.remaining)} to go`}
        </span>
        <span class="muted">{when(replay.finished_at ?? replay.started_at)}</span>
      </div>
      <progress max={Math.max(1, replay.planned)} value={replay.planned ? done : 1} aria-label="Replay progress" />
      {replay.error && <p class="replay-error">{replay.error}</p>}
    </div>
  );
}

export function DeadLettersPage() {
  return (
    <ConsoleFrame title="Dead letters">
      <p class="lead">
        Messages a service gave up on: no handler, a payload its schema refuses, or a transient failure whose retries
        ran out. Each service has its DLQ; open one to see its letters grouped by reason, inspect, replay or purge
        them.
      </p>
      <Queues />
    </ConsoleFrame>
  );
}

function Queues() {
  const { overview, error } = useOverview(3000);
  const total = overview?.services.reduce((n, s) => n + s.depth, 0) ?? 0;
  return (
    <>
      {error && <Notice kind="error">The dead-letter queues could not be read: {error}</Notice>}
      {!overview && !error && <Loading what="the dead-letter queues" />}
      {overview && (
        <>
          <p class="list-meta" aria-live="polite">
            <span>
              <strong>{count(total)}</strong> dead {total === 1 ? "letter" : "letters"} in {overview.services.length} queues
            </span>
            <span class="live-state live">
              <span class="pulse" aria-hidden="true" /> live
            </span>
          </p>
          <ul class="dlq-grid">
            {overview.services.map((s) => (
              <li key={s.service} class={`dlq-card card${s.depth ? " has-letters" : ""}`} data-service={s.service} data-depth={s.depth}>
                <div class="dlq-card-head">
                  <h2>
                    <a href={`/console/dead-letters/${s.service}`}>{s.service}</a>
                  </h2>
                  <span class="dlq-depth" aria-label={`${s.depth} dead letters`}>
                    {count(s.depth)}
                  </span>
                </div>
                <p class="muted mono">{s.queue}</p>
                {s.replay && <ReplayState replay={s.replay} />}
                <p class="dlq-links">
                  <a href={`/console/dead-letters/${s.service}`}>{s.depth ? "Open the letters →" : "Open"}</a>
                  <a href={s.ui_url} target="_blank" rel="noopener noreferrer">
                    RabbitMQ UI ↗
                  </a>
                </p>
              </li>
            ))}
          </ul>
        </>
      )}
    </>
  );
}

// ------------------------------------------------------------ one service

function Facts({ letter }: { letter: Letter }) {
  const row = (name: string, value: ComponentChildren) => (
    <Fragment key={name}>
      <dt>{name}</dt>
      <dd>{value ?? <span class="muted">–</span>}</dd>
    </Fragment>
  );
  return (
    <dl class="facts">
      {row("Message id", <Copyable value={letter.message_id} label="message id" />)}
      {row("Type", letter.type)}
      {row(
        "Order",
        letter.order_id ? (
          <a href={`/console/sagas/${letter.order_id}`} class="mono">
            {letter.order_id}
          </a>
        ) : null,
      )}
      {row("Reason", letter.reason)}
      {row("Attempts", String(letter.attempts))}
      {row("First failure", letter.first_failure ? when(letter.first_failure) : null)}
      {row("Exchange", letter.original_exchange ? <span class="mono">{letter.original_exchange}</span> : null)}
      {row("Replayed before", String(letter.replayed))}
      {row("Published by", letter.app_id)}
      {row("Caused by", letter.causation_id ? <span class="mono">{letter.causation_id}</span> : null)}
      {row("Occurred", letter.occurred_at ? when(letter.occurred_at) : null)}
    </dl>
  );
}

function Inspect({
  service,
  id,
  onClose,
  onReplay,
}: {
  service: Service;
  id: string;
  onClose: () => void;
  onReplay: (id: string) => void;
}) {
  const [letter, setLetter] = useState<Letter | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    setLetter(null);
    api
      .GET("/admin/dlq/{service}/messages/{message_id}", { params: { path: { service, message_id: id } } })
      .then(({ data, error: e, response }) => {
        if (data) setLetter(data);
        else setError(response.status === 404 ? "It is not in the queue any more." : describeError(e, response));
      })
      .catch((e: unknown) => setError(describeError(e)));
  }, [service, id]);
  return (
    <Drawer title={letter?.type ? `${letter.type} at ${service}` : "Dead letter"} onClose={onClose}>
      {error && <Notice kind="error">{error}</Notice>}
      {!letter && !error && <Loading what="the message" />}
      {letter && (
        <>
          <p class="chips">
            <span class="chip o-dead_lettered">dead-lettered</span>
            <span class="chip">attempts {letter.attempts}</span>
            {letter.replayed > 0 && <span class="chip o-replayed">replayed {letter.replayed}×</span>}
          </p>
          <Facts letter={letter} />
          <h3>Headers</h3>
          <dl class="facts mono-values headers">
            {Object.entries(letter.headers).map(([k, v]) => (
              <Fragment key={k}>
                <dt class="mono">{k}</dt>
                <dd class="mono">{typeof v === "string" ? v : JSON.stringify(v)}</dd>
              </Fragment>
            ))}
          </dl>
          <h3>Payload</h3>
          <pre class="payload" tabIndex={0}>
            {typeof letter.payload === "string" ? letter.payload : JSON.stringify(letter.payload, null, 2)}
          </pre>
          <p>
            <button type="button" class="button primary" onClick={() => onReplay(id)}>
              Replay this message
            </button>
          </p>
        </>
      )}
    </Drawer>
  );
}

type Outcome = { kind: "success" | "error" | "warning"; text: ComponentChildren } | null;

function ServiceLetters({ service }: { service: Service }) {
  const { query } = useLocation();
  const order = query["order"] ?? "";
  const [groups, setGroups] = useState<Groups | null>(null);
  const [error, setError] = useState("");
  const [replay, setReplay] = useState<Replay | null>(null);
  const [outcome, setOutcome] = useState<Outcome>(null);
  const [inspecting, setInspecting] = useState<string | null>(null);
  const [purging, setPurging] = useState(false);
  const [busy, setBusy] = useState<string | null>(null);
  const { overview } = useOverview(3000);
  const alive = useRef(true);
  useEffect(() => () => void (alive.current = false), []);

  const load = useCallback(async () => {
    const { data, error: e, response } = await api.GET("/admin/dlq/{service}", { params: { path: { service } } });
    if (!alive.current) return;
    if (data) {
      setGroups(data);
      setError("");
    } else if (errorCode(e) === "REPLAY_RUNNING" && e?.error.details?.replay) setReplay(e.error.details.replay);
    else setError(describeError(e, response));
  }, [service]);

  useEffect(() => {
    setGroups(null);
    void load();
  }, [load]);

  // the overview's depth (cheap, read every 3 s) tells when to read the groups again
  const depth = overview?.services.find((s) => s.service === service)?.depth;
  useEffect(() => {
    if (depth !== undefined && groups && depth !== groups.depth && !busy && (!replay || replay.state !== "running")) void load();
  }, [depth]);
  // a replay someone else started shows too
  const latest = overview?.services.find((s) => s.service === service)?.replay ?? null;
  useEffect(() => {
    if (latest && latest.state === "running" && (!replay || replay.id !== latest.id)) setReplay(latest);
  }, [latest?.id, latest?.state]);

  // follow a running replay until it ends, then read the queue again
  useEffect(() => {
    if (!replay || replay.state !== "running") return;
    const stop = new AbortController();
    void (async () => {
      let job = replay;
      while (!stop.signal.aborted && job.state === "running") {
        await sleep(400, stop.signal);
        const { data } = await api.GET("/admin/dlq/{service}/replays/{id}", {
          params: { path: { service, id: job.id } },
          signal: stop.signal,
        });
        if (data) {
          job = data;
          setReplay(data);
        }
      }
      if (!stop.signal.aborted) {
        setOutcome(
          job.state === "done"
            ? {
                kind: job.unroutable ? "warning" : "success",
                text: `Replayed ${job.replayed} of ${job.planned}${job.unroutable ? `; ${job.unroutable} could not be routed and ${job.unroutable === 1 ? "stays" : "stay"} in the queue` : ""}.`,
              }
            : { kind: "error", text: `The replay ${job.state}: ${job.error ?? "the gateway stopped"}` },
        );
        void load();
      }
    })().catch(() => {});
    return () => stop.abort();
  }, [replay?.id, replay?.state === "running"]);

  const replayOne = async (id: string) => {
    setBusy(id);
    setInspecting(null);
    const short = groups?.groups.flatMap((g) => g.messages).find((m) => m.message_id === id);
    try {
      const { data, error: e, response } = await api.POST("/admin/dlq/{service}/messages/{message_id}/replay", {
        params: { path: { service, message_id: id } },
      });
      if (data)
        setOutcome({
          kind: "success",
          text: (
            <span data-replayed={id}>
              Replayed <strong>{short?.type ?? "the message"}</strong> <code>{shortId(id)}</code>: the broker confirmed and
              routed its copy, and it left the queue.{" "}
              {short?.order_id && <a href={`/console/sagas/${short.order_id}`}>Follow its saga →</a>}
            </span>
          ),
        });
      else if (errorCode(e) === "REPLAY_RUNNING" && e?.error.details?.replay) setReplay(e.error.details.replay);
      else
        setOutcome({
          kind: "error",
          text:
            errorCode(e) === "UNROUTABLE"
              ? "It cannot be routed (its exchange is missing or has no queue bound): it stays in the queue."
              : response.status === 404
                ? "It is not in the queue any more (replayed or purged meanwhile)."
                : describeError(e, response),
        });
    } catch (e) {
      setOutcome({ kind: "error", text: describeError(e) });
    }
    setBusy(null);
    await load();
  };

  const replayAll = async () => {
    setBusy("all");
    setOutcome(null);
    const { data, error: e, response } = await api.POST("/admin/dlq/{service}/replays", { params: { path: { service } } });
    if (data) setReplay(data);
    else if (errorCode(e) === "REPLAY_RUNNING" && e?.error.details?.replay) setReplay(e.error.details.replay);
    else setOutcome({ kind: "error", text: describeError(e, response) });
    setBusy(null);
  };

  const purge = async () => {
    setBusy("purge");
    const { data, error: e, response } = await api.DELETE("/admin/dlq/{service}/messages", { params: { path: { service } } });
    setPurging(false);
    setBusy(null);
    if (data) setOutcome({ kind: "success", text: `Purged ${data.purged} ${data.purged === 1 ? "message" : "messages"} from ${data.queue}.` });
    else if (errorCode(e) === "REPLAY_RUNNING" && e?.error.details?.replay) setReplay(e.error.details.replay);
    else setOutcome({ kind: "error", text: describeError(e, response) });
    await load();
  };

  const running = replay?.state === "running";
  const total = groups?.depth ?? 0;
  const ofOrder = (m: Short) => !!order && m.order_id === order;
  const orderLetters = order && groups ? groups.groups.flatMap((g) => g.messages).filter(ofOrder) : [];

  return (
    <>
      <div class="dlq-head card">
        <div>
          <span class="muted">Queue</span>{" "}
          <a class="mono" href={groups?.ui_url ?? overview?.services.find((s) => s.service === service)?.ui_url ?? "#"} target="_blank" rel="noopener noreferrer">
            {service}-service.dlq ↗
          </a>
        </div>
        <div class="dlq-head-depth">
          <strong data-testid="dlq-depth">{groups ? count(groups.depth) : "…"}</strong> {total === 1 ? "message" : "messages"}
          {groups?.truncated && <span class="muted"> (the first {count(groups.scanned)} shown)</span>}
        </div>
        <div class="dlq-head-actions">
          <button type="button" class="button" disabled={!total || running || !!busy} onClick={() => void replayAll()}>
            Replay all
          </button>
          <button type="button" class="button ghost danger-text" disabled={!total || running || !!busy} onClick={() => setPurging(true)}>
            Purge…
          </button>
        </div>
      </div>
      {replay && <ReplayState replay={replay} />}
      {outcome && <Notice kind={outcome.kind}>{outcome.text}</Notice>}
      {error && <Notice kind="error">The queue could not be read: {error}</Notice>}
      {order && groups && (
        <Notice kind={orderLetters.length ? "info" : "success"}>
          {orderLetters.length === 0
            ? `Order ${shortId(order)} has no letter in this queue.`
            : orderLetters.length === 1
              ? `One of these letters is order ${shortId(order)}'s (highlighted).`
              : `${orderLetters.length} of these letters are order ${shortId(order)}'s (highlighted).`}{" "}
          <a href={`/console/sagas/${order}`}>Its saga →</a>
        </Notice>
      )}
      {!groups && !error && !running && <Loading what="the dead letters" />}
      {groups && groups.groups.length === 0 && (
        <div class="empty card">
          <p>No dead letters: the {service} service handled everything it was sent.</p>
        </div>
      )}
      {groups?.groups.map((g) => (
        <section key={g.reason ?? ""} class="dlq-group card" data-reason={g.reason ?? ""}>
          <header class="dlq-group-head">
            <h2>{g.reason ?? <span class="muted">no reason recorded</span>}</h2>
            <span class="dlq-count">{count(g.count)}</span>
          </header>
          <p class="dlq-group-facts">
            {Object.entries(g.types).map(([t, n]) => (
              <span key={t} class="chip">
                {t} × {n}
              </span>
            ))}
            <span class="muted">
              first failures {when(g.first_failure)}
              {g.last_failure && g.last_failure !== g.first_failure ? ` – ${when(g.last_failure)}` : ""}
            </span>
          </p>
          <div class="table-scroll">
            <table class="data letters">
              <thead>
                <tr>
                  <th scope="col">Message</th>
                  <th scope="col">Type</th>
                  <th scope="col">Order</th>
                  <th scope="col" class="num">
                    Attempts
                  </th>
                  <th scope="col">First failure</th>
                  <th scope="col">
                    <span class="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {g.messages.map((m) => (
                  <tr key={m.message_id} class={ofOrder(m) ? "highlight" : ""} data-message={m.message_id} data-order={m.order_id}>
                    <td data-label="Message">
                      <code>{shortId(m.message_id)}</code>
                      {m.replayed > 0 && <span class="chip o-replayed">replayed {m.replayed}×</span>}
                    </td>
                    <td data-label="Type">{m.type}</td>
                    <td data-label="Order">
                      <a href={`/console/sagas/${m.order_id}`}>
                        <code>{shortId(m.order_id)}</code>
                      </a>
                    </td>
                    <td data-label="Attempts" class="num">
                      {m.attempts}
                    </td>
                    <td data-label="First failure">{when(m.first_failure)}</td>
                    <td class="row-actions">
                      <button type="button" class="button ghost small" onClick={() => setInspecting(m.message_id)}>
                        Inspect<span class="visually-hidden"> message {shortId(m.message_id)}</span>
                      </button>
                      <button
                        type="button"
                        class="button small"
                        disabled={running || !!busy}
                        onClick={() => void replayOne(m.message_id)}
                      >
                        {busy === m.message_id ? "Replaying…" : "Replay"}
                        <span class="visually-hidden"> message {shortId(m.message_id)}</span>
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {g.count > g.messages.length && (
            <p class="muted">
              The first {g.messages.length} of {g.count} shown; Replay all reaches every one.
            </p>
          )}
        </section>
      ))}
      {inspecting && <Inspect service={service} id={inspecting} onClose={() => setInspecting(null)} onReplay={(id) => void replayOne(id)} />}
      {purging && (
        <Confirm
          title={`Purge ${service}-service.dlq?`}
          confirm={`Purge ${count(total)} ${total === 1 ? "message" : "messages"}`}
          busy={busy === "purge"}
          onConfirm={() => void purge()}
          onCancel={() => setPurging(false)}
        >
          <p>
            Every message in the queue is deleted for good: it is not replayed, and no saga it belongs to hears of it
            again. Replay them instead to have the {service} service handle them.
          </p>
        </Confirm>
      )}
    </>
  );
}

export function ServiceDeadLettersPage({ service }: { service: string }) {
  return (
    <ConsoleFrame
      title={`Dead letters of ${service}`}
      heading={
        <>
          Dead letters of the <span class="accent">{service}</span> service
        </>
      }
      crumbs={
        <>
          <a href="/console/dead-letters">Dead letters</a> <span aria-hidden="true">/</span> <span>{service}</span>
        </>
      }
    >
      {isService(service) ? <ServiceLetters service={service} /> : <Notice kind="error">There is no service “{service}”.</Notice>}
    </ConsoleFrame>
  );
}
