// The doctor's appointments, today or this week, in the doctor's own time zone: who comes when
// for what, checking patients in, and the no-shows.
import { useCallback, useEffect, useRef, useState } from "react";
import { Link } from "react-router-dom";
import { api, ApiError, describe, must, type Booking, type Provider } from "../api/client";
import { useSession } from "../auth";
import { addDays, dayKey, formatDay, formatTime, startOfDay } from "../time";
import { Empty, ErrorMessage, Loading, StatusBadge } from "../ui";
import { fetchAllBookings, providerIdOf, useCatalog } from "../components/StaffData";

type Period = "today" | "week";

// weekdayOf is the day of the week (0 = Sunday) of a civil date key.
function weekdayOf(key: string): number {
  return new Date(`${key}T12:00:00Z`).getUTCDay();
}

// rangeOf is the civil days a period covers in the zone: today, or Monday to Sunday of this
// week (or of the week `weeks` after it).
function rangeOf(period: Period, zone: string, weeks = 0): { days: string[]; from: Date; to: Date } {
  const today = dayKey(new Date(), zone);
  const first = period === "today" ? today : addDays(today, 7 * weeks - ((weekdayOf(today) + 6) % 7));
  const n = period === "today" ? 1 : 7;
  const days = Array.from({ length: n }, (_, i) => addDays(first, i));
  return { days, from: startOfDay(first, zone), to: startOfDay(addDays(first, n), zone) };
}

function checkInProblem(err: unknown): string {
  if (err instanceof ApiError && err.status === 409) {
    const detail = err.problem?.detail ?? "";
    if (/opens/i.test(detail)) {
      return `Too early to check in: ${detail.replace(/1h0m0s/, "one hour")}.`;
    }
    return `This appointment cannot be checked in now. ${detail}`.trim();
  }
  return `Check-in failed. ${describe(err)}`;
}

