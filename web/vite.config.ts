import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The API serves the built app from dist/ (embedded into the Go binary, web/embed.go).
// `npm run dev` proxies the API so the app can be worked on with hot reload beside `make dev`.
export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false },
  server: {
    proxy: {
      "/v1": process.env.API_URL ?? "http://127.0.0.1:8080",
    },
  },
});
