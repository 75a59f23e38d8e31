// The doctor's and the admin's pages in a real browser: a doctor sees the day and checks a
// patient in, an admin finds a booking and its workflow in the Temporal Web UI, an admin closes
// a day and its slots disappear, and axe finds no serious violation on any of these pages.
//
// Every test makes its own doctor (and patient), so none depends on another's data or breaks the
// demo doctors' slots other tests book.
import type { APIRequestContext, Page } from "@playwright/test";
import {
  test,
  expect,
  env,
  api,
  ApiError as FixtureApiError,
  catalog,
  demo,
  expectNoSeriousA11yViolations,
  freeSlots,
  newPatient,
  screenshot,
  uniqueEmail,
  type ApiClient,
  type Credentials,
  type Schemas,
} from "./fixtures";

const fullWeek = (start: string, end: string) =>
  [0, 1, 2, 3, 4, 5, 6].map((weekday) => ({ weekday, start, end }));

let n = 0;
function tag(): string {
  n += 1;
  return `${Date.now().toString(36).slice(-5)}${n}`;
}

// dayKey is the civil date of an instant in a zone.
function dayKey(at: Date | string, zone: string): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" }).format(
    typeof at === "string" ? new Date(at) : at,
  );
}

function addDays(key: string, days: number): string {
  const [y, m, d] = key.split("-").map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

function hourIn(zone: string, at = new Date()): number {
  return Number(new Intl.DateTimeFormat("en-GB", { timeZone: zone, hour: "2-digit", hourCycle: "h23" }).format(at));
}

// A zone where it is now between 02:00 and 18:00, so that the next hours are still today there
// whenever the test runs.
function daytimeZone(): string {
  const zones = ["UTC", "Asia/Tokyo", "America/New_York", "Europe/Berlin", "Asia/Kolkata", "America/Los_Angeles", "Pacific/Auckland"];
  return zones.find((z) => hourIn(z) >= 2 && hourIn(z) < 18) ?? "UTC";
}

type Doctor = Schemas["Provider"] & { login: Credentials };

// newDoctor adds a doctor with their own login and the given weekly hours, over the REST API.
async function newDoctor(admin: ApiClient, opts: { zone: string; weekly?: { weekday: number; start: string; end: string }[] }): Promise<Doctor> {
  const t = tag();
  const login = { email: uniqueEmail("doctor"), password: `doctor-${t}-pass` };
  const p = await admin.post<Schemas["Provider"]>("/v1/providers", {
    name: `Dr. Test ${t}`,
    specialty: "Family medicine",
    time_zone: opts.zone,
    ...login,
  });
  if (opts.weekly) await admin.put(`/v1/providers/${p.id}/schedule`, { weekly: opts.weekly, exceptions: [] });
  return { ...p, login };
}

// logIn goes through the Login page, as a person would.
async function logIn(page: Page, who: Credentials, landing: RegExp): Promise<void> {
  await page.goto("/login");
  await page.getByLabel("Email").fill(who.email);
  await page.getByLabel("Password", { exact: true }).fill(who.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL(landing);
}

// aPatient is a new verified patient; where sign-ups from this address are rate limited (a dev
// stack with the default RATE_LIMIT_REGISTER rather than the test stack's), the demo patient.
// The test's own new doctor keeps its data apart either way.
async function aPatient(request: APIRequestContext, name: string): Promise<{ name: string; api: ApiClient }> {
  try {
    return await newPatient(request, { name });
  } catch (e) {
    if (!(e instanceof FixtureApiError && e.status === 429)) throw e;
    return { name: demo.patient.name, api: await api(request, demo.patient) };
  }
}

// Bookings a test made are cancelled after it, passed or failed, so that a demo patient used as
// a stand-in (see aPatient) never collects active bookings up to the limit.
const cleanups: (() => Promise<unknown>)[] = [];
test.afterEach(async () => {
  for (const c of cleanups.splice(0)) await c().catch(() => undefined);
});
function cancelLater(who: ApiClient, id: string): void {
  cleanups.push(() => who.post(`/v1/bookings/${id}/cancel`, { reason: "test over" }));
}

// shot saves a screenshot with nothing focused, as the page reads at rest.
async function shot(page: Page, name: string): Promise<void> {
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await screenshot(page, name);
}

async function quickCheck(request: APIRequestContext): Promise<Schemas["Service"]> {
  return (await catalog(request)).service(demo.services[0].name);
}

test("a doctor sees the day and checks the patient in; a check-in too early is refused in place", async ({
  page,
  request,
  adminApi,
}) => {
  const zone = daytimeZone();
  const doctor = await newDoctor(adminApi, { zone, weekly: fullWeek("00:00", "24:00") });
  const service = await quickCheck(request);
  const patient = await aPatient(request, `Checkin Patient ${tag()}`);

  // The nearest free slot starts within minutes: check-in is open from an hour before the start
  // until the no-show grace after it. A second appointment three hours ahead is too early.
  const slots = await freeSlots(request, doctor.id, service.id, 1);
  const soon = slots[0]!;
  const later = slots.find((s) => Date.parse(s.start) >= Date.now() + 3 * 3600_000)!;
  expect(Date.parse(soon.start) - Date.now()).toBeLessThan(3600_000);
  expect(dayKey(later.start, zone)).toBe(dayKey(new Date(), zone));
  const book = async (start: string) => {
    const b = await patient.api.post<Schemas["Booking"]>("/v1/bookings", { provider_id: doctor.id, service_id: service.id, start });
    cancelLater(patient.api, b.id);
    await patient.api.post(`/v1/bookings/${b.id}/confirm`);
    return b;
  };
  const first = await book(soon.start);
  const second = await book(later.start);

  await logIn(page, doctor.login, /\/doctor$/);
  await expect(page.getByRole("heading", { level: 1, name: `Appointments of ${doctor.name}` })).toBeVisible();
  await expect(page.getByText(`Times are in ${zone}`)).toBeVisible();
  await expect(page.getByRole("button", { name: "Today" })).toHaveAttribute("aria-pressed", "true");

  const cards = page.locator("li.appt");
  await expect(cards).toHaveCount(2);
  const firstCard = cards.filter({ has: page.locator(`a[href="/bookings/${first.id}"]`) });
  const secondCard = cards.filter({ has: page.locator(`a[href="/bookings/${second.id}"]`) });
  await expect(firstCard).toContainText(patient.name);
  await expect(firstCard).toContainText(service.name);
  await expect(firstCard).toContainText("Confirmed");
  await expect(page.getByRole("status").filter({ hasText: "Today: 2 appointments" })).toContainText("0 no-shows");
  await expectNoSeriousA11yViolations(page);

  // Too early: the API's 409 is said on that appointment, which stays confirmed.
  await secondCard.getByRole("button", { name: /^Check in/ }).click();
  await expect(secondCard.getByRole("alert")).toContainText(/too early|cannot be checked in/i);
  await expect(secondCard).toContainText("Confirmed");

  // In time: checked in.
  await firstCard.getByRole("button", { name: /^Check in/ }).click();
  await expect(firstCard.getByText(`${patient.name} is checked in.`)).toBeVisible();
  await expect(firstCard.locator(".badge")).toHaveText("Checked in");
  await expect(firstCard.getByRole("button", { name: /^Check in/ })).toHaveCount(0);
  expect((await adminApi.get<Schemas["Booking"]>(`/v1/bookings/${first.id}`)).status).toBe("checked_in");
  await expectNoSeriousA11yViolations(page);
  await shot(page, "doctor-day");

  // The week view has them too, and the link opens the booking.
  await page.getByRole("button", { name: "This week" }).click();
  await expect(page.getByRole("button", { name: "This week" })).toHaveAttribute("aria-pressed", "true");
  await expect(page.getByRole("status").filter({ hasText: "This week: 2 appointments" })).toBeVisible();
  await page.setViewportSize({ width: 390, height: 844 });
  await expectNoSeriousA11yViolations(page);
  await shot(page, "doctor-day-phone");
  await firstCard.getByRole("link", { name: /^Details/ }).click();
  await expect(page).toHaveURL(new RegExp(`/bookings/${first.id}$`));

});

test("a doctor edits working hours: bad hours are refused in place, good ones saved", async ({ page, adminApi }) => {
  const doctor = await newDoctor(adminApi, { zone: "Europe/Berlin", weekly: [{ weekday: 1, start: "09:00", end: "12:00" }] });
  await logIn(page, doctor.login, /\/doctor$/);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Working hours" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Your working hours" })).toBeVisible();
  await expect(page.getByText("Times are in Europe/Berlin")).toBeVisible();

  const monday = page.getByRole("group", { name: "Monday" });
  await expect(monday.getByLabel("From")).toHaveValue("09:00");
  // A second interval on Monday that overlaps the first, and Tuesday's hours ending before they start.
  await monday.getByRole("button", { name: "Add hours on Monday" }).click();
  await page.getByLabel("From (Monday, hours 2)").fill("11:00");
  await page.getByLabel("To (Monday, hours 2)").fill("15:00");
  const tuesday = page.getByRole("group", { name: "Tuesday" });
  await tuesday.getByRole("button", { name: "Add hours on Tuesday" }).click();
  await expect(page.getByLabel("From (Tuesday)")).toBeFocused();
  await page.getByLabel("From (Tuesday)").fill("18:00");
  await page.getByLabel("To (Tuesday)").fill("08:00");
  await page.getByRole("button", { name: "Save working hours" }).click();

  await expect(page.getByRole("alert").first()).toContainText("not saved");
  await expect(page.getByLabel("To (Tuesday)")).toHaveAttribute("aria-invalid", "true");
  await expect(tuesday).toContainText("must be after start");
  await expect(monday).toContainText(/overlaps the hours Monday 09:00–12:00/);
  await shot(page, "doctor-schedule-errors");

  // Fixed: saved, and the API has it.
  await page.getByLabel("From (Monday, hours 2)").fill("13:00");
  await page.getByLabel("To (Monday, hours 2)").fill("17:00");
  await page.getByLabel("From (Tuesday)").fill("8:00");
  await page.getByLabel("To (Tuesday)").fill("18:00");
  await page.getByRole("button", { name: "Save working hours" }).click();
  await expect(page.getByText("Working hours saved.")).toBeVisible();
  const sched = await adminApi.get<Schemas["Schedule"]>(`/v1/providers/${doctor.id}/schedule`);
  expect(sched.weekly).toEqual(
    expect.arrayContaining([
      { weekday: 1, start: "09:00", end: "12:00" },
      { weekday: 1, start: "13:00", end: "17:00" },
      { weekday: 2, start: "08:00", end: "18:00" },
    ]),
  );
  expect(sched.weekly).toHaveLength(3);
  await expectNoSeriousA11yViolations(page);
  await shot(page, "doctor-schedule");
});

