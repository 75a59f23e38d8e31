// The patient's pages in a real browser: sign up, verify, book, confirm, see the timeline,
// race for a slot, reschedule, cancel; accessibility, the keyboard alone and a phone's screen.
// Every test makes its own patients, and picks slots a few days ahead so that they are free.
import type { Browser, Page } from "@playwright/test";
import {
  test,
  expect,
  catalog,
  demo,
  expectNoSeriousA11yViolations,
  freeSlots,
  newPatient,
  screenshot,
  uniqueEmail,
  uniquePhone,
  latestCode,
  waitForEmail,
  type Credentials,
  type Schemas,
} from "./fixtures";

const SERVICE = "Consultation";
const DAY = 24 * 3600 * 1000;

type Slot = Schemas["Slot"];

// slotsAhead: free slots starting at least `days` days from now (so no test books today's).
async function slotsAhead(
  request: Parameters<typeof freeSlots>[0],
  providerId: string,
  serviceId: string,
  days = 3,
): Promise<Slot[]> {
  const after = Date.now() + days * DAY;
  const slots = (await freeSlots(request, providerId, serviceId, 28)).filter((s) => Date.parse(s.start) >= after);
  expect(slots.length, "free slots a few days ahead").toBeGreaterThan(2);
  return slots;
}

// Picks a slot at random among the first few, so that reruns on the same stack spread out.
function anyOf(slots: Slot[], first = 12): Slot {
  const pool = slots.slice(0, Math.min(first, slots.length));
  return pool[Math.floor(Math.random() * pool.length)]!;
}

