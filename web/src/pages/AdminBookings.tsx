// Every booking, filtered by doctor, status and day, each linked to its page and to its
// workflow in the Temporal Web UI. The filters live in the URL, so a reload or a shared link
// shows the same list.
import { useEffect, useState } from "react";
import { Link, useSearchParams } from "react-router-dom";
import type { Booking, BookingStatus } from "../api/client";
import { addDays, browserZone, dayKey, formatDateTime, startOfDay } from "../time";
import { Empty, ErrorMessage, Loading, StatusBadge, statusLabel } from "../ui";
import { bookingStatuses, fetchBookingPage, useCatalog, useNarrow, type BookingQuery } from "../components/StaffData";

const isStatus = (v: string | null): v is BookingStatus => !!v && (bookingStatuses as string[]).includes(v);
const isDay = (v: string | null): v is string => !!v && /^\d{4}-\d{2}-\d{2}$/.test(v);

const pageSize = 25;

// Links leads to the booking's page and, for admins, to its workflow in the Temporal Web UI.
function Links({ b, when }: { b: Booking; when: string }) {
  return (
    <ul className="staff-links">
      <li>
        <Link to={`/bookings/${b.id}`}>
          Details<span className="sr-only"> of the booking on {when}</span>
        </Link>
      </li>
      {b.workflow_url && (
        <li>
          <a href={b.workflow_url} target="_blank" rel="noopener noreferrer">
            Workflow<span className="sr-only"> of the booking on {when} in the Temporal Web UI (opens in a new tab)</span>
          </a>
        </li>
      )}
    </ul>
  );
}

