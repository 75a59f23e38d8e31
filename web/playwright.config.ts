import { defineConfig } from "@playwright/test";

// The browser tests run against a real stack: scripts/web-e2e.sh (`make web-e2e`, part of
// `make test`) starts one with scripts/dev.sh on ports of its own and sets BASE_URL,
// MAILPIT_URL, SANDBOX_URL, TEMPORAL_UI_URL and CHROMIUM_PATH. They drive the machine's
// Chromium (Debian's package); Playwright downloads no browser.
export default defineConfig({
  testDir: "./tests",
  outputDir: "test-results",
  // One worker: the machine has two cores, and the stack under test needs them too.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  // A test takes 5 to 15 s alone; the limits leave room for a machine busy with other work
  // (seen: axe taking most of a minute on a loaded 2-core machine), not for a hung page.
  timeout: 150_000,
  expect: { timeout: 20_000 },
  forbidOnly: !!process.env.CI,
  reporter: "list",
  use: {
    baseURL: process.env.BASE_URL ?? "http://127.0.0.1:18080",
    browserName: "chromium",
    viewport: { width: 1280, height: 800 },
    screenshot: "only-on-failure",
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
});
