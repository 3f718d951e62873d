// Small pieces the pages share: notices, the order status badge, the
// product's tile, a page title that also names the browser tab.
import type { ComponentChildren } from "preact";
import { useEffect } from "preact/hooks";

export function useTitle(title: string): void {
  useEffect(() => {
    document.title = title ? `${title} · Souk` : "Souk";
  }, [title]);
}

export function Notice({
  kind = "info",
  children,
}: {
  kind?: "info" | "error" | "success" | "warning";
  children: ComponentChildren;
}) {
  return (
    <div class={`notice notice-${kind}`} role={kind === "error" ? "alert" : "status"}>
      {children}
    </div>
  );
}

/** An empty list's card, with the way back to the shop. */
export function Empty({ children }: { children: ComponentChildren }) {
  return (
    <div class="empty card">
      <p>{children}</p>
      <a class="button" href="/">
        Browse the shop
      </a>
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="loading" role="status">
      <span class="spinner" aria-hidden="true" /> Loading {what}…
    </p>
  );
}

const REASONS: Record<string, string> = {
  out_of_stock: "out of stock",
  payment_declined: "payment declined",
  shipping_failed: "shipping failed, refunded",
  timed_out: "timed out",
};

export function reasonText(reason: string | null | undefined): string {
  return reason ? (REASONS[reason] ?? reason.replace(/_/g, " ")) : "";
}

export const FINAL = new Set(["COMPLETED", "CANCELLED"]);

export function StatusBadge({ status, reason }: { status: string; reason?: string | null }) {
  const label = status.replace(/_/g, " ").toLowerCase();
  return (
    <span class={`status status-${status.toLowerCase()}`} data-status={status}>
      {!FINAL.has(status) && <span class="pulse" aria-hidden="true" />}
      {label}
      {reason ? <span class="status-reason"> · {reasonText(reason)}</span> : null}
    </span>
  );
}

// A product has no picture: its tile is drawn from its SKU, the same
// colours and pattern every time.
const PALETTE = [
  ["#1f6f78", "#f2c57c"],
  ["#b5543c", "#f6e3c5"],
  ["#3d5a80", "#e0fbfc"],
  ["#6b4f8a", "#f4d6a0"],
  ["#2f7a4f", "#f1e4b3"],
  ["#a23e48", "#f7d9c4"],
  ["#34495e", "#f0b67f"],
] as const;

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

export function ProductArt({ sku, name, size = "card" }: { sku: string; name: string; size?: "card" | "large" | "tiny" }) {
  // by name: one product looks the same in every stack
  const h = hash(name || sku);
  const [ground, figure] = PALETTE[h % PALETTE.length]!;
  const initials = name
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((w) => w[0]!.toUpperCase())
    .join("");
  const pattern = h % 3;
  return (
    <div
      class={`art art-${size} art-p${pattern}`}
      style={{ "--ground": ground, "--figure": figure } as Record<string, string>}
      aria-hidden="true"
    >
      <span>{initials}</span>
    </div>
  );
}
