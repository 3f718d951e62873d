// The choreography as a graph (GET /admin/system's edges): the services
// that publish on the left, every event's exchange in the middle in the
// saga's order, the consuming services' queues on the right, and an edge
// for each publish and each binding, as thick as its rate and labelled
// with it. The layout is fixed (the topology is small and known); the
// rate labels are placed along their own edges where they do not cover
// one another.
import type { Schemas } from "../api/client";
import { COMPENSATING_EVENTS, FAILURE_EVENTS, LANES } from "../saga/topology";
import { perSecond } from "./format";

type View = Schemas["SystemView"];
type Edge = View["edges"][number];

const W = 1180;
const ROW = 50;
const TOP = 34;
const LEFT = { x: 24, w: 170 };
const MID = { x: 470, w: 210 };
const RIGHT = { x: 930, w: 226 };
const NODE_H = 34;

interface Box {
  x: number;
  y: number; // centre
  w: number;
}

interface Label {
  x: number;
  y: number;
  text: string;
  color: string;
}

/** a point of the edge's curve (a cubic with horizontal ends) at t */
function at(x1: number, y1: number, x2: number, y2: number, t: number): [number, number] {
  const mx = (x1 + x2) / 2;
  const u = 1 - t;
  const x = u * u * u * x1 + 3 * u * u * t * mx + 3 * u * t * t * mx + t * t * t * x2;
  const y = u * u * u * y1 + 3 * u * u * t * y1 + 3 * u * t * t * y2 + t * t * t * y2;
  return [x, y];
}

const LANE_COLORS: Record<string, string> = {
  gateway: "#34495e",
  order: "#2a6f97",
  inventory: "#23867a",
  payment: "#c4522f",
  shipping: "#d98a2b",
  notification: "#7452a8",
  analytics: "#6c757d",
};

const serviceOf = (queue: string) => queue.replace(/-service$/, "");

