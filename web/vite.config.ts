// Vite builds the console into static files the gateway serves (gateway/
// static.c): index.html (the console; the gateway answers it for every
// console path, the router in src/app.tsx picks the page), docs/index.html
// (Swagger UI over /openapi.json) and assets/ with content-hashed names,
// which the gateway serves with a year's cache. `./souk build` runs it with
// --outDir <build tree>/web; `npm run dev` serves the sources with the API
// proxied to a running gateway (SOUK_URL, default http://127.0.0.1:8080).
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const gateway = process.env["SOUK_URL"] ?? "http://127.0.0.1:8080";
// the API's first path segments, for the dev server's proxy (the console's
// own pages are /, /shop/... and /console/...)
const api = ["auth", "products", "inventory", "cart", "orders", "notifications", "analytics",
  "sagas", "admin", "openapi.json", "healthz", "readyz", "metrics"];

export default defineConfig({
  // JSX through esbuild (tsconfig's jsxImportSource: preact): no Babel.
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    target: "es2022",
    // the build tree's web/ (outside this folder) is the build's own
    emptyOutDir: true,
    sourcemap: true,
    // Swagger UI is one 1.5 MB bundle, loaded by /docs only
    chunkSizeWarningLimit: 2000,
    rollupOptions: {
      input: { console: fileURLToPath(new URL("index.html", import.meta.url)), docs: fileURLToPath(new URL("docs/index.html", import.meta.url)) },
    },
  },
  server: {
    proxy: Object.fromEntries(api.map((p) => [`/${p}`, { target: gateway, changeOrigin: false }])),
  },
});
