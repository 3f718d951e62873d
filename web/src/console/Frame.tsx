// The frame of the admin console's pages (/console/...): their tabs, the
// page's heading, and the gate: an admin's session sees the page, anyone
// else a way to log in as one. The gate only decides what to offer; the
// gateway checks the token's role on every admin call (403 otherwise).
import type { ComponentChildren } from "preact";
import { useLocation } from "preact-iso";
import { Loading, useTitle } from "../components/bits";
import { isAdmin, sessionChecked, signedIn } from "../session";

const TABS: [string, string][] = [
  ["/console/sagas", "Sagas"],
  ["/console/dead-letters", "Dead letters"],
  ["/console/catalog", "Catalog & stock"],
  ["/console/analytics", "Analytics"],
  ["/console/system", "System"],
];

function Tabs() {
  const { path } = useLocation();
  const here = path === "/console" ? "/console/sagas" : path;
  return (
    <nav class="console-tabs" aria-label="Console">
      {TABS.map(([href, label]) => (
        <a
          key={href}
          href={href}
          class="console-tab"
          aria-current={here === href || here.startsWith(`${href}/`) ? "page" : undefined}
        >
          {label}
        </a>
      ))}
    </nav>
  );
}

function RequireAdmin({ children }: { children: ComponentChildren }) {
  const { url } = useLocation();
  if (!sessionChecked.value) return <Loading what="your account" />;
  if (isAdmin.value) return <>{children}</>;
  const next = encodeURIComponent(url);
  return (
    <div class="empty card">
      <p>
        {signedIn.value
          ? "These pages are the admins' (the sagas, dead letters, catalog, analytics and system view); your account is a customer's."
          : "Log in as an admin to use the console."}
      </p>
      <p>
        <a class="button primary" href={`/shop/login?next=${next}`}>
          {signedIn.value ? "Log in as another account" : "Log in"}
        </a>
      </p>
    </div>
  );
}

export function ConsoleFrame({
  title,
  heading,
  crumbs,
  actions,
  children,
}: {
  title: string;
  /** the page's h1 when it is more than its title */
  heading?: ComponentChildren;
  crumbs?: ComponentChildren;
  /** buttons beside the heading */
  actions?: ComponentChildren;
  children: ComponentChildren;
}) {
  useTitle(`${title} · Console`);
  return (
    <div class="page wide console">
      <Tabs />
      {crumbs && (
        <nav class="crumbs" aria-label="Breadcrumb">
          {crumbs}
        </nav>
      )}
      <div class="console-head">
        <h1>{heading ?? title}</h1>
        {actions && isAdmin.value && <div class="console-actions">{actions}</div>}
      </div>
      <RequireAdmin>{children}</RequireAdmin>
    </div>
  );
}
