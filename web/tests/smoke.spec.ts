// The harness end to end: the stack serves the app, its client-side routes and the API, and the
// browser, axe and the helpers work.
import { test, expect, env, expectNoSeriousA11yViolations } from "./fixtures";

test("the app loads at / and fetches nothing from elsewhere", async ({ page }) => {
  const foreign: string[] = [];
  page.on("request", (req) => {
    const u = new URL(req.url());
    if (!["data:", "blob:"].includes(u.protocol) && u.origin !== new URL(env.baseURL).origin) foreign.push(req.url());
  });
  const res = await page.goto("/");
  expect(res?.status()).toBe(200);
  expect(res?.headers()["content-type"]).toContain("text/html");
  await expect(page.locator("#root")).not.toBeEmpty();
  await page.waitForLoadState("networkidle");
  expect(foreign, "requests to other origins (no CDN at run time)").toEqual([]);
});

test("a deep link falls back to the app", async ({ page }) => {
  const res = await page.goto("/bookings");
  expect(res?.status()).toBe(200);
  expect(res?.headers()["content-type"]).toContain("text/html");
  await expect(page.locator("#root")).not.toBeEmpty();
});

test("the API answers JSON beside the app", async ({ request }) => {
  const res = await request.get("/v1/providers");
  expect(res.status()).toBe(200);
  expect(res.headers()["content-type"]).toContain("application/json");
  const body = (await res.json()) as { providers: { name: string }[] };
  expect(body.providers.map((p) => p.name)).toContain("Dr. Anna Weber");
});

test("the login page has no serious accessibility violation", async ({ page }) => {
  await page.goto("/login");
  await expect(page.locator("#root")).not.toBeEmpty();
  await page.waitForLoadState("networkidle");
  await expectNoSeriousA11yViolations(page);
});
