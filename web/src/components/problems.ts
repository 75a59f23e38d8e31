// Turning the API's problems about bookings and sign-in into sentences a patient can act on.
// Pages pass the result to ErrorMessage, which reads an Error's message as it is.
import { ApiError, NetworkError } from "../api/client";

// sentence capitalizes a detail and ends it with a full stop.
export function sentence(s: string): string {
  const t = s.trim();
  if (!t) return t;
  const c = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(c) ? c : `${c}.`;
}

// plain drops the API's hints meant for programmers ("… with POST /v1/me/verify").
export function plain(detail: string): string {
  return sentence(detail.replace(/\s*(?:with|:)\s*POST \/v1\/.*$/s, "").replace(/[;,]\s*$/, ""));
}

// humane keeps NetworkError (describe words it) and turns an ApiError carrying a detail into
// an Error with that detail as a sentence; kinds whose wording describe() knows better stay.
export function humane(err: unknown): unknown {
  if (!(err instanceof ApiError)) return err;
  if (["verification-required", "internal", "unauthorized"].includes(err.kind)) return err;
  const detail = err.problem?.detail;
  if (!detail) return err;
  if (err.status === 429) return new Error(`Too many attempts. ${plain(detail)}`);
  return new Error(plain(detail));
}

export type BookingProblem =
  | "taken" // someone else holds or booked it
  | "not-offered" // the time is no longer one of the offered slots
  | "verification" // the patient has verified neither email nor phone
  | "too-many" // the patient's cap of active bookings or holds
  | "hold-expired" // the hold lapsed before the confirm
  | "network"
  | "other";

// classify tells what a failed hold, confirm or move means for the page.
export function classify(err: unknown, action: "hold" | "confirm" | "move" = "hold"): BookingProblem {
  if (err instanceof NetworkError) return "network";
  if (!(err instanceof ApiError)) return "other";
  const detail = (err.problem?.detail ?? "").toLowerCase();
  if (err.kind === "verification-required") return "verification";
  if (err.status === 409) {
    if (detail.includes("taken")) return "taken";
    if (detail.includes("bookings") || detail.includes("on hold already")) return "too-many";
    if (action === "confirm" || detail.includes("hold has expired") || detail.includes("expired")) return "hold-expired";
    return "other";
  }
  if (err.status === 422 && (action === "hold" || action === "move")) {
    if (detail.includes("idempotency")) return "other";
    return "not-offered";
  }
  return "other";
}

// retryable says whether the same request may simply be sent again under the same
// Idempotency-Key: the request may or may not have reached the booking engine.
export function retryable(err: unknown): boolean {
  if (err instanceof NetworkError) return true;
  return err instanceof ApiError && (err.status === 503 || err.status === 502 || err.status === 504 || err.status === 500);
}

// newKey names one attempt of a command, kept for its retries.
export function newKey(): string {
  if (typeof crypto !== "undefined" && "randomUUID" in crypto) return crypto.randomUUID();
  return `${Date.now()}-${Math.random().toString(36).slice(2)}`;
}

// safeNext accepts only paths inside the app as a way back, never another site.
export function safeNext(next: string | null | undefined): string | null {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return null;
  return next;
}