export default function AdminBookings() {
  const [params, setParams] = useSearchParams();
  const narrow = useNarrow();
  const { catalog, error: catalogError } = useCatalog();
  const doctor = params.get("doctor") ?? "";
  const rawStatus = params.get("status");
  const status = isStatus(rawStatus) ? rawStatus : undefined;
  const rawDay = params.get("day");
  const day = isDay(rawDay) ? rawDay : "";
  // Without a day, the list starts today unless earlier bookings are asked for.
  const past = params.get("past") === "1";

  const provider = doctor ? catalog?.providerById.get(doctor) : undefined;
  // The day's bounds are the chosen doctor's day, or the browser's when no doctor is chosen.
  const zone = provider?.time_zone ?? browserZone;
  // With a doctor chosen, wait for the catalog to know their zone before asking.
  const ready = !doctor || !!catalog || !!catalogError;

  const [rows, setRows] = useState<Booking[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [more, setMore] = useState(false);
  const [moreError, setMoreError] = useState<unknown>(null);

  const query: BookingQuery = {};
  if (doctor) query.provider_id = doctor;
  if (status) query.status = status;
  if (day) {
    query.from = startOfDay(day, zone).toISOString();
    query.to = startOfDay(addDays(day, 1), zone).toISOString();
  } else if (!past) {
    query.from = startOfDay(dayKey(new Date(), zone), zone).toISOString();
  }
  const queryKey = JSON.stringify(query);

  useEffect(() => {
    if (!ready) return;
    let live = true;
    setRows(null);
    setNext(null);
    setError(null);
    setMoreError(null);
    fetchBookingPage(JSON.parse(queryKey) as BookingQuery, undefined, pageSize)
      .then((p) => {
        if (!live) return;
        setRows(p.bookings);
        setNext(p.next);
      })
      .catch((e: unknown) => live && setError(e));
    return () => {
      live = false;
    };
  }, [queryKey, ready]);

  const loadMore = async () => {
    if (!next) return;
    setMore(true);
    setMoreError(null);
    try {
      const p = await fetchBookingPage(query, next, pageSize);
      setRows((r) => [...(r ?? []), ...p.bookings]);
      setNext(p.next);
    } catch (e) {
      setMoreError(e);
    } finally {
      setMore(false);
    }
  };

  const setFilter = (key: string, value: string) => {
    const p = new URLSearchParams(params);
    if (value) p.set(key, value);
    else p.delete(key);
    setParams(p, { replace: true });
  };

  const doctorName = (id: string) => catalog?.providerById.get(id)?.name ?? "Unknown doctor";
  const serviceName = (id: string) => catalog?.serviceById.get(id)?.name ?? "Unknown service";
  const zoneNote = provider
    ? `${zone}, ${provider.name}'s time zone`
    : `${zone}, your browser's time zone${doctor ? "" : " (choose a doctor to use theirs)"}`;
  const filtered = !!(doctor || status || day || past);

  return (
    <>
      <h1>Bookings</h1>
      <form className="filters" aria-label="Filter bookings" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="f-doctor">Doctor</label>
          <select id="f-doctor" value={doctor} onChange={(e) => setFilter("doctor", e.target.value)}>
            <option value="">All doctors</option>
            {catalog?.providers.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
            {doctor && catalog && !provider && <option value={doctor}>Unknown doctor</option>}
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-status">Status</label>
          <select id="f-status" value={status ?? ""} onChange={(e) => setFilter("status", e.target.value)}>
            <option value="">Any status</option>
            {bookingStatuses.map((s) => (
              <option key={s} value={s}>
                {statusLabel[s]}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-day">Day</label>
          <input
            id="f-day"
            type="date"
            value={day}
            aria-describedby="f-day-hint"
            onChange={(e) => setFilter("day", e.target.value)}
          />
        </div>
        {!day && (
          <div className="field staff-check">
            <label>
              <input type="checkbox" checked={past} onChange={(e) => setFilter("past", e.target.checked ? "1" : "")} />{" "}
              Include earlier days
            </label>
          </div>
        )}
        {filtered && (
          <div className="field">
            <button type="button" className="secondary" onClick={() => setParams(new URLSearchParams(), { replace: true })}>
              Clear filters
            </button>
          </div>
        )}
      </form>
      <p className="hint" id="f-day-hint">
        {day ? "" : past ? "All days. " : "From today on; choose a day to see another. "}
        Days and times are in {zoneNote}.
      </p>

      <ErrorMessage error={catalogError} />
      <ErrorMessage error={error} />
      {rows === null && !error && <Loading what="Loading bookings" />}
      {rows !== null && rows.length === 0 && (
        <Empty>{filtered ? "No bookings match these filters." : "There are no bookings yet."}</Empty>
      )}
      {rows !== null && rows.length > 0 && (
        <>
          <p className="staff-summary" role="status">
            Showing {rows.length} {rows.length === 1 ? "booking" : "bookings"}
            {next ? "; more are available" : ""}.
          </p>
          {narrow ? (
            <ul className="cards staff-cards">
              {rows.map((b) => {
                const when = formatDateTime(b.start, zone);
                return (
                  <li key={b.id} className="card booking-card">
                    <h2 className="staff-card-title">
                      <time dateTime={b.start}>{when}</time>
                    </h2>
                    <dl className="staff-facts">
                      <div>
                        <dt>Doctor</dt>
                        <dd>{doctorName(b.provider_id)}</dd>
                      </div>
                      <div>
                        <dt>Patient</dt>
                        <dd>{b.patient_name ?? <span className="muted">Not shown</span>}</dd>
                      </div>
                      <div>
                        <dt>Service</dt>
                        <dd>{serviceName(b.service_id)}</dd>
                      </div>
                      <div>
                        <dt>Status</dt>
                        <dd>
                          <StatusBadge status={b.status} />
                        </dd>
                      </div>
                    </dl>
                    <Links b={b} when={when} />
                  </li>
                );
              })}
            </ul>
          ) : (
            <div className="table-wrap" role="region" aria-label="Bookings" tabIndex={0}>
              <table className="staff-table">
                <thead>
                  <tr>
                    <th scope="col">Time</th>
                    <th scope="col">Doctor</th>
                    <th scope="col">Patient</th>
                    <th scope="col">Service</th>
                    <th scope="col">Status</th>
                    <th scope="col">Links</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((b) => {
                    const when = formatDateTime(b.start, zone);
                    return (
                      <tr key={b.id}>
                        <th scope="row" className="nowrap">
                          <time dateTime={b.start}>{when}</time>
                        </th>
                        <td>{doctorName(b.provider_id)}</td>
                        <td>{b.patient_name ?? <span className="muted">Not shown</span>}</td>
                        <td>{serviceName(b.service_id)}</td>
                        <td>
                          <StatusBadge status={b.status} />
                        </td>
                        <td>
                          <Links b={b} when={when} />
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )}
          <ErrorMessage error={moreError} />
          {next && (
            <div className="actions">
              <button type="button" className="secondary" onClick={() => void loadMore()} disabled={more}>
                {more ? "Loading…" : "Load more"}
              </button>
            </div>
          )}
        </>
      )}
    </>
  );
}
