import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { defineConfig, type Plugin } from "vite";
import react from "@vitejs/plugin-react";

// The API reference at /docs (api/docs.go) is Swagger UI, from the npm package swagger-ui-dist:
// its bundle, stylesheet and licences are copied as they are into dist/docs/, which the binary
// embeds with the app, so the page loads nothing from elsewhere.
function apiReference(): Plugin {
  const pkg = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
  const files = ["swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-bundle.js.LICENSE.txt", "LICENSE", "NOTICE"];
  return {
    name: "api-reference",
    apply: "build",
    generateBundle() {
      for (const name of files) {
        this.emitFile({ type: "asset", fileName: `docs/${name}`, source: readFileSync(join(pkg, name)) });
      }
    },
  };
}

// The API serves the built app from dist/ (embedded into the Go binary, web/embed.go).
// `npm run dev` proxies the API so the app can be worked on with hot reload beside `make dev`.
export default defineConfig({
  plugins: [react(), apiReference()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false },
  server: {
    proxy: {
      "/v1": process.env.API_URL ?? "http://127.0.0.1:8080",
    },
  },
});
