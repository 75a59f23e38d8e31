// My bookings: the patient's appointments, upcoming first (soonest at the top), then past ones,
// each paged by the API's cursor, each linking to its page with the timeline.
import { useCallback, useEffect, useRef, useState, type ReactNode } from "react";
import { Link } from "react-router-dom";
import { api, must, type Booking } from "../api/client";
import { useCatalog } from "../components/catalog";
import { browserZone, formatDateTime, formatTime } from "../time";
import { Empty, ErrorMessage, Loading, StatusBadge } from "../ui";

type List = { bookings: Booking[]; cursor: string | null; loading: boolean; error: unknown };

const PAGE = 20;

// useBookings pages through GET /v1/bookings with one side of `since` (from, or to).
function useBookings(side: "from" | "to", since: string) {
  const [list, setList] = useState<List>({ bookings: [], cursor: null, loading: true, error: null });
  const seq = useRef(0);
  const load = useCallback(
    async (cursor: string | null) => {
      const n = ++seq.current;
      setList((l) => ({ ...l, loading: true, error: null }));
      try {
        const page = await must(
          api.GET("/v1/bookings", {
            params: { query: { [side]: since, limit: PAGE, ...(cursor ? { cursor } : {}) } },
          }),
        );
        if (n !== seq.current) return;
        setList((l) => ({
          bookings: cursor ? [...l.bookings, ...page.bookings] : page.bookings,
          cursor: page.next_cursor,
          loading: false,
          error: null,
        }));
      } catch (e) {
        if (n !== seq.current) return;
        setList((l) => ({ ...l, loading: false, error: e }));
      }
    },
    [side, since],
  );
  useEffect(() => {
    void load(null);
  }, [load]);
  return { ...list, more: () => void load(list.cursor), retry: () => void load(list.bookings.length ? list.cursor : null) };
}

export default function MyBookings() {
  const [now] = useState(() => new Date().toISOString());
  const upcoming = useBookings("from", now);
  const past = useBookings("to", now);
  const { provider, service } = useCatalog();
  const firstLoad = upcoming.loading && past.loading && upcoming.bookings.length === 0 && past.bookings.length === 0;
  const nothing =
    !upcoming.loading && !past.loading && !upcoming.error && !past.error && !upcoming.bookings.length && !past.bookings.length;

  const item = (b: Booking) => {
    const p = provider(b.provider_id);
    const s = service(b.service_id);
    return (
      <li key={b.id} className="card booking-card">
        <h3>
          <Link to={`/bookings/${b.id}`}>
            {formatDateTime(b.start)} – {formatTime(b.end)}
          </Link>
        </h3>
        <p className="row">
          <StatusBadge status={b.status} />
          <span>
            {s?.name ?? "Appointment"} with {p?.name ?? "your doctor"}
          </span>
        </p>
      </li>
    );
  };

  return (
    <>
      <h1>My bookings</h1>
      <p className="muted">Times are shown in your time zone, {browserZone}.</p>
      {firstLoad && <Loading what="Loading your bookings" />}
      {nothing && (
        <Empty>
          No bookings yet — <Link to="/book">book an appointment</Link>.
        </Empty>
      )}
      {!firstLoad && !nothing && (
        <>
          <section aria-labelledby="upcoming-h">
            <h2 id="upcoming-h">Upcoming</h2>
            <Section
              list={upcoming}
              item={item}
              split
              none={
                <>
                  Nothing coming up. <Link to="/book">Book an appointment</Link>.
                </>
              }
            />
          </section>
          <section aria-labelledby="past-h">
            <h2 id="past-h">Past</h2>
            <Section list={past} item={item} none={<>No past appointments.</>} />
          </section>
        </>
      )}
    </>
  );
}

const active = new Set<Booking["status"]>(["held", "confirmed", "checked_in"]);

function Section({
  list,
  item,
  none,
  split = false,
}: {
  list: List & { more: () => void; retry: () => void };
  item: (b: Booking) => ReactNode;
  none: ReactNode;
  // split: cancelled and lapsed bookings go under a disclosure of their own, below the live ones.
  split?: boolean;
}) {
  const shown = split ? list.bookings.filter((b) => active.has(b.status)) : list.bookings;
  const closed = split ? list.bookings.filter((b) => !active.has(b.status)) : [];
  // After "Load more", focus goes to the first booking that came in, so keyboard users carry on there.
  const ul = useRef<HTMLUListElement>(null);
  const focusFrom = useRef<number | null>(null);
  useEffect(() => {
    const i = focusFrom.current;
    if (i === null || list.loading || list.bookings.length <= i) return;
    focusFrom.current = null;
    // Focus the first booking of the new page among those shown in the main list.
    const links = ul.current?.querySelectorAll<HTMLAnchorElement>("li h3 a");
    links?.[Math.min(i, links.length - 1)]?.focus();
  }, [list.bookings.length, list.loading]);
  return (
    <>
      {shown.length > 0 && (
        <ul className="cards" ref={ul}>
          {shown.map(item)}
        </ul>
      )}
      {!list.loading && !list.error && shown.length === 0 && <Empty>{none}</Empty>}
      {closed.length > 0 && (
        <details className="closed-bookings">
          <summary>Cancelled or lapsed ({closed.length})</summary>
          <ul className="cards">{closed.map(item)}</ul>
        </details>
      )}
      {list.error ? (
        <ErrorMessage error={list.error}>
          <button type="button" className="secondary" onClick={list.retry}>
            Try again
          </button>
        </ErrorMessage>
      ) : null}
      {list.loading && list.bookings.length === 0 && <Loading what="Loading bookings" />}
      {list.cursor && !list.error && (
        <div className="actions">
          <button
            type="button"
            className="secondary"
            aria-disabled={list.loading}
            onClick={() => {
              if (list.loading) return;
              focusFrom.current = shown.length;
              list.more();
            }}
          >
            {list.loading ? "Loading…" : "Load more"}
          </button>
        </div>
      )}
    </>
  );
}
