// The admin console's pages, one chunk the router loads when an admin
// first opens one (app.tsx), so a storefront visitor never downloads
// them, nor Chart.js.
export { AnalyticsPage } from "./Analytics";
export { CatalogAdminPage, ProductAdminPage } from "./CatalogAdmin";
export { DeadLettersPage, ServiceDeadLettersPage } from "./DeadLetters";
export { ConsoleSagaPage } from "./SagaAdmin";
export { SagasPage } from "./Sagas";
export { SystemPage } from "./System";
