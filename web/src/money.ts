// Money is integer minor units plus an ISO currency code, as the API sends
// it; this only formats it (never arithmetic in floating point).
const digits: Record<string, number> = { JPY: 0, KRW: 0, BHD: 3, KWD: 3, TND: 3 };

export function money(minor: number, currency: string | null | undefined): string {
  const cur = currency ?? "EUR";
  const d = digits[cur] ?? 2;
  const major = minor / 10 ** d; // display only
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency: cur, minimumFractionDigits: d }).format(major);
  } catch {
    return `${major.toFixed(d)} ${cur}`;
  }
}

export function when(iso: string | null | undefined): string {
  if (!iso) return "";
  const t = new Date(iso);
  return Number.isNaN(t.getTime())
    ? iso
    : t.toLocaleString("en-GB", { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", second: "2-digit" });
}
