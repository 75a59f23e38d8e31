// Helpers for the browser tests. They run against the stack scripts/web-e2e.sh starts, which sets
// BASE_URL (the API and the app), MAILPIT_URL (email), SANDBOX_URL (the Twilio sandbox's SMS)
// and TEMPORAL_UI_URL. Import everything from here:
//
//   import { test, expect, demo, api, latestCode, screenshot } from "./fixtures";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

import AxeBuilder from "@axe-core/playwright";
import { test as base, expect, type APIRequestContext, type APIResponse, type Page } from "@playwright/test";

import type { components } from "../src/api/schema";

export { expect };

/** The API's schemas (generated from api/openapi.yaml): Schemas["Booking"], Schemas["Provider"]... */
export type Schemas = components["schemas"];

export const env = {
  baseURL: trimSlash(process.env.BASE_URL ?? "http://127.0.0.1:18080"),
  mailpitURL: trimSlash(process.env.MAILPIT_URL ?? "http://127.0.0.1:18025"),
  sandboxURL: trimSlash(process.env.SANDBOX_URL ?? "http://127.0.0.1:18090"),
  temporalUIURL: trimSlash(process.env.TEMPORAL_UI_URL ?? "http://127.0.0.1:18233"),
};

function trimSlash(u: string): string {
  return u.replace(/\/+$/, "");
}

export interface Credentials {
  email: string;
  password: string;
}

/** The demo clinic `booking seed` creates (seed/seed.go; the logins scripts/dev.sh prints). */
export const demo = {
  admin: { email: "admin@clinic.test", password: "admin-pass-1" },
  patient: { email: "patient@clinic.test", password: "patient-pass-1", name: "Pat Demo", phone: "+15550100001" },
  doctorPassword: "doctor-pass-1",
  /** Anna Weber's practice is closed on the second working day after seeding. */
  doctors: [
    { name: "Dr. Anna Weber", email: "anna.weber@clinic.test", password: "doctor-pass-1", specialty: "General practice", timeZone: "Europe/Berlin" },
    { name: "Dr. Luca Rossi", email: "luca.rossi@clinic.test", password: "doctor-pass-1", specialty: "Dermatology", timeZone: "Europe/Berlin" },
    { name: "Dr. Maya Chen", email: "maya.chen@clinic.test", password: "doctor-pass-1", specialty: "Pediatrics", timeZone: "America/New_York" },
  ],
  services: [
    { name: "Quick check", durationMinutes: 15 },
    { name: "Consultation", durationMinutes: 30 },
    { name: "Extended visit", durationMinutes: 60 },
  ],
} as const;

// ---------------------------------------------------------------------------------------------
// Unique addresses

let counter = 0;
function stamp(): string {
  counter += 1;
  return `${Date.now().toString(36)}${counter.toString(36)}${Math.floor(Math.random() * 36 ** 3).toString(36)}`;
}

/** A fresh email address (delivered to Mailpit, like every address on the test stack). */
export function uniqueEmail(prefix = "patient"): string {
  const clean = prefix.toLowerCase().replace(/[^a-z0-9.-]+/g, "-").replace(/^[.-]+|[.-]+$/g, "") || "user";
  return `${clean}.${stamp()}@e2e.test`;
}

/** A fresh E.164 number, +1555 and 7 random digits (the sandbox takes any E.164 number). */
export function uniquePhone(): string {
  for (;;) {
    const n = `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`;
    if (n !== demo.patient.phone) return n;
  }
}

// ---------------------------------------------------------------------------------------------
// Messages: Mailpit (email) and the Twilio sandbox (SMS)

