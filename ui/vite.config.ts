import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import { buildInfo } from "./tools/source-hash.ts";

const root = fileURLToPath(new URL(".", import.meta.url));

export default defineConfig({
  base: "/ui/",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: "../src/lanner/ui/static",
    emptyOutDir: true,
    assetsDir: "assets",
    chunkSizeWarningLimit: 2000,
  },
  server: {
    proxy: { "/api": process.env.LANNER_URL ?? "http://127.0.0.1:8090" },
  },
  plugins: [buildInfo(root)],
});
