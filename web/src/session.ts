// The signed-in visitor (a signal the header and the pages read) and the
// account calls: register, log in, log out. The token itself lives in
// api/token.ts (localStorage); the account comes from the gateway.
import { computed, signal } from "@preact/signals";
import { api, describeError, errorCode, retryAfter, whenSessionExpires, type Schemas } from "./api/client";
import { storeSession, storedToken } from "./api/token";
import { cart } from "./cart";

/** the account as GET /auth/me and a session both describe it */
export type Account = Pick<Schemas["Account"], "id" | "email" | "name" | "role">;

export const account = signal<Account | null>(null);
/** false until the stored token (if any) was checked against /auth/me */
export const sessionChecked = signal(false);
export const signedIn = computed(() => account.value !== null);
/** the admin pages' gate for showing them (the gateway checks the token's
 * role on every admin call; this only decides what to offer) */
export const isAdmin = computed(() => account.value?.role === "admin");

function clear(): void {
  storeSession(null);
  account.value = null;
  cart.value = null;
}

whenSessionExpires(clear);

/** Checks the stored token with the gateway (GET /auth/me). */
export async function restoreSession(): Promise<void> {
  if (storedToken()) {
    const { data } = await api.GET("/auth/me");
    if (data) account.value = data;
    else clear();
  }
  sessionChecked.value = true;
}

function start(session: Schemas["Session"]): void {
  storeSession({ token: session.access_token, expiresAt: Date.now() + session.expires_in * 1000 });
  account.value = session.account;
}

export type Outcome = { ok: true } | { ok: false; message: string };

export async function logIn(email: string, password: string): Promise<Outcome> {
  const { data, error, response } = await api.POST("/auth/login", { body: { email, password } });
  if (data) {
    start(data);
    return { ok: true };
  }
  if (response.status === 429)
    return { ok: false, message: `Too many attempts from here; try again in ${retryAfter(response)} s.` };
  if (errorCode(error) === "INVALID_CREDENTIALS") return { ok: false, message: "Wrong e-mail or password." };
  return { ok: false, message: describeError(error, response) };
}

export async function register(name: string, email: string, password: string): Promise<Outcome> {
  const { data, error, response } = await api.POST("/auth/register", { body: { name, email, password } });
  if (data) {
    start(data);
    return { ok: true };
  }
  if (errorCode(error) === "EMAIL_TAKEN") return { ok: false, message: "An account with this e-mail exists already; log in instead." };
  return { ok: false, message: describeError(error, response) };
}

export function logOut(): void {
  clear();
}
