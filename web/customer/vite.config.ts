import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// `npm run build` writes dist/: index.html and content-hashed files under dist/assets/, which the
// BFF serves (index.html revalidated every time, the hashed files cached for a year).
// `npm run dev` proxies /api to a BFF on :8000 (make run).
export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", assetsDir: "assets", sourcemap: false },
  server: { proxy: { "/api": "http://127.0.0.1:8000" } },
  test: { include: ["src/**/*.test.ts"], environment: "node" },
});
