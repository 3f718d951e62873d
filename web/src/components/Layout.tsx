// The frame of every page: the header (brand, navigation, cart, account),
// the page, and the footer naming what the console is built on.
import type { ComponentChildren } from "preact";
import { useLocation } from "preact-iso";
import { cartCount } from "../cart";
import { account, isAdmin, logOut, signedIn } from "../session";

function NavLink({ href, children, exact }: { href: string; children: ComponentChildren; exact?: boolean }) {
  const { path } = useLocation();
  const current = exact ? path === href : path === href || path.startsWith(`${href}/`);
  return (
    <a href={href} class="nav-link" aria-current={current ? "page" : undefined}>
      {children}
    </a>
  );
}

export function Layout({ children }: { children: ComponentChildren }) {
  const { route, path } = useLocation();
  const next = encodeURIComponent(path);
  return (
    <>
      <a class="skip-link" href="#main">
        Skip to the page
      </a>
      <header class="site-header">
        <div class="site-header-inner">
          <a class="brand" href="/" aria-label="Souk, the shop's home">
            <svg viewBox="0 0 64 64" aria-hidden="true" class="brand-mark">
              <path d="M32 7 55 32 32 57 9 32Z" fill="none" stroke="currentColor" stroke-width="5" />
              <circle cx="32" cy="32" r="8" class="brand-dot" />
            </svg>
            <span>Souk</span>
          </a>
          <nav class="site-nav" aria-label="Main">
            <NavLink href="/" exact>
              Shop
            </NavLink>
            {signedIn.value && <NavLink href="/shop/orders">My orders</NavLink>}
            {isAdmin.value && <NavLink href="/console">Console</NavLink>}
            <NavLink href="/shop/cart">
              Cart
              {cartCount.value > 0 && (
                <span class="badge" aria-label={`${cartCount.value} items`}>
                  {cartCount.value}
                </span>
              )}
            </NavLink>
            <a href="/docs" class="nav-link nav-docs">
              API
            </a>
          </nav>
          <div class="account">
            {signedIn.value ? (
              <>
                <span class="account-name" title={account.value?.email}>
                  {account.value?.name}
                </span>
                <button
                  type="button"
                  class="button ghost small"
                  onClick={() => {
                    logOut();
                    route("/");
                  }}
                >
                  Log out
                </button>
              </>
            ) : (
              <>
                <a class="button ghost small" href={`/shop/login?next=${next}`}>
                  Log in
                </a>
                <a class="button small" href={`/shop/register?next=${next}`}>
                  Register
                </a>
              </>
            )}
          </div>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
      <footer class="site-footer">
        <span>Souk · an event-driven shop: one RabbitMQ saga per order.</span>
        <span>
          <a href="/docs">API documentation</a> · <a href="/openapi.json">openapi.json</a>
        </span>
      </footer>
    </>
  );
}