async function getJSON<T>(url: string): Promise<T> {
  const res = await fetch(url, { headers: { Accept: "application/json" } });
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

interface MailpitAddress {
  Name: string;
  Address: string;
}
interface MailpitSummary {
  ID: string;
  Subject: string;
  To: MailpitAddress[] | null;
  Created: string;
  Attachments: number;
  Snippet: string;
}
interface MailpitPart {
  FileName: string;
  ContentType: string;
}
interface MailpitMessage {
  ID: string;
  Subject: string;
  Text: string;
  HTML: string;
  Attachments: MailpitPart[] | null;
  Inline: MailpitPart[] | null;
}

/** One email as Mailpit holds it. */
export interface Mail {
  id: string;
  subject: string;
  to: string[];
  created: Date;
  text: string;
  attachments: string[];
  /** Whether it carries a calendar invite (an .ics file or a text/calendar part). */
  hasIcs: boolean;
}

async function mailpitSearch(email: string): Promise<MailpitSummary[]> {
  const query = encodeURIComponent(`to:"${email}"`);
  const res = await getJSON<{ messages: MailpitSummary[] | null }>(`${env.mailpitURL}/api/v1/search?query=${query}&limit=200`);
  const wanted = email.toLowerCase();
  return (res.messages ?? [])
    .filter((m) => (m.To ?? []).some((a) => a.Address.toLowerCase() === wanted))
    .sort((a, b) => Date.parse(b.Created) - Date.parse(a.Created));
}

async function mailpitMessage(s: MailpitSummary): Promise<Mail> {
  const m = await getJSON<MailpitMessage>(`${env.mailpitURL}/api/v1/message/${encodeURIComponent(s.ID)}`);
  const parts = [...(m.Attachments ?? []), ...(m.Inline ?? [])];
  return {
    id: s.ID,
    subject: m.Subject,
    to: (s.To ?? []).map((a) => a.Address),
    created: new Date(s.Created),
    text: m.Text,
    attachments: parts.map((p) => p.FileName),
    hasIcs: parts.some((p) => /\.ics$/i.test(p.FileName) || /^text\/calendar/i.test(p.ContentType)),
  };
}

/** Every email sent to `email`, newest first. */
export async function messagesTo(email: string): Promise<Mail[]> {
  return Promise.all((await mailpitSearch(email)).map(mailpitMessage));
}

/**
 * Waits (default 30 s) for an email to `email` whose subject or text matches `match` and returns
 * the newest such; bookings' messages are sent by the workflow, a moment after the API answers.
 */
export async function waitForEmail(email: string, match: RegExp | ((m: Mail) => boolean), timeoutMs = 30_000): Promise<Mail> {
  const ok = typeof match === "function" ? match : (m: Mail) => match.test(m.subject) || match.test(m.text);
  let seen: Mail[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    seen = await messagesTo(email);
    const found = seen.find(ok);
    if (found) return found;
    if (Date.now() > deadline) {
      throw new Error(
        `no email to ${email} matching ${String(match)} within ${timeoutMs / 1000}s; got: ` +
          (seen.map((m) => JSON.stringify(m.subject)).join(", ") || "none"),
      );
    }
    await sleep(500);
  }
}

/** One SMS as the Twilio sandbox recorded it. */
export interface Sms {
  sid: string;
  to: string;
  from: string;
  body: string;
  status: string;
  created: Date;
}

/** Every SMS sent to `phone` (E.164), newest first. */
export async function smsTo(phone: string): Promise<Sms[]> {
  interface SandboxMessage {
    sid: string;
    to: string;
    from: string;
    body: string;
    status: string;
    date_created: string;
  }
  const res = await getJSON<{ messages: SandboxMessage[] | null }>(`${env.sandboxURL}/api/messages?to=${encodeURIComponent(phone)}`);
  return (res.messages ?? [])
    .map((m) => ({ sid: m.sid, to: m.to, from: m.from, body: m.body, status: m.status, created: new Date(m.date_created) }))
    .sort((a, b) => b.created.getTime() - a.created.getTime());
}

const codePattern = /verification code\D{0,20}(\d{6})\b/i;

/**
 * The newest 6-digit verification code sent to an email address (Mailpit) or phone number
 * (starting with +: the Twilio sandbox), polling up to 15 s. `since` skips older messages (take
 * it just before asking for the code when one was sent before).
 */
export async function latestCode(to: string, opts: { since?: Date; timeoutMs?: number } = {}): Promise<string> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const since = opts.since?.getTime() ?? 0;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let code: string | undefined;
    if (to.startsWith("+")) {
      for (const m of await smsTo(to)) {
        if (m.created.getTime() < since) break;
        code = codePattern.exec(m.body)?.[1];
        if (code) break;
      }
    } else {
      for (const s of await mailpitSearch(to)) {
        if (Date.parse(s.Created) < since) break;
        if (!/code/i.test(s.Subject) && !codePattern.test(s.Snippet)) continue;
        code = codePattern.exec((await mailpitMessage(s)).text)?.[1];
        if (code) break;
      }
    }
    if (code) return code;
    if (Date.now() > deadline) throw new Error(`no verification code sent to ${to} within ${timeoutMs / 1000}s`);
    await sleep(250);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------------------------------------
// The REST API, with a bearer token (Playwright's APIRequestContext: the `request` fixture)

/** An answer the test did not expect: its status and problem+json body are in the message. */
export class ApiError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(`${method} ${path}: ${status} ${body}`);
    this.name = "ApiError";
  }
}

