// Log in and register. Both go back to where the visitor came from
// (?next=, a console path only).
import { useLocation } from "preact-iso";
import { useState } from "preact/hooks";
import { Notice, useTitle } from "../components/bits";
import { loadCart } from "../cart";
import { logIn, register, type Outcome } from "../session";

function safeNext(next: string | undefined): string {
  return next && /^\/(shop(\/|$)|$|\?)/.test(next) && !next.startsWith("/shop/login") && !next.startsWith("/shop/register")
    ? next
    : "/";
}

function useAccountForm(submit: () => Promise<Outcome>) {
  const { route, query } = useLocation();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const onSubmit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError("");
    const r = await submit();
    setBusy(false);
    if (r.ok) {
      void loadCart();
      route(safeNext(query["next"]), true);
    } else setError(r.message);
  };
  return { busy, error, onSubmit, next: query["next"] };
}

export function LoginPage() {
  useTitle("Log in");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const f = useAccountForm(() => logIn(email.trim(), password));
  return (
    <div class="page narrow">
      <form class="card form" onSubmit={f.onSubmit} aria-labelledby="login-title">
        <h1 id="login-title">Log in</h1>
        <label for="email">E-mail</label>
        <input id="email" type="email" autoComplete="username" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        <label for="password">Password</label>
        <input id="password" type="password" autoComplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        {f.error && <Notice kind="error">{f.error}</Notice>}
        <button class="button primary" type="submit" disabled={f.busy}>
          {f.busy ? "Logging in…" : "Log in"}
        </button>
        <p class="muted">
          New here? <a href={`/shop/register${f.next ? `?next=${encodeURIComponent(f.next)}` : ""}`}>Create an account</a>
        </p>
      </form>
    </div>
  );
}

export function RegisterPage() {
  useTitle("Register");
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const f = useAccountForm(() => register(name.trim(), email.trim(), password));
  return (
    <div class="page narrow">
      <form class="card form" onSubmit={f.onSubmit} aria-labelledby="register-title">
        <h1 id="register-title">Create an account</h1>
        <label for="name">Name</label>
        <input id="name" autoComplete="name" required maxLength={200} value={name} onInput={(e) => setName(e.currentTarget.value)} />
        <label for="email">E-mail</label>
        <input id="email" type="email" autoComplete="email" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        <label for="password">Password</label>
        <input
          id="password"
          type="password"
          autoComplete="new-password"
          required
          minLength={8}
          aria-describedby="password-hint"
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
        <small id="password-hint" class="muted">At least 8 characters.</small>
        {f.error && <Notice kind="error">{f.error}</Notice>}
        <button class="button primary" type="submit" disabled={f.busy}>
          {f.busy ? "Creating…" : "Create the account"}
        </button>
        <p class="muted">
          Have one? <a href={`/shop/login${f.next ? `?next=${encodeURIComponent(f.next)}` : ""}`}>Log in</a>
        </p>
      </form>
    </div>
  );
}
