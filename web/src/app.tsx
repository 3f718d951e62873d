// The console's pages and their paths. The gateway answers index.html for
// /, every path under /shop (the storefront) and under /console (the
// admins' pages), and this router picks the page; links elsewhere (/docs,
// /openapi.json, the RabbitMQ UI) leave the console (the scope below).
import { ErrorBoundary, LocationProvider, Route, Router, lazy } from "preact-iso";
import { useEffect } from "preact/hooks";
import { loadCart } from "./cart";
import { Layout } from "./components/Layout";
import { useTitle } from "./components/bits";
import { LoginPage, RegisterPage } from "./pages/Account";
import { CartPage } from "./pages/Cart";
import { Catalog } from "./pages/Catalog";
import { CheckoutPage } from "./pages/Checkout";
import { OrderPage } from "./pages/Order";
import { OrdersPage } from "./pages/Orders";
import { ProductPage } from "./pages/Product";
import { SagaPage } from "./pages/Saga";
import { restoreSession, signedIn } from "./session";

// the admin pages: one chunk, loaded when an admin opens the first of them
type AdminPages = typeof import("./console/pages");
const admin = <K extends keyof AdminPages>(name: K) => lazy(() => import("./console/pages").then((m) => m[name]));
const SagasPage = admin("SagasPage");
const ConsoleSagaPage = admin("ConsoleSagaPage");
const DeadLettersPage = admin("DeadLettersPage");
const ServiceDeadLettersPage = admin("ServiceDeadLettersPage");
const CatalogAdminPage = admin("CatalogAdminPage");
const ProductAdminPage = admin("ProductAdminPage");
const AnalyticsPage = admin("AnalyticsPage");
const SystemPage = admin("SystemPage");

function NotFound() {
  useTitle("Not found");
  return (
    <div class="page narrow">
      <h1>Nothing here</h1>
      <p>
        This page does not exist. <a href="/">Back to the shop</a>
      </p>
    </div>
  );
}

// focus moves to the page on navigation, for keyboard and screen reader users
function onRouteChange() {
  requestAnimationFrame(() => {
    document.getElementById("main")?.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  });
}

export function App() {
  useEffect(() => {
    void restoreSession().then(() => {
      if (signedIn.value) void loadCart();
    });
  }, []);
  return (
    <LocationProvider scope={/^\/((shop|console)(\/|\?|$)|\?|$)/}>
      <Layout>
        <ErrorBoundary>
          <Router onRouteChange={onRouteChange}>
            <Route path="/" component={Catalog} />
            <Route path="/shop" component={Catalog} />
            <Route path="/shop/products/:id" component={ProductPage} />
            <Route path="/shop/login" component={LoginPage} />
            <Route path="/shop/register" component={RegisterPage} />
            <Route path="/shop/cart" component={CartPage} />
            <Route path="/shop/checkout" component={CheckoutPage} />
            <Route path="/shop/orders" component={OrdersPage} />
            <Route path="/shop/orders/:id" component={OrderPage} />
            <Route path="/shop/orders/:id/saga" component={SagaPage} />
            <Route path="/console" component={SagasPage} />
            <Route path="/console/sagas" component={SagasPage} />
            <Route path="/console/sagas/:id" component={ConsoleSagaPage} />
            <Route path="/console/dead-letters" component={DeadLettersPage} />
            <Route path="/console/dead-letters/:service" component={ServiceDeadLettersPage} />
            <Route path="/console/catalog" component={CatalogAdminPage} />
            <Route path="/console/catalog/:id" component={ProductAdminPage} />
            <Route path="/console/analytics" component={AnalyticsPage} />
            <Route path="/console/system" component={SystemPage} />
            <Route default component={NotFound} />
          </Router>
        </ErrorBoundary>
      </Layout>
    </LocationProvider>
  );
}