test("an admin finds the booking by doctor, status and day, with its workflow in the Temporal Web UI", async ({
  page,
  request,
  adminApi,
}) => {
  const zone = "America/New_York";
  const doctor = await newDoctor(adminApi, { zone, weekly: fullWeek("08:00", "18:00") });
  const service = await quickCheck(request);
  const patient = await aPatient(request, `Found Patient ${tag()}`);
  const [slot] = await freeSlots(request, doctor.id, service.id, 7);
  // The admin books for the patient, who confirms.
  const booking = await adminApi.post<Schemas["Booking"]>("/v1/bookings", {
    provider_id: doctor.id,
    service_id: service.id,
    start: slot!.start,
    patient_id: (await patient.api.me()).id,
  });
  cancelLater(patient.api, booking.id);
  await patient.api.post(`/v1/bookings/${booking.id}/confirm`);
  const day = dayKey(slot!.start, zone);

  await logIn(page, demo.admin, /\/admin$/);
  await expect(page.getByRole("heading", { level: 1, name: "Bookings" })).toBeVisible();
  await page.getByLabel("Doctor").selectOption({ label: doctor.name });
  await expect(page.getByText(`Days and times are in ${zone}, ${doctor.name}'s time zone`)).toBeVisible();
  await page.getByLabel("Status").selectOption("confirmed");
  await page.getByLabel("Day", { exact: true }).fill(day);
  await expect(page).toHaveURL(new RegExp(`doctor=${doctor.id}`));
  await expect(page).toHaveURL(/status=confirmed/);
  await expect(page).toHaveURL(new RegExp(`day=${day}`));

  const rows = page.locator("table tbody tr");
  await expect(rows).toHaveCount(1);
  const row = rows.first();
  await expect(row).toContainText(patient.name);
  await expect(row).toContainText(doctor.name);
  await expect(row).toContainText(service.name);
  await expect(row).toContainText("Confirmed");
  await expect(row.getByRole("link", { name: /^Details/ })).toHaveAttribute("href", `/bookings/${booking.id}`);
  const workflow = row.getByRole("link", { name: /^Workflow/ });
  await expect(workflow).toHaveAttribute("href", `${env.temporalUIURL}/namespaces/default/workflows/booking-${booking.id}`);
  await expect(workflow).toHaveAttribute("target", "_blank");
  await expect(workflow).toHaveAttribute("rel", /noopener/);
  await shot(page, "admin-bookings");
  await expectNoSeriousA11yViolations(page);

  // The filters survive a reload; another status finds nothing, said in place.
  await page.reload();
  await expect(page.getByLabel("Doctor")).toHaveValue(doctor.id);
  await expect(page.getByLabel("Day", { exact: true })).toHaveValue(day);
  await expect(rows).toHaveCount(1);
  await page.getByLabel("Status").selectOption("cancelled");
  await expect(page.getByText("No bookings match these filters.")).toBeVisible();

  // On a phone the table becomes a list of cards.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.getByLabel("Status").selectOption("");
  const card = page.locator("li.booking-card");
  await expect(card).toHaveCount(1);
  await expect(card).toContainText(patient.name);
  await expect(card.getByRole("link", { name: /^Workflow/ })).toHaveAttribute(
    "href",
    `${env.temporalUIURL}/namespaces/default/workflows/booking-${booking.id}`,
  );
  await expectNoSeriousA11yViolations(page);
  await shot(page, "admin-bookings-phone");

});

