// How the console's admin pages write figures and times, and the clock
// that keeps "12 s ago" true while a page is open.
import { useEffect, useState } from "preact/hooks";

/** the current time, again every `everyMs` */
export function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}

/** "4 s", "3 min 5 s", "2 h 10 min" */
export function span(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  return `${Math.floor(h / 24)} days`;
}

export function ago(iso: string | null | undefined, now: number): string {
  if (!iso) return "–";
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : `${span(now - t)} ago`;
}

/** a rate in messages (or checkouts) per second */
export function perSecond(n: number | null | undefined): string {
  if (n == null) return "–";
  if (n === 0) return "0/s";
  if (n < 0.1) return `${n.toFixed(2)}/s`;
  if (n < 10) return `${n.toFixed(1)}/s`;
  return `${Math.round(n)}/s`;
}

/** milliseconds, as a saga's time reads best */
export function millis(n: number | null | undefined): string {
  if (n == null) return "–";
  if (n < 10) return `${n.toFixed(1)} ms`;
  if (n < 1000) return `${Math.round(n)} ms`;
  return `${(n / 1000).toFixed(n < 10000 ? 2 : 1)} s`;
}

export const count = (n: number) => n.toLocaleString("en");

/** an ISO time as the value of a datetime-local input (the browser's zone) */
export function toLocalInput(iso: string | undefined): string {
  if (!iso) return "";
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return "";
  const local = new Date(t.getTime() - t.getTimezoneOffset() * 60000);
  return local.toISOString().slice(0, 16);
}

/** a datetime-local input's value as an ISO time (UTC), or "" */
export function fromLocalInput(value: string): string {
  if (!value) return "";
  const t = new Date(value);
  return Number.isNaN(t.getTime()) ? "" : t.toISOString();
}

/** "12.50" → 1250: a price typed in major units, in minor units without
 * floating point; null when it is not a price. */
export function parseMinor(text: string, digits = 2): number | null {
  const m = /^\s*(\d{1,9})(?:[.,](\d*))?\s*$/.exec(text);
  if (!m) return null;
  const frac = (m[2] ?? "").padEnd(digits, "0");
  if (frac.length > digits) return null;
  return Number(m[1]) * 10 ** digits + (digits ? Number(frac) : 0);
}

/** 1250 → "12.50" (the inverse of parseMinor, for the form) */
export function formatMinor(minor: number, digits = 2): string {
  if (!digits) return String(minor);
  const s = String(Math.abs(minor)).padStart(digits + 1, "0");
  return `${minor < 0 ? "-" : ""}${s.slice(0, -digits)}.${s.slice(-digits)}`;
}
