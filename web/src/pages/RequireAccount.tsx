import type { ComponentChildren } from "preact";
import { useLocation } from "preact-iso";
import { Loading } from "../components/bits";
import { sessionChecked, signedIn } from "../session";

/** Its children for a signed-in visitor; else a way to log in and come back. */
export function RequireAccount({ what, children }: { what: string; children: ComponentChildren }) {
  const { url } = useLocation();
  if (!sessionChecked.value) return <Loading what="your account" />;
  if (signedIn.value) return <>{children}</>;
  const next = encodeURIComponent(url);
  return (
    <div class="empty card">
      <p>Log in to {what}.</p>
      <p>
        <a class="button primary" href={`/shop/login?next=${next}`}>
          Log in
        </a>{" "}
        <a class="button ghost" href={`/shop/register?next=${next}`}>
          Create an account
        </a>
      </p>
    </div>
  );
}