export function ChoreographyGraph({ view }: { view: View }) {
  const exchanges = view.exchanges;
  const height = TOP * 2 + (exchanges.length - 1) * ROW + NODE_H;
  const publishers = LANES.filter((l) => exchanges.some((e) => e.publisher === l));
  const consumers = [
    ...new Set(view.edges.filter((e) => e.kind === "route").map((e) => e.to)),
  ].sort((a, b) => LANES.indexOf(serviceOf(a) as never) - LANES.indexOf(serviceOf(b) as never));
  const spread = (n: number, i: number) => TOP + NODE_H / 2 + (n <= 1 ? 0 : (i * (height - 2 * TOP - NODE_H)) / (n - 1));
  const left = new Map<string, Box>(publishers.map((p, i) => [p, { x: LEFT.x, y: spread(publishers.length, i), w: LEFT.w }]));
  const mid = new Map<string, Box>(exchanges.map((e, i) => [e.name, { x: MID.x, y: TOP + NODE_H / 2 + i * ROW, w: MID.w }]));
  const right = new Map<string, Box>(consumers.map((q, i) => [q, { x: RIGHT.x, y: spread(consumers.length, i), w: RIGHT.w }]));
  const queues = new Map(view.queues.map((q) => [q.name, q]));
  const max = Math.max(1, ...view.edges.map((e) => e.per_s));
  const width = (e: Edge) => (e.per_s > 0 ? 2 + 5 * Math.sqrt(e.per_s / max) : 1.2);

  const ends = (e: Edge): [number, number, number, number] | null => {
    const a = e.kind === "publish" ? left.get(e.from) : mid.get(e.from);
    const b = e.kind === "publish" ? mid.get(e.to) : right.get(e.to);
    if (!a || !b) return null;
    return [a.x + a.w, a.y, b.x, b.y];
  };

  // the labels of the edges that carry messages, each at the first point
  // along its edge (from the middle outwards) where it overlaps no other
  const placed: Label[] = [];
  const boxes: [number, number, number, number][] = [];
  const free = (x: number, y: number, w: number) => boxes.every(([bx, by, bw, bh]) => x + w / 2 < bx - bw / 2 || x - w / 2 > bx + bw / 2 || y + 9 < by - bh / 2 || y - 9 > by + bh / 2);
  const moving = [...view.edges].filter((e) => e.per_s > 0).sort((a, b) => b.per_s - a.per_s);
  for (const e of moving) {
    const p = ends(e);
    if (!p) continue;
    const text = perSecond(e.per_s);
    const w = text.length * 6.6 + 12;
    const tries = e.kind === "publish" ? [0.5, 0.4, 0.6, 0.3, 0.7, 0.22, 0.78] : [0.3, 0.4, 0.22, 0.5, 0.6, 0.7, 0.8, 0.15];
    for (const t of tries) {
      const [x, y] = at(...p, t);
      if (free(x, y, w)) {
        boxes.push([x, y, w + 4, 20]);
        placed.push({ x, y, text, color: LANE_COLORS[e.kind === "publish" ? e.from : (exchanges.find((x2) => x2.name === e.exchange)?.publisher ?? "")] ?? "#3d4c58" });
        break;
      }
    }
  }

  return (
    <svg class="graph" viewBox={`0 0 ${W} ${height}`} role="img" aria-labelledby="graph-title graph-desc">
      <title id="graph-title">The choreography</title>
      <desc id="graph-desc">
        Services publish each event to its exchange; every exchange, a fanout, hands each message to the queue of every
        service bound to it. Each edge is labelled with its rate in messages per second.
      </desc>
      <text class="col-title" x={LEFT.x} y={16}>
        publishes
      </text>
      <text class="col-title" x={MID.x} y={16}>
        event (fanout exchange)
      </text>
      <text class="col-title" x={RIGHT.x} y={16}>
        consuming queue
      </text>
      <g class="edges">
        {view.edges.map((e) => {
          const p = ends(e);
          if (!p) return null;
          const [x1, y1, x2, y2] = p;
          const mx = (x1 + x2) / 2;
          const publisher = e.kind === "publish" ? e.from : exchanges.find((x) => x.name === e.exchange)?.publisher;
          return (
            <path
              key={`${e.kind}:${e.from}:${e.to}`}
              class={`edge edge-${e.kind}${e.per_s > 0 ? " moving" : ""}${e.bound ? "" : " unbound"}${COMPENSATING_EVENTS.has(e.exchange) ? " compensation" : ""}`}
              data-from={e.from}
              data-to={e.to}
              data-per-s={e.per_s}
              d={`M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`}
              style={{ stroke: e.per_s > 0 ? (LANE_COLORS[publisher ?? ""] ?? "#3d4c58") : undefined, strokeWidth: width(e) }}
            >
              <title>
                {e.from} → {e.to}: {perSecond(e.per_s)}
                {e.bound ? "" : " (not bound on the broker)"}
              </title>
            </path>
          );
        })}
      </g>
      <g class="nodes">
        {publishers.map((p) => {
          const b = left.get(p)!;
          return (
            <g key={p} class={`node service lane-${p}`} transform={`translate(${b.x},${b.y - NODE_H / 2})`}>
              <rect width={b.w} height={NODE_H} rx={8} class="lane-pill" />
              <text x={14} y={NODE_H / 2 + 5} class="node-name light">
                {p}
              </text>
            </g>
          );
        })}
        {exchanges.map((e) => {
          const b = mid.get(e.name)!;
          const kind = COMPENSATING_EVENTS.has(e.name) ? " compensation" : FAILURE_EVENTS.has(e.name) ? " failure" : "";
          return (
            <a key={e.name} href={e.ui_url} target="_blank" rel="noopener noreferrer" class={`node exchange${kind}${e.declared ? "" : " missing"}`} data-exchange={e.name}>
              <title>
                {e.name}: {perSecond(e.publish_in_per_s)} in, {perSecond(e.publish_out_per_s)} routed (open in the RabbitMQ UI)
              </title>
              <g transform={`translate(${b.x},${b.y - NODE_H / 2})`}>
                <rect width={b.w} height={NODE_H} rx={17} />
                <text x={b.w / 2} y={NODE_H / 2 + 5} class="node-name" text-anchor="middle">
                  {e.name}
                </text>
              </g>
            </a>
          );
        })}
        {consumers.map((name) => {
          const b = right.get(name)!;
          const q = queues.get(name);
          const service = serviceOf(name);
          return (
            <a key={name} href={q?.ui_url ?? view.rabbitmq.ui_url} target="_blank" rel="noopener noreferrer" class={`node queue lane-${service}`} data-queue={name}>
              <title>{name}: open it in the RabbitMQ UI</title>
              <g transform={`translate(${b.x},${b.y - 26})`}>
                <rect width={b.w} height={52} rx={8} class="queue-box" />
                <rect width={6} height={52} rx={3} class="lane-pill" />
                <text x={18} y={21} class="node-name">
                  {name}
                </text>
                <text x={18} y={40} class="node-figures">
                  {q ? `${q.messages} queued · ${q.consumers} consumer${q.consumers === 1 ? "" : "s"}` : "not declared"}
                </text>
                {q && q.deliver_per_s > 0 && (
                  <text x={b.w - 12} y={40} class="node-rate" text-anchor="end">
                    {perSecond(q.deliver_per_s)}
                  </text>
                )}
              </g>
            </a>
          );
        })}
      </g>
      <g class="edge-labels" aria-hidden="true">
        {placed.map((l, i) => {
          const w = l.text.length * 6.6 + 12;
          return (
            <g key={i} transform={`translate(${l.x - w / 2},${l.y - 9})`} class="edge-label">
              <rect width={w} height={18} rx={9} style={{ stroke: l.color }} />
              <text x={w / 2} y={13} text-anchor="middle" style={{ fill: l.color }}>
                {l.text}
              </text>
            </g>
          );
        })}
      </g>
    </svg>
  );
}
