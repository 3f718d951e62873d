// Where the console keeps the visitor's access token: localStorage, so
// that every tab of the console and /docs (Swagger UI's Authorize) share
// one sign-in. The token is a JWT the gateway checks on every request; the
// console never reads its claims for access decisions.
const KEY = "souk.session";

export interface StoredSession {
  token: string;
  expiresAt: number; // ms since the epoch
}

export function storedSession(): StoredSession | null {
  try {
    const raw = localStorage.getItem(KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as StoredSession;
    if (typeof s.token !== "string" || typeof s.expiresAt !== "number" || s.expiresAt <= Date.now())
      return null;
    return s;
  } catch {
    return null;
  }
}

export function storedToken(): string | null {
  return storedSession()?.token ?? null;
}

export function storeSession(s: StoredSession | null): void {
  if (s) localStorage.setItem(KEY, JSON.stringify(s));
  else localStorage.removeItem(KEY);
}
