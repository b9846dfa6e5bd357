import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// The console is served by the Ops service on its own origin (`/` and the app's routes; the API
// under /ops/v1). `npm run dev` proxies the API to an Ops service on its default port.
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist",
    assetsDir: "assets", // hashed names: served `immutable` by paysaga.platform.webapp
    sourcemap: false,
  },
  server: {
    proxy: { "/ops/v1": "http://127.0.0.1:8011" },
  },
  test: {
    include: ["src/**/*.test.ts"],
    environment: "node",
  },
});