export interface RequestOptions {
  headers?: Record<string, string>;
  /** Query parameters (undefined ones are left out). */
  params?: Record<string, string | number | boolean | undefined>;
}

/** A client of the REST API logged in as someone. Paths start with /v1 (or /readyz...). */
export interface ApiClient {
  readonly who: Credentials;
  readonly token: string;
  readonly refreshToken: string | undefined;
  get<T = any>(path: string, opts?: RequestOptions): Promise<T>;
  post<T = any>(path: string, body?: unknown, opts?: RequestOptions): Promise<T>;
  put<T = any>(path: string, body?: unknown, opts?: RequestOptions): Promise<T>;
  delete<T = any>(path: string, opts?: RequestOptions): Promise<T>;
  /** The raw response, whatever its status: for asserting on 4xx answers. */
  fetch(method: string, path: string, opts?: RequestOptions & { body?: unknown }): Promise<APIResponse>;
  me(): Promise<Schemas["User"]>;
}

function url(path: string, params?: RequestOptions["params"]): string {
  const u = new URL(path, env.baseURL + "/");
  for (const [k, v] of Object.entries(params ?? {})) if (v !== undefined) u.searchParams.set(k, String(v));
  return u.toString();
}

async function send(
  request: APIRequestContext,
  method: string,
  path: string,
  opts: RequestOptions & { body?: unknown; token?: string } = {},
): Promise<APIResponse> {
  const headers: Record<string, string> = { Accept: "application/json", ...opts.headers };
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  return request.fetch(url(path, opts.params), {
    method,
    headers,
    ...(opts.body === undefined ? {} : { data: opts.body }),
    failOnStatusCode: false,
  });
}

