// Times come from the API as RFC 3339 instants; people read them in a time zone. Patients see
// their own (the browser's); doctors see the practice's.

export const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

export function formatTime(iso: string, zone: string = browserZone): string {
  return new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", timeZone: zone }).format(
    new Date(iso),
  );
}

export function formatDay(iso: string | Date, zone: string = browserZone): string {
  return new Intl.DateTimeFormat(undefined, {
    weekday: "long",
    day: "numeric",
    month: "long",
    timeZone: zone,
  }).format(typeof iso === "string" ? new Date(iso) : iso);
}

export function formatDateTime(iso: string, zone: string = browserZone): string {
  return new Intl.DateTimeFormat(undefined, {
    weekday: "short",
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    timeZone: zone,
  }).format(new Date(iso));
}

// dayKey is the civil date (YYYY-MM-DD) of an instant in a zone, for grouping slots by day.
export function dayKey(iso: string | Date, zone: string = browserZone): string {
  const d = typeof iso === "string" ? new Date(iso) : iso;
  const parts = new Intl.DateTimeFormat("en-CA", {
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    timeZone: zone,
  }).formatToParts(d);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? "";
  return `${get("year")}-${get("month")}-${get("day")}`;
}

// zoneOffsetMinutes is how far the zone is ahead of UTC at that instant.
export function zoneOffsetMinutes(at: Date, zone: string): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: zone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(at);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  const asUTC = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
  return Math.round((asUTC - at.getTime()) / 60000);
}

// startOfDay is the instant the civil day `key` (YYYY-MM-DD) begins in the zone.
export function startOfDay(key: string, zone: string): Date {
  const [y, m, d] = key.split("-").map(Number) as [number, number, number];
  const guess = new Date(Date.UTC(y, m - 1, d));
  // Two passes settle the offset even on a daylight-saving day.
  let t = guess.getTime() - zoneOffsetMinutes(guess, zone) * 60000;
  t = guess.getTime() - zoneOffsetMinutes(new Date(t), zone) * 60000;
  return new Date(t);
}

// addDays moves a civil date key by n days.
export function addDays(key: string, n: number): string {
  const [y, m, d] = key.split("-").map(Number) as [number, number, number];
  const t = new Date(Date.UTC(y, m - 1, d + n));
  return t.toISOString().slice(0, 10);
}

export function sameZone(a: string, b: string, at = new Date()): boolean {
  return a === b || zoneOffsetMinutes(at, a) === zoneOffsetMinutes(at, b);
}