async function logIn(page: Page, who: Credentials) {
  await page.goto("/login");
  await page.getByLabel("Email").fill(who.email);
  await page.getByLabel("Password").fill(who.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL(/\/book/);
}

// chooseOnBook selects the service and the doctor on the Book page with the mouse.
async function chooseOnBook(page: Page, doctor: string) {
  await page.getByRole("radio", { name: new RegExp(SERVICE) }).check();
  await page.getByRole("radio", { name: new RegExp(doctor) }).check();
}

function slotButton(page: Page, start: string) {
  return page.locator(`button[data-start="${start}"]`);
}

// showSlot pages forward week by week until the slot's button is on screen.
async function showSlot(page: Page, start: string) {
  for (let i = 0; i < 6; i++) {
    await expect(page.getByText("Looking for free times")).toHaveCount(0);
    if ((await slotButton(page, start).count()) > 0) return;
    await page.getByRole("button", { name: "Next week" }).click();
  }
  await expect(slotButton(page, start)).toBeVisible();
}

test.describe("patient", () => {
  test("signs up, verifies, books and confirms, and sees the booking with its timeline and email", async ({ page, request }) => {
    const { provider, service } = await catalog(request);
    const doctor = provider("Dr. Anna Weber");
    const consult = service(SERVICE);
    const email = uniqueEmail("signup");
    const phone = uniquePhone();

    await page.goto("/register");
    await expectNoSeriousA11yViolations(page);
    await page.getByLabel("Full name").fill("Sam Signup");
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Mobile phone").fill(phone);
    await page.getByLabel("Password").fill("a-long-secret-1");
    await page.getByRole("button", { name: "Create account" }).click();

    await expect(page).toHaveURL(/\/verify/);
    await expect(page.getByRole("heading", { level: 1, name: "Verify your email or phone" })).toBeVisible();
    await expect(page.getByText("Not verified")).toHaveCount(2);
    const since = new Date(Date.now() - 1000);
    await page.getByRole("button", { name: "Send a code by email" }).click();
    await expect(page.getByRole("heading", { name: "Enter the code" })).toBeFocused();
    const code = await latestCode(email, { since });

    // A wrong code is shown at the field first.
    const wrong = code === "000000" ? "111111" : "000000";
    await page.getByLabel("6-digit code").fill(wrong);
    await page.getByRole("button", { name: "Verify", exact: true }).click();
    await expect(page.getByRole("alert")).toContainText(/wrong/i);
    await expect(page.getByLabel("6-digit code")).toHaveAttribute("aria-invalid", "true");
    await expect(page.getByLabel("6-digit code")).toHaveAttribute("inputmode", "numeric");
    await expect(page.getByLabel("6-digit code")).toHaveAttribute("autocomplete", "one-time-code");
    await screenshot(page, "verify");
    await expectNoSeriousA11yViolations(page);

    await page.getByLabel("6-digit code").fill(code);
    await page.getByRole("button", { name: "Verify", exact: true }).click();
    await expect(page.getByText("Your email address is verified.")).toBeVisible();
    await expect(page.getByText("Verified", { exact: true })).toHaveCount(1);
    await page.getByRole("link", { name: "Continue to booking" }).first().click();

    await expect(page).toHaveURL(/\/book/);
    await chooseOnBook(page, "Anna Weber");
    // The choice is kept in the address, and the nav's "Book" starts afresh.
    await expect(page).toHaveURL(/[?&]provider=/);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Book", exact: true }).click();
    await expect(page.getByRole("radio", { name: new RegExp(SERVICE) })).not.toBeChecked();
    await expect(page).not.toHaveURL(/[?&](service|provider)=/);
    await chooseOnBook(page, "Anna Weber");
    const slot = anyOf(await slotsAhead(request, doctor.id, consult.id));
    await showSlot(page, slot.start);
    await expect(page.getByText(/Times are shown in your time zone/)).toBeVisible();
    await slotButton(page, slot.start).click();
    await expect(page.getByRole("heading", { name: "Your choice" })).toBeFocused();
    await screenshot(page, "book");
    await expectNoSeriousA11yViolations(page);

    await page.getByRole("button", { name: "Book this time" }).click();
    await expect(page.getByRole("heading", { name: "Confirm your appointment" })).toBeVisible();
    await expect(page.getByRole("timer")).toHaveText(/^\d\d:\d\d$/);
    await screenshot(page, "book-held");
    await page.getByRole("button", { name: "Confirm appointment" }).click();
    await expect(page.getByRole("heading", { name: "Your appointment is confirmed" })).toBeFocused();

    await page.getByRole("link", { name: /See this booking/ }).click();
    await expect(page).toHaveURL(/\/bookings\/[^/]+$/);
    await expect(page.getByRole("heading", { level: 1, name: `${SERVICE} with Dr. Anna Weber` })).toBeVisible();
    await expect(page.locator(".badge")).toHaveText("Confirmed");
    const timeline = page.locator("ol.timeline");
    await expect(timeline).toContainText("Time held");
    await expect(timeline).toContainText("Confirmed");
    // The confirmation goes out from the workflow a moment later; the page keeps watching.
    await expect(timeline).toContainText(`Confirmation email to ${email}`, { timeout: 30_000 });
    await expect(timeline).toContainText("Reminder planned for");
    await expectNoSeriousA11yViolations(page);
    await screenshot(page, "booking");

    // The .ics comes through the API with the session's token.
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download .ics" }).click()]);
    expect(download.suggestedFilename()).toMatch(/\.ics$/);
    const ics = await download.createReadStream().then(
      (stream) =>
        new Promise<string>((resolve, reject) => {
          let text = "";
          stream.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
          stream.on("end", () => resolve(text));
          stream.on("error", reject);
        }),
    );
    expect(ics).toContain("BEGIN:VCALENDAR");

    // A reload keeps the session: the refresh token is an HttpOnly cookie, the page gets a new access token.
    await page.reload();
    await expect(page.locator(".badge")).toHaveText("Confirmed");

    const mail = await waitForEmail(email, /^Confirmed:/);
    expect(mail.subject).toContain(SERVICE);
    expect(mail.hasIcs).toBe(true);

    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "My bookings" }).click();
    await expect(page.getByRole("heading", { level: 1, name: "My bookings" })).toBeVisible();
    const upcoming = page.locator("section", { has: page.getByRole("heading", { name: "Upcoming" }) });
    await expect(upcoming.locator(".booking-card")).toHaveCount(1);
    await expect(upcoming.locator(".booking-card")).toContainText("Confirmed");
    await expect(upcoming.locator(".booking-card")).toContainText(`${SERVICE} with Dr. Anna Weber`);
    await expectNoSeriousA11yViolations(page);
    await screenshot(page, "my-bookings");
  });

  test("two patients race for one slot: one holds it, the other is told and sees fresh slots", async ({ browser, request }) => {
    const { provider, service } = await catalog(request);
    const doctor = provider("Dr. Luca Rossi");
    const consult = service(SERVICE);
    const [alice, bob] = await Promise.all([newPatient(request, { name: "Alice Race" }), newPatient(request, { name: "Bob Race" })]);
    const slot = anyOf(await slotsAhead(request, doctor.id, consult.id, 4));

    const open = async (b: Browser, who: Credentials, loginFirst: boolean) => {
      const ctx = await b.newContext();
      const page = await ctx.newPage();
      if (loginFirst) await logIn(page, who);
      else await page.goto("/book");
      await chooseOnBook(page, "Luca Rossi");
      await showSlot(page, slot.start);
      await slotButton(page, slot.start).click();
      if (!loginFirst) {
        // A visitor browses freely; booking asks for a login, which brings them back to the same choice.
        await page.getByRole("link", { name: "Log in to book" }).click();
        await expect(page).toHaveURL(/\/login\?next=/);
        await page.getByLabel("Email").fill(who.email);
        await page.getByLabel("Password").fill(who.password);
        await page.getByRole("button", { name: "Log in" }).click();
        await expect(page).toHaveURL(/\/book\?.*start=/);
        await expect(page.getByRole("radio", { name: /Luca Rossi/ })).toBeChecked();
        await expect(slotButton(page, slot.start)).toHaveAttribute("aria-pressed", "true");
      }
      await expect(page.getByRole("button", { name: "Book this time" })).toBeVisible();
      return { ctx, page };
    };
    const a = await open(browser, alice, true);
    const b = await open(browser, bob, false);

    await a.page.getByRole("button", { name: "Book this time" }).click();
    await expect(a.page.getByRole("heading", { name: "Confirm your appointment" })).toBeVisible();

    await b.page.getByRole("button", { name: "Book this time" }).click();
    const message = b.page.getByRole("alert").filter({ hasText: "That time was just taken" });
    await expect(message).toBeVisible();
    // Focus went to the message, and the slots shown are fresh: the taken one is gone, others remain.
    await expect(b.page.locator(":focus")).toContainText("That time was just taken");
    await expect(b.page.getByText("Looking for free times")).toHaveCount(0);
    await expect(slotButton(b.page, slot.start)).toHaveCount(0);
    await expect(b.page.locator("button[data-start]").first()).toBeVisible();
    await expect(b.page.getByRole("heading", { name: "Your choice" })).toHaveCount(0);
    await screenshot(b.page, "book-slot-taken");
    await expectNoSeriousA11yViolations(b.page);

    await a.page.getByRole("button", { name: "Confirm appointment" }).click();
    await expect(a.page.getByRole("heading", { name: "Your appointment is confirmed" })).toBeVisible();
    await a.ctx.close();
    await b.ctx.close();
  });

  test("reschedules and cancels; each released slot is offered again", async ({ page, request }) => {
    const { provider, service } = await catalog(request);
    const doctor = provider("Dr. Maya Chen");
    const consult = service(SERVICE);
    const patient = await newPatient(request, { name: "Rita Reschedule" });
    const slots = await slotsAhead(request, doctor.id, consult.id, 3);
    const first = anyOf(slots);
    const held = await patient.api.post<Schemas["Booking"]>(
      "/v1/bookings",
      { provider_id: doctor.id, service_id: consult.id, start: first.start },
      { headers: { "Idempotency-Key": crypto.randomUUID() } },
    );
    await patient.api.post(`/v1/bookings/${held.id}/confirm`);

    await logIn(page, patient);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "My bookings" }).click();
    await page.locator(".booking-card a").first().click();
    await expect(page).toHaveURL(new RegExp(`/bookings/${held.id}$`));
    // The doctor works in America/New_York: the page names both zones when they differ.
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(`${SERVICE} with Dr. Maya Chen`);

    await page.getByRole("button", { name: "Reschedule" }).click();
    await expect(page.getByRole("heading", { name: "Pick a new time" })).toBeFocused();
    await expect(page.getByText("Looking for free times")).toHaveCount(0);
    // Its own time is not offered as a new one.
    await expect(slotButton(page, first.start)).toHaveCount(0);
    const target = page.locator("#move-section button[data-start]").nth(1);
    const second = (await target.getAttribute("data-start"))!;
    await target.click();
    await expect(page.getByRole("heading", { name: /^Move to / })).toBeFocused();
    await page.getByRole("button", { name: "Move my appointment" }).click();
    await expect(page.getByText(/Your appointment is moved to/)).toBeVisible();
    await expect(page.locator("ol.timeline")).toContainText("Moved from");
    await expect(page.getByRole("heading", { name: "Pick a new time" })).toHaveCount(0);

    // The first time is free again.
    await expect
      .poll(async () => (await freeSlots(request, doctor.id, consult.id, 28)).some((s) => Date.parse(s.start) === Date.parse(first.start)))
      .toBe(true);

    await page.getByRole("button", { name: "Cancel appointment" }).click();
    const dialog = page.getByRole("dialog", { name: "Cancel this appointment?" });
    await expect(dialog).toBeVisible();
    await expectNoSeriousA11yViolations(page);
    await dialog.getByLabel("Reason (optional)").fill("Feeling better");
    await dialog.getByRole("button", { name: "Yes, cancel it" }).click();
    await expect(dialog).toBeHidden();
    await expect(page.getByText(/The appointment is cancelled/)).toBeVisible();
    await expect(page.locator(".badge")).toHaveText("Cancelled");
    await expect(page.locator("ol.timeline")).toContainText("Cancelled");
    await expect(page.getByRole("button", { name: "Cancel appointment" })).toHaveCount(0);

    // Both times are offered again on the Book page.
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Book", exact: true }).click();
    await chooseOnBook(page, "Maya Chen");
    await expect(page.getByText(/Dr\. Maya Chen works in America\/New_York|Times are shown in your time zone/)).toBeVisible();
    await showSlot(page, second);
    await expect(slotButton(page, second)).toBeVisible();
  });

  test("every patient page has no serious or critical accessibility violation", async ({ page, request }) => {
    await page.goto("/login?expired=1&next=%2Fbookings");
    await expect(page.getByText("Your session expired; please log in again")).toBeVisible();
    await expectNoSeriousA11yViolations(page);
    await screenshot(page, "login");

    // Field errors sit next to their fields, tied to them for assistive technology.
    await page.goto("/register");
    await page.getByRole("button", { name: "Create account" }).click();
    const email = page.getByLabel("Email");
    await expect(email).toHaveAttribute("aria-invalid", "true");
    await expect(email).toHaveAttribute("aria-describedby", /register-email-error/);
    await expectNoSeriousA11yViolations(page);

    await page.goto("/book");
    await expect(page.getByRole("radio").first()).toBeVisible();
    await expectNoSeriousA11yViolations(page);

    const patient = await newPatient(request, { name: "Axe Patient", verify: "none" });
    await logIn(page, patient);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "My bookings" }).click();
    await expect(page.getByText("No bookings yet")).toBeVisible();
    await expectNoSeriousA11yViolations(page);

    // An unverified patient is told to verify, with the way there and back.
    const { provider, service } = await catalog(request);
    const doctor = provider("Dr. Anna Weber");
    const slot = anyOf(await slotsAhead(request, doctor.id, service(SERVICE).id, 5));
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Book", exact: true }).click();
    await chooseOnBook(page, "Anna Weber");
    await showSlot(page, slot.start);
    await slotButton(page, slot.start).click();
    await page.getByRole("button", { name: "Book this time" }).click();
    await expect(page.getByRole("alert")).toContainText("verify");
    await expectNoSeriousA11yViolations(page);
    await page.getByRole("link", { name: "Verify your email or phone" }).click();
    await expect(page).toHaveURL(/\/verify\?next=/);
    await expect(page.getByText("Not verified")).toHaveCount(2);
    await expectNoSeriousA11yViolations(page);
  });

  test("network down offers a retry under the same Idempotency-Key; a lapsed hold says so and offers fresh slots", async ({ page, request }) => {
    const { provider, service } = await catalog(request);
    const doctor = provider("Dr. Anna Weber");
    const patient = await newPatient(request, { name: "Nia Network" });
    const slot = anyOf(await slotsAhead(request, doctor.id, service(SERVICE).id, 8));
    await page.clock.install();

    await logIn(page, patient);
    await chooseOnBook(page, "Anna Weber");
    await showSlot(page, slot.start);
    await slotButton(page, slot.start).click();

    const keys: string[] = [];
    page.on("request", (r) => {
      if (r.method() === "POST" && new URL(r.url()).pathname === "/v1/bookings") keys.push(r.headers()["idempotency-key"] ?? "");
    });
    await page.route("**/v1/bookings", (route) => (route.request().method() === "POST" ? route.abort("internetdisconnected") : route.fallback()));
    await page.getByRole("button", { name: "Book this time" }).click();
    const down = page.getByRole("alert").filter({ hasText: "cannot be reached" });
    await expect(down).toBeVisible();
    await expect(page.locator(":focus")).toContainText("cannot be reached");
    await page.unroute("**/v1/bookings");
    await down.getByRole("button", { name: "Try again" }).click();
    await expect(page.getByRole("heading", { name: "Confirm your appointment" })).toBeVisible();
    expect(keys.length).toBe(2);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[1]).toBe(keys[0]);

    // The countdown runs out (the clock is moved on): the page says so and shows the week afresh.
    await page.clock.fastForward("10:05");
    await expect(page.getByRole("alert").filter({ hasText: "lapsed before it was confirmed" })).toBeVisible();
    await expect(page.getByRole("heading", { name: "Free times" })).toBeVisible();
    await expect(page.locator("button[data-start]").first()).toBeVisible();
  });

  test("the booking page shows staff the patient's name, and admins the workflow in the Temporal Web UI", async ({ page, request }) => {
    const { provider, service } = await catalog(request);
    const doctor = provider("Dr. Maya Chen");
    const patient = await newPatient(request, { name: "Sue Staffview" });
    const slot = anyOf(await slotsAhead(request, doctor.id, service(SERVICE).id, 7));
    const held = await patient.api.post<Schemas["Booking"]>(
      "/v1/bookings",
      { provider_id: doctor.id, service_id: service(SERVICE).id, start: slot.start },
      { headers: { "Idempotency-Key": crypto.randomUUID() } },
    );

    await page.goto("/login");
    await page.getByLabel("Email").fill(demo.admin.email);
    await page.getByLabel("Password").fill(demo.admin.password);
    await page.getByRole("button", { name: "Log in" }).click();
    await expect(page).toHaveURL(/\/admin/);
    await page.goto(`/bookings/${held.id}`);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(`${SERVICE} with Dr. Maya Chen`);
    await expect(page.locator(".facts")).toContainText("Sue Staffview");
    const link = page.getByRole("link", { name: /Open in Temporal Web UI/ });
    await expect(link).toHaveAttribute("href", new RegExp(`/workflows/booking-${held.id}$`));
    await expect(link).toHaveAttribute("target", "_blank");
    await expect(link).toHaveAttribute("rel", /noopener/);
    // The hold's countdown and the confirm are there for an admin too.
    await expect(page.getByRole("timer")).toBeVisible();
    await expect(page.getByRole("button", { name: "Confirm appointment" })).toBeVisible();
    await expectNoSeriousA11yViolations(page);
  });

  test("an ended session returns to the login page and, after logging in, to the page it left", async ({ page, request }) => {
    const patient = await newPatient(request);
    await logIn(page, patient);
    await page.goto("/bookings");
    await expect(page.getByRole("heading", { level: 1, name: "My bookings" })).toBeVisible();

    // The server ends the session: the refresh cookie is gone (as after a logout elsewhere or
    // its expiry) and the next call with the access token answers 401, as an expired one does.
    await page.context().clearCookies();
    let refused = false;
    await page.route("**/v1/bookings?*", async (route) => {
      if (refused) return route.continue();
      refused = true;
      await route.fulfill({
        status: 401,
        contentType: "application/problem+json",
        body: JSON.stringify({ type: "https://clinicbook.dev/problems/unauthorized", title: "Unauthorized", status: 401, detail: "the access token has expired" }),
      });
    });
    const nav = page.getByRole("navigation", { name: "Main" });
    await nav.getByRole("link", { name: "Book", exact: true }).click();
    await nav.getByRole("link", { name: "My bookings" }).click();

    await expect(page).toHaveURL(/\/login\?expired=1&next=%2Fbookings/);
    await expect(page.getByText("Your session expired; please log in again.")).toBeVisible();
    await page.getByLabel("Email").fill(patient.email);
    await page.getByLabel("Password").fill(patient.password);
    await page.getByRole("button", { name: "Log in" }).click();
    await expect(page).toHaveURL(/\/bookings$/);
    await expect(page.getByRole("heading", { level: 1, name: "My bookings" })).toBeVisible();
  });

  test("the whole booking works with the keyboard alone", async ({ page, request }) => {
    const { provider, service } = await catalog(request);
    const doctor = provider("Dr. Anna Weber");
    const patient = await newPatient(request, { name: "Kim Keyboard" });
    const slot = anyOf(await slotsAhead(request, doctor.id, service(SERVICE).id, 6));

    type Active = { id: string; name: string; text: string; start: string };
    const active = () =>
      page.evaluate((): Active => {
        const el = document.activeElement;
        return {
          id: el?.id ?? "",
          name: el?.getAttribute("name") ?? "",
          text: el?.textContent?.trim() ?? "",
          start: el?.getAttribute("data-start") ?? "",
        };
      });
    const tabTo = async (ok: (a: Active) => boolean, what: string, max = 400) => {
      if (ok(await active())) return;
      for (let i = 0; i < max; i++) {
        await page.keyboard.press("Tab");
        if (ok(await active())) return;
      }
      throw new Error(`Tab never reached ${what}`);
    };

    await page.goto("/login");
    await tabTo((a) => a.id === "login-email", "the email field");
    await page.keyboard.type(patient.email);
    await page.keyboard.press("Tab");
    await page.keyboard.type(patient.password);
    await page.keyboard.press("Enter");
    await expect(page).toHaveURL(/\/book/);

    // Radio groups: Tab into the group, arrows move, Space checks.
    await tabTo((a) => a.name === "service", "the services");
    for (let i = 0; i < 5 && !(await page.getByRole("radio", { name: new RegExp(SERVICE) }).evaluate((el) => el === document.activeElement)); i++) {
      await page.keyboard.press("ArrowDown");
    }
    await page.keyboard.press("Space");
    await expect(page.getByRole("radio", { name: new RegExp(SERVICE) })).toBeChecked();
    await tabTo((a) => a.name === "provider", "the doctors");
    for (let i = 0; i < 5 && !(await page.getByRole("radio", { name: /Anna Weber/ }).evaluate((el) => el === document.activeElement)); i++) {
      await page.keyboard.press("ArrowDown");
    }
    await page.keyboard.press("Space");
    await expect(page.getByRole("radio", { name: /Anna Weber/ })).toBeChecked();

    for (let week = 0; week < 6; week++) {
      await expect(page.getByText("Looking for free times")).toHaveCount(0);
      if ((await slotButton(page, slot.start).count()) > 0) break;
      await tabTo((a) => a.text.includes("Next week"), "Next week");
      await page.keyboard.press("Enter");
    }
    await tabTo((a) => a.start === slot.start, "the slot");
    await page.keyboard.press("Enter");
    await expect(page.getByRole("heading", { name: "Your choice" })).toBeFocused();
    await page.keyboard.press("Tab");
    await expect(page.getByRole("button", { name: "Book this time" })).toBeFocused();
    await page.keyboard.press("Enter");
    await expect(page.getByRole("heading", { name: "Confirm your appointment" })).toBeFocused();
    await tabTo((a) => a.text === "Confirm appointment", "Confirm appointment", 10);
    await page.keyboard.press("Enter");
    await expect(page.getByRole("heading", { name: "Your appointment is confirmed" })).toBeFocused();
    await tabTo((a) => a.text.startsWith("See this booking"), "the booking's link", 5);
    await page.keyboard.press("Enter");
    await expect(page.locator(".badge")).toHaveText("Confirmed");
  });

  test.describe("at 390x844", () => {
    test.use({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });

    test("books and confirms on a phone-sized screen", async ({ page, request }) => {
      const { provider, service } = await catalog(request);
      const doctor = provider("Dr. Luca Rossi");
      const patient = await newPatient(request, { name: "Mo Mobile" });
      const slot = anyOf(await slotsAhead(request, doctor.id, service(SERVICE).id, 5));
      const noSideScroll = async () =>
        expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);

      await logIn(page, patient);
      await noSideScroll();
      await chooseOnBook(page, "Luca Rossi");
      await showSlot(page, slot.start);
      await noSideScroll();
      await screenshot(page, "book-mobile");
      await slotButton(page, slot.start).tap();
      await expect(page.getByRole("heading", { name: "Your choice" })).toBeInViewport();
      await page.getByRole("button", { name: "Book this time" }).tap();
      await expect(page.getByRole("timer")).toBeInViewport();
      await page.getByRole("button", { name: "Confirm appointment" }).tap();
      await expect(page.getByRole("heading", { name: "Your appointment is confirmed" })).toBeVisible();
      await page.getByRole("link", { name: /See this booking/ }).tap();
      await expect(page.locator(".badge")).toHaveText("Confirmed");
      await noSideScroll();
      await screenshot(page, "booking-mobile");
      await page.getByRole("link", { name: "My bookings" }).first().tap();
      await expect(page.locator(".booking-card")).toHaveCount(1);
      await noSideScroll();
      await expectNoSeriousA11yViolations(page);
    });
  });
});