async function decode<T>(method: string, path: string, res: APIResponse): Promise<T> {
  const text = await res.text();
  if (!res.ok()) throw new ApiError(method, path, res.status(), text);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** POST /v1/auth/login: the tokens. */
export async function login(request: APIRequestContext, who: Credentials): Promise<Schemas["TokenPair"]> {
  const res = await send(request, "POST", "/v1/auth/login", { body: { email: who.email, password: who.password } });
  return decode<Schemas["TokenPair"]>("POST", "/v1/auth/login", res);
}

/** Logs in over the REST API (as the demo admin unless told otherwise) and returns a client. */
export async function api(request: APIRequestContext, who: Credentials = demo.admin): Promise<ApiClient> {
  return clientFor(request, who, await login(request, who));
}

function clientFor(request: APIRequestContext, who: Credentials, tokens: Schemas["TokenPair"]): ApiClient {
  const call = async <T>(method: string, path: string, opts: RequestOptions & { body?: unknown } = {}) =>
    decode<T>(method, path, await send(request, method, path, { ...opts, token: tokens.access_token }));
  return {
    who,
    token: tokens.access_token,
    refreshToken: tokens.refresh_token,
    get: (path, opts) => call("GET", path, opts),
    post: (path, body, opts) => call("POST", path, { ...opts, body: body ?? {} }),
    put: (path, body, opts) => call("PUT", path, { ...opts, body: body ?? {} }),
    delete: (path, opts) => call("DELETE", path, opts),
    fetch: (method, path, opts) => send(request, method, path, { ...opts, token: tokens.access_token }),
    me: () => call<Schemas["User"]>("GET", "/v1/me"),
  };
}

/** A patient made for one test. */
export interface Patient extends Credentials {
  name: string;
  phone: string;
  api: ApiClient;
}

/**
 * Signs a new patient up over the REST API and verifies their email (and, with verify: "both",
 * their phone) with the code sent, so that they can book at once.
 */
export async function newPatient(
  request: APIRequestContext,
  opts: { name?: string; verify?: "email" | "sms" | "both" | "none" } = {},
): Promise<Patient> {
  const email = uniqueEmail("patient");
  const who = { email, password: `pw-${stamp()}-Secret1`, name: opts.name ?? "Test Patient", phone: uniquePhone() };
  const res = await send(request, "POST", "/v1/auth/register", { body: who });
  const tokens = await decode<Schemas["RegisterResponse"]>("POST", "/v1/auth/register", res);
  const client = clientFor(request, who, tokens);
  const verify = opts.verify ?? "email";
  const channels = verify === "both" ? (["email", "sms"] as const) : verify === "none" ? [] : [verify];
  for (const channel of channels) {
    const since = new Date(Date.now() - 1000);
    await client.post("/v1/me/verify", { channel });
    const code = await latestCode(channel === "email" ? email : who.phone, { since });
    await client.post("/v1/me/verify/confirm", { channel, code });
  }
  return { ...who, api: client };
}

/** The providers and services, by name. */
export async function catalog(request: APIRequestContext): Promise<{
  providers: Schemas["Provider"][];
  services: Schemas["Service"][];
  provider(name: string): Schemas["Provider"];
  service(name: string): Schemas["Service"];
}> {
  const providers = (await decode<Schemas["ProviderList"]>("GET", "/v1/providers", await send(request, "GET", "/v1/providers"))).providers;
  const services = (await decode<Schemas["ServiceList"]>("GET", "/v1/services", await send(request, "GET", "/v1/services"))).services;
  const pick = <T extends { name: string }>(list: T[], name: string, what: string): T => {
    const found = list.find((x) => x.name === name);
    if (!found) throw new Error(`no ${what} named ${name}; there are ${list.map((x) => x.name).join(", ")}`);
    return found;
  };
  return {
    providers,
    services,
    provider: (name) => pick(providers, name, "provider"),
    service: (name) => pick(services, name, "service"),
  };
}

/** The free slots of a provider for a service in the next `days` days (default 14). */
export async function freeSlots(
  request: APIRequestContext,
  providerId: string,
  serviceId: string,
  days = 14,
): Promise<Schemas["Slot"][]> {
  const from = new Date();
  const to = new Date(from.getTime() + days * 24 * 3600 * 1000);
  const path = `/v1/providers/${encodeURIComponent(providerId)}/availability`;
  const res = await send(request, "GET", path, { params: { service_id: serviceId, from: from.toISOString(), to: to.toISOString() } });
  return (await decode<Schemas["Availability"]>("GET", path, res)).slots;
}

// ---------------------------------------------------------------------------------------------
// Pages: screenshots and accessibility

// Every run saves its screenshots with its other results; `make web-screenshots` (env
// WEB_SCREENSHOTS=update) writes them over the committed ones in web/screenshots, which the
// README shows, so that an ordinary test run leaves the checkout clean.
const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const screenshotDir =
  process.env.WEB_SCREENSHOTS === "update"
    ? path.join(webDir, "screenshots")
    : path.join(webDir, "test-results", "screenshots");

/** Saves a full-page PNG as <name>.png (see screenshotDir). */
export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(screenshotDir, { recursive: true });
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: true, animations: "disabled" });
}

/**
 * Runs axe-core (WCAG 2.0/2.1 A and AA rules) on the page as it is and fails, listing each
 * problem, when any violation is serious or critical. `exclude` leaves out selectors.
 */
export async function expectNoSeriousA11yViolations(page: Page, opts: { exclude?: string[] } = {}): Promise<void> {
  let builder = new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]);
  for (const sel of opts.exclude ?? []) builder = builder.exclude(sel);
  const results = await builder.analyze();
  const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  const report = bad
    .map((v) => {
      const nodes = v.nodes
        .slice(0, 5)
        .map((n) => `    - ${n.target.join(" ")}: ${n.failureSummary?.replace(/\s+/g, " ") ?? ""}\n      ${n.html.slice(0, 200)}`)
        .join("\n");
      const more = v.nodes.length > 5 ? `\n    ... and ${v.nodes.length - 5} more` : "";
      return `  [${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})\n${nodes}${more}`;
    })
    .join("\n");
  expect(bad.length, `serious or critical accessibility violations on ${page.url()}:\n${report}`).toBe(0);
}

// ---------------------------------------------------------------------------------------------
// Fixtures

/** Playwright's test with `adminApi`: a REST client logged in as the demo admin. */
export const test = base.extend<{ adminApi: ApiClient }>({
  adminApi: async ({ request }, use) => {
    await use(await api(request, demo.admin));
  },
});