function Appointment({
  b,
  zone,
  serviceName,
  onChange,
}: {
  b: Booking;
  zone: string;
  serviceName: string;
  onChange: (b: Booking) => void;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const when = `${formatTime(b.start, zone)}–${formatTime(b.end, zone)}`;
  const who = b.patient_name ?? "Patient";
  const checkIn = async () => {
    setBusy(true);
    setError(null);
    try {
      const next = await must(api.POST("/v1/bookings/{id}/check-in", { params: { path: { id: b.id } } }));
      onChange({ ...b, ...next });
      setDone(true);
    } catch (e) {
      setError(checkInProblem(e));
    } finally {
      setBusy(false);
    }
  };
  const noShow = b.status === "no_show";
  // Check-in is offered on the day (and for one starting soon after midnight); the API decides.
  const canCheckIn =
    b.status === "confirmed" &&
    (dayKey(b.start, zone) <= dayKey(new Date(), zone) || Date.parse(b.start) - Date.now() < 2 * 3600_000);
  return (
    <li className={`card appt${noShow ? " appt-no-show" : ""}`}>
      <div className="appt-main">
        <h3 className="appt-head">
          <span className="appt-time">{when}</span> <span className="appt-who">{who}</span>
        </h3>
        <div className="row">
          <span>{serviceName}</span>
          <StatusBadge status={b.status} />
          {noShow && <span className="appt-flag">Did not come</span>}
        </div>
      </div>
      <div className="actions appt-actions">
        {canCheckIn && (
          <button type="button" onClick={() => void checkIn()} disabled={busy}>
            {busy ? "Checking in…" : "Check in"}
            <span className="sr-only">
              {" "}
              {who} at {formatTime(b.start, zone)}
            </span>
          </button>
        )}
        <Link to={`/bookings/${b.id}`} className="button secondary">
          Details<span className="sr-only"> of {who} at {formatTime(b.start, zone)}</span>
        </Link>
      </div>
      {error && (
        <div className="alert alert-error" role="alert">
          <p>{error}</p>
        </div>
      )}
      {done && b.status === "checked_in" && (
        <p className="appt-ok" role="status">
          {who} is checked in.
        </p>
      )}
    </li>
  );
}

export default function DoctorDay() {
  const { user } = useSession();
  const providerId = providerIdOf(user);
  const { catalog, error: catalogError } = useCatalog();
  const [provider, setProvider] = useState<Provider | null>(null);
  const [providerError, setProviderError] = useState<unknown>(null);
  const [period, setPeriod] = useState<Period>("today");
  const [weeks, setWeeks] = useState(0);
  const [bookings, setBookings] = useState<Booking[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [version, setVersion] = useState(0);
  const [updated, setUpdated] = useState<Date | null>(null);
  const shownRange = useRef("");

  useEffect(() => {
    if (!providerId) return;
    let live = true;
    must(api.GET("/v1/providers/{id}", { params: { path: { id: providerId } } }))
      .then((p) => live && setProvider(p))
      .catch((e: unknown) => live && setProviderError(e));
    return () => {
      live = false;
    };
  }, [providerId]);

  const zone = provider?.time_zone;
  useEffect(() => {
    if (!providerId || !zone) return;
    let live = true;
    const { from, to } = rangeOf(period, zone, weeks);
    // Another period starts empty; a refresh of the same one keeps the list (and any message on
    // it) in place until the new answer is there.
    const range = `${period}:${weeks}`;
    if (shownRange.current !== range) {
      shownRange.current = range;
      setBookings(null);
    }
    setError(null);
    fetchAllBookings({ provider_id: providerId, from: from.toISOString(), to: to.toISOString() })
      .then((bs) => {
        if (!live) return;
        setBookings(bs);
        setUpdated(new Date());
      })
      .catch((e: unknown) => live && setError(e));
    return () => {
      live = false;
    };
  }, [providerId, zone, period, weeks, version]);

  // No-shows and check-ins elsewhere appear without a reload.
  useEffect(() => {
    const t = window.setInterval(() => setVersion((v) => v + 1), 60_000);
    return () => window.clearInterval(t);
  }, []);

  const replace = useCallback(
    (next: Booking) => setBookings((bs) => bs?.map((b) => (b.id === next.id ? next : b)) ?? null),
    [],
  );

  if (!providerId) {
    return (
      <>
        <h1>Appointments</h1>
        <div className="alert alert-error" role="alert">
          <p>This login is not linked to a doctor, so there are no appointments to show. Ask the clinic's admin.</p>
        </div>
      </>
    );
  }

  const heading = <h1>Appointments{provider ? ` of ${provider.name}` : ""}</h1>;
  if (providerError) {
    return (
      <>
        {heading}
        <ErrorMessage error={providerError} />
      </>
    );
  }
  if (!provider || !zone) {
    return (
      <>
        {heading}
        <Loading what="Loading your appointments" />
      </>
    );
  }

  const { days } = rangeOf(period, zone, weeks);
  const inRange = new Set(days);
  const shown = (bookings ?? []).filter((b) => b.status !== "expired" && inRange.has(dayKey(b.start, zone)));
  const byDay = new Map<string, Booking[]>();
  for (const b of shown) {
    const k = dayKey(b.start, zone);
    byDay.set(k, [...(byDay.get(k) ?? []), b]);
  }
  const noShows = shown.filter((b) => b.status === "no_show").length;
  const cancelled = shown.filter((b) => b.status === "cancelled").length;
  const active = shown.length - cancelled;
  const dateLabel = (k: string, withYear = false) =>
    new Intl.DateTimeFormat(undefined, {
      day: "numeric",
      month: "long",
      ...(withYear ? { year: "numeric" } : {}),
      timeZone: "UTC",
    }).format(new Date(`${k}T12:00:00Z`));
  const weekLabel = `${dateLabel(days[0]!)} – ${dateLabel(days[days.length - 1]!, true)}`;
  const periodLabel = period === "today" ? "Today" : weeks === 0 ? "This week" : `Week of ${dateLabel(days[0]!)}`;
  const serviceName = (id: string) => catalog?.serviceById.get(id)?.name ?? (catalogError ? "Service" : "…");
  const today = dayKey(new Date(), zone);

  return (
    <>
      {heading}
      <p className="muted">
        Times are in {zone}. Check-in opens shortly before an appointment; patients not checked in soon after
        their start are marked as no-shows.
      </p>
      <div className="row staff-toolbar">
        <div className="toggle" role="group" aria-label="Show appointments for">
          <button type="button" aria-pressed={period === "today"} onClick={() => setPeriod("today")}>
            Today
          </button>
          <button
            type="button"
            aria-pressed={period === "week" && weeks === 0}
            onClick={() => {
              setPeriod("week");
              setWeeks(0);
            }}
          >
            This week
          </button>
        </div>
        <button type="button" className="secondary" onClick={() => setVersion((v) => v + 1)}>
          Refresh
        </button>
        {updated && <span className="muted">Updated at {formatTime(updated.toISOString(), zone)}</span>}
      </div>

      {period === "week" && (
        <div className="staff-week-nav">
          <button type="button" className="secondary" onClick={() => setWeeks((w) => w - 1)}>
            <span aria-hidden="true">← </span>Previous week
          </button>
          <p className="staff-week-range" aria-live="polite">
            <span className="sr-only">Showing </span>
            {weekLabel}
          </p>
          <button type="button" className="secondary" onClick={() => setWeeks((w) => w + 1)}>
            Next week<span aria-hidden="true"> →</span>
          </button>
        </div>
      )}

      <ErrorMessage error={error} />
      {bookings === null && !error && <Loading what="Loading your appointments" />}
      {bookings !== null && (
        <>
          <p className="staff-summary" role="status">
            {periodLabel}: {active} {active === 1 ? "appointment" : "appointments"}
            {", "}
            <span className={noShows > 0 ? "no-show-count" : undefined}>
              {noShows} {noShows === 1 ? "no-show" : "no-shows"}
            </span>
            {cancelled > 0 && `, ${cancelled} cancelled`}
          </p>
          {days.map((k) => {
            const list = byDay.get(k) ?? [];
            if (period === "week" && list.length === 0) return null;
            return (
              <section key={k} aria-labelledby={`day-${k}`}>
                <h2 id={`day-${k}`}>
                  {formatDay(startOfDay(k, zone), zone)}
                  {k === today && period === "week" ? " (today)" : ""}
                </h2>
                {list.length === 0 ? (
                  <Empty>No appointments {k === today ? "today" : "on this day"}.</Empty>
                ) : (
                  <ul className="cards">
                    {list.map((b) => (
                      <Appointment
                        key={b.id}
                        b={b}
                        zone={zone}
                        serviceName={serviceName(b.service_id)}
                        onChange={replace}
                      />
                    ))}
                  </ul>
                )}
              </section>
            );
          })}
          {period === "week" && shown.length === 0 && (
            <Empty>No appointments {weeks === 0 ? "this week" : "that week"}.</Empty>
          )}
        </>
      )}
    </>
  );
}
