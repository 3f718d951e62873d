// The console's two overlays: a confirmation (a modal <dialog>: the
// browser keeps the focus inside it, Escape cancels) for what cannot be
// undone, and a drawer over the page's right side for the details of one
// thing (a dead letter), which takes the focus and gives it back.
import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";

export function Confirm({
  title,
  children,
  confirm,
  busy,
  onConfirm,
  onCancel,
}: {
  title: string;
  children: ComponentChildren;
  /** the confirming button's label */
  confirm: string;
  busy?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => d?.close();
  }, []);
  return (
    <dialog ref={ref} class="confirm card" aria-labelledby="confirm-title" onCancel={(e) => (e.preventDefault(), onCancel())}>
      <h2 id="confirm-title">{title}</h2>
      <div class="confirm-body">{children}</div>
      <div class="confirm-buttons">
        <button type="button" class="button ghost" onClick={onCancel} autoFocus>
          Cancel
        </button>
        <button type="button" class="button danger" disabled={busy} onClick={onConfirm}>
          {busy ? "Working…" : confirm}
        </button>
      </div>
    </dialog>
  );
}

export function Drawer({ title, onClose, children }: { title: ComponentChildren; onClose: () => void; children: ComponentChildren }) {
  const panel = useRef<HTMLElement>(null);
  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    panel.current?.focus();
    return () => opener?.focus?.();
  }, []);
  useEffect(() => {
    const onKey = (ev: KeyboardEvent) => ev.key === "Escape" && onClose();
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [onClose]);
  return (
    <section class="hop-details drawer card" aria-labelledby="drawer-title" tabIndex={-1} ref={panel} role="dialog">
      <header>
        <h2 id="drawer-title">{title}</h2>
        <button type="button" class="button ghost small" onClick={onClose} aria-label="Close the details">
          ✕
        </button>
      </header>
      {children}
    </section>
  );
}
