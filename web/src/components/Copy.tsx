// A value with a button that copies it (the trace id, a message id).
import { useState } from "preact/hooks";

async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // no clipboard permission (or an insecure context): select and copy
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    const ok = document.execCommand("copy");
    area.remove();
    return ok;
  }
}

export function Copyable({ value, label }: { value: string | null | undefined; label: string }) {
  const [copied, setCopied] = useState(false);
  if (!value) return <span class="muted">none</span>;
  return (
    <span class="copyable">
      <code class="mono" data-copy-value>{value}</code>
      <button
        type="button"
        class="button ghost tiny"
        aria-label={`Copy the ${label}`}
        onClick={async () => {
          setCopied(await copyText(value));
          setTimeout(() => setCopied(false), 1500);
        }}
      >
        {copied ? "Copied" : "Copy"}
      </button>
    </span>
  );
}