test.describe("closing a day", () => {
  // The browser and the doctor share a zone, so the Book page's days are the doctor's days.
  test.use({ timezoneId: "Europe/Berlin" });

  test("an admin adds a doctor, sets the hours and closes a day; its slots disappear", async ({ page, browser, request, adminApi }) => {
    const zone = "Europe/Berlin";
    const service = await quickCheck(request);
    const name = `Dr. Closed ${tag()}`;

    await logIn(page, demo.admin, /\/admin$/);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Doctors" }).click();
    await expect(page.getByRole("heading", { level: 1, name: "Doctors" })).toBeVisible();

    // The form says what is wrong in place: no name.
    await page.getByRole("button", { name: "Add doctor" }).click();
    await expect(page.getByLabel("Name")).toHaveAttribute("aria-invalid", "true");
    await expect(page.getByLabel("Name")).toBeFocused();

    await page.getByLabel("Name").fill(name);
    await page.getByLabel("Specialty (optional)").fill("Orthopedics");
    await page.getByLabel("Time zone").selectOption(zone);
    await page.getByRole("button", { name: "Add doctor" }).click();
    await expect(page.getByText(`${name} was added.`)).toBeVisible();
    const listed = page.locator("table tbody tr").filter({ hasText: name });
    await expect(listed).toContainText(zone);
    await expect(listed).toContainText("Orthopedics");
    await expectNoSeriousA11yViolations(page);
    await shot(page, "admin-doctors");
    const doctor = (await catalog(request)).provider(name);

    // Working hours every day, 09:00 to 17:00, from the editor's defaults.
    await listed.getByRole("link", { name: /^Working hours/ }).click();
    await expect(page.getByRole("heading", { level: 1, name: `Working hours of ${name}` })).toBeVisible();
    await expect(page.getByText(`Times are in ${zone}`)).toBeVisible();
    for (const day of ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]) {
      await page.getByRole("button", { name: `Add hours on ${day}` }).click();
      await expect(page.getByLabel(`From (${day})`)).toHaveValue("09:00");
    }
    await page.getByRole("button", { name: "Save working hours" }).click();
    await expect(page.getByText("Working hours saved.")).toBeVisible();

    const closed = addDays(dayKey(new Date(), zone), 2);
    const slotsOn = async (key: string) =>
      (await freeSlots(request, doctor.id, service.id, 5)).filter((s) => dayKey(s.start, zone) === key);
    expect((await slotsOn(closed)).length).toBeGreaterThan(0);

    // The patient's Book page offers times that day.
    const patientContext = await browser.newContext({ timezoneId: zone });
    const patientPage = await patientContext.newPage();
    const bookURL = `/book?service=${service.id}&provider=${doctor.id}&week=${addDays(closed, -1)}`;
    await patientPage.goto(bookURL);
    const closedDay = patientPage.locator(`section[aria-labelledby="day-${closed}"]`);
    await expect(closedDay.getByRole("button").first()).toBeVisible();

    // Close it.
    await page.getByLabel("Date", { exact: true }).fill(closed);
    await page.getByRole("radio", { name: "Closed all day" }).last().check();
    await page.getByRole("button", { name: "Add date" }).click();
    const exception = page.locator(".sched-exceptions > li");
    await expect(exception).toHaveCount(1);
    await expect(exception.getByRole("radio", { name: "Closed all day" })).toBeChecked();
    await page.getByRole("button", { name: "Save working hours" }).click();
    await expect(page.getByText("Working hours saved.")).toBeVisible();
    await expectNoSeriousA11yViolations(page);
    await shot(page, "admin-schedule");

    const sched = await adminApi.get<Schemas["Schedule"]>(`/v1/providers/${doctor.id}/schedule`);
    expect(sched.exceptions).toEqual([expect.objectContaining({ date: closed, closed: true })]);
    expect(await slotsOn(closed)).toEqual([]);
    expect((await slotsOn(addDays(closed, 1))).length).toBeGreaterThan(0);

    await patientPage.reload();
    await expect(closedDay).toContainText("No free times");
    await expect(closedDay.getByRole("button")).toHaveCount(0);
    await expect(patientPage.locator(`section[aria-labelledby="day-${addDays(closed, 1)}"]`).getByRole("button").first()).toBeVisible();
    await patientContext.close();
  });
});

test("an admin adds a service; a bad length is refused in place", async ({ page }) => {
  const name = `E2E check ${tag()}`;
  await logIn(page, demo.admin, /\/admin$/);
  await page.goto("/admin/services");
  await expect(page.getByRole("heading", { level: 1, name: "Services" })).toBeVisible();
  await expect(page.locator("table tbody tr").filter({ hasText: demo.services[1].name })).toContainText("30 minutes");

  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Length in minutes").fill("7");
  await page.getByRole("button", { name: "Add service" }).click();
  await expect(page.getByLabel("Length in minutes")).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByText("multiple of 5").first()).toBeVisible();

  await page.getByLabel("Length in minutes").fill("45");
  await page.getByRole("button", { name: "Add service" }).click();
  await expect(page.getByText(`${name} (45 minutes) was added.`)).toBeVisible();
  await expect(page.locator("table tbody tr").filter({ hasText: name })).toContainText("45 minutes");
  await expectNoSeriousA11yViolations(page);
  await shot(page, "admin-services");
});
