// Book: choose a service and a doctor, pick a free time from a week in the patient's own time
// zone, hold it (the hold's countdown visible) and confirm it. Browsing is public; holding a
// time needs a login, which brings the patient back to the same choice.
import { useEffect, useRef, useState } from "react";
import { Link, useLocation, useNavigationType, useSearchParams } from "react-router-dom";
import { api, must, type Booking, type Provider, type Service, type Slot } from "../api/client";
import { useRestored, useSession } from "../auth";
import { useCatalog } from "../components/catalog";
import { FocusHere, focusById } from "../components/FocusHere";
import { HoldCountdown } from "../components/HoldCountdown";
import { classify, humane, newKey, retryable, type BookingProblem } from "../components/problems";
import { sameInstant, slotLabel, today, weekOf, WeekSlots } from "../components/WeekSlots";
import { browserZone, formatDateTime, formatTime, sameZone } from "../time";
import { ErrorMessage, Loading } from "../ui";

type Choice = { service: string | null; provider: string | null; week: string; start: string | null };
type Phase = { kind: "choose" } | { kind: "held"; booking: Booking } | { kind: "confirmed"; booking: Booking };
type Problem = { error: unknown; kind: BookingProblem; retry?: () => void; n: number };

export default function Book() {
  const [params, setParams] = useSearchParams();
  const location = useLocation();
  const restored = useRestored();
  const { user } = useSession();
  const { catalog, error: catalogError, retry: retryCatalog, provider, service } = useCatalog();

  // The choice lives here and is mirrored into the address, so that the login page can bring
  // the patient back to it (?next=) and a reload keeps it. An address reached by a link (the
  // nav's "Book", plain /book) or by back and forward is adopted instead: only this page's own
  // mirroring replaces the entry.
  const navigationType = useNavigationType();
  const [choice, setChoice] = useState<Choice>(() => choiceOf(params));
  const seenKey = useRef(location.key);
  const { service: serviceId, provider: providerId, week, start } = choice;
  useEffect(() => {
    if (location.key !== seenKey.current) {
      seenKey.current = location.key;
      if (navigationType !== "REPLACE") {
        setChoice(choiceOf(params));
        return;
      }
    }
    const next = queryOf(choice);
    if (next.toString() !== params.toString()) setParams(next, { replace: true });
  }, [choice, params, setParams, location.key, navigationType]);
  const chosenService = service(serviceId);
  const chosenProvider = provider(providerId);

  const [slots, setSlots] = useState<Slot[] | null>(null);
  const [reloadKey, setReloadKey] = useState(0);
  const [slotNotice, setSlotNotice] = useState<{ text: string; n: number } | null>(null);
  const [phase, setPhase] = useState<Phase>({ kind: "choose" });
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [released, setReleased] = useState<number | null>(null);
  // One Idempotency-Key per attempt, kept while the same attempt is retried.
  const holdKey = useRef<{ sig: string; key: string } | null>(null);
  const confirmKey = useRef<{ id: string; key: string } | null>(null);

  const selected = slots?.find((s) => sameInstant(s.start, start)) ?? null;
  const query = queryOf(choice).toString();
  const here = `${location.pathname}${query ? `?${query}` : ""}`;

  function update(changes: Partial<Choice>) {
    setChoice((c) => ({ ...c, ...changes }));
  }

  function chooseService(id: string) {
    setSlots(null);
    setProblem(null);
    update({ service: id, start: null });
  }
  function chooseProvider(id: string) {
    setSlots(null);
    setProblem(null);
    update({ provider: id, start: null });
  }

  function pick(slot: Slot) {
    setProblem(null);
    setSlotNotice(null);
    setReleased(null);
    update({ start: slot.start });
    focusById("choice-h");
  }

  function onLoaded(list: Slot[]) {
    setSlots(list);
    if (start && !list.some((s) => sameInstant(s.start, start))) {
      update({ start: null });
      setSlotNotice({
        text: `The time you picked, ${formatDateTime(start)}, is no longer free. Please choose another.`,
        n: Date.now(),
      });
    }
  }

  // slotGone: the chosen time cannot be had; say so in place and show the times free now.
  function slotGone(text: string) {
    setPhase({ kind: "choose" });
    update({ start: null });
    setSlots(null);
    setSlotNotice({ text, n: Date.now() });
    setReloadKey((k) => k + 1);
  }

  async function hold() {
    if (!selected || !serviceId || !providerId) return;
    const sig = `${providerId}|${serviceId}|${selected.start}`;
    if (holdKey.current?.sig !== sig) holdKey.current = { sig, key: newKey() };
    const key = holdKey.current.key;
    setBusy(true);
    setProblem(null);
    try {
      const b = await must(
        api.POST("/v1/bookings", {
          params: { header: { "Idempotency-Key": key } },
          body: { provider_id: providerId, service_id: serviceId, start: selected.start },
        }),
      );
      holdKey.current = null;
      setPhase({ kind: "held", booking: b });
      focusById("held-h");
    } catch (e) {
      if (!retryable(e)) holdKey.current = null;
      const kind = classify(e, "hold");
      if (kind === "taken") slotGone("That time was just taken by someone else. Here are the times that are free now.");
      else if (kind === "not-offered") slotGone("That time is no longer offered. Here are the times that are free now.");
      else setProblem({ error: humaneBooking(e, kind), kind, retry: retryable(e) ? () => void hold() : undefined, n: Date.now() });
    } finally {
      setBusy(false);
    }
  }

  function lapsed(b: Booking) {
    slotGone(
      `Your hold on ${formatDateTime(b.start)} lapsed before it was confirmed, so the time was released. Please choose a time again.`,
    );
  }

  async function confirm(b: Booking) {
    if (confirmKey.current?.id !== b.id) confirmKey.current = { id: b.id, key: newKey() };
    const key = confirmKey.current.key;
    setBusy(true);
    setProblem(null);
    try {
      const done = await must(
        api.POST("/v1/bookings/{id}/confirm", { params: { path: { id: b.id }, header: { "Idempotency-Key": key } } }),
      );
      confirmKey.current = null;
      setPhase({ kind: "confirmed", booking: done });
      focusById("done-h");
    } catch (e) {
      if (!retryable(e)) confirmKey.current = null;
      const kind = classify(e, "confirm");
      if (kind === "hold-expired") lapsed(b);
      else setProblem({ error: humaneBooking(e, kind), kind, retry: retryable(e) ? () => void confirm(b) : undefined, n: Date.now() });
    } finally {
      setBusy(false);
    }
  }

  async function letGo(b: Booking) {
    setBusy(true);
    setProblem(null);
    try {
      await must(api.POST("/v1/bookings/{id}/cancel", { params: { path: { id: b.id } }, body: {} }));
      setPhase({ kind: "choose" });
      update({ start: null });
      setSlots(null);
      setReloadKey((k) => k + 1);
      setReleased(Date.now());
    } catch (e) {
      const kind = classify(e, "confirm");
      if (kind === "hold-expired") lapsed(b);
      else setProblem({ error: humane(e), kind, retry: retryable(e) ? () => void letGo(b) : undefined, n: Date.now() });
    } finally {
      setBusy(false);
    }
  }

  function again() {
    setPhase({ kind: "choose" });
    setProblem(null);
    setSlotNotice(null);
    update({ start: null });
    setSlots(null);
    setReloadKey((k) => k + 1);
    focusById("times-h");
  }

  const problemBox = problem && (
    <FocusHere focusKey={problem.n}>
      <ErrorMessage error={problem.error}>
        {problem.kind === "verification" && (
          <p>
            <Link to={`/verify?next=${encodeURIComponent(here)}`}>Verify your email or phone</Link>, then come back to
            book this time.
          </p>
        )}
        {problem.retry && (
          <button type="button" className="secondary" onClick={problem.retry} disabled={busy}>
            Try again
          </button>
        )}
      </ErrorMessage>
    </FocusHere>
  );

  if (phase.kind === "held" || phase.kind === "confirmed") {
    const b = phase.booking;
    const what = <Summary booking={b} provider={provider(b.provider_id)} service={service(b.service_id)} />;
    return (
      <>
        <h1>Book an appointment</h1>
        {phase.kind === "held" ? (
          <section aria-labelledby="held-h" className="panel">
            <h2 id="held-h" tabIndex={-1}>
              Confirm your appointment
            </h2>
            {what}
            {b.hold_expires_at && <HoldCountdown until={b.hold_expires_at} onExpire={() => lapsed(b)} />}
            {problemBox}
            <div className="actions">
              <button type="button" onClick={() => void confirm(b)} disabled={busy}>
                {busy ? "Working…" : "Confirm appointment"}
              </button>
              <button type="button" className="secondary" onClick={() => void letGo(b)} disabled={busy}>
                Let it go
              </button>
            </div>
          </section>
        ) : (
          <section aria-labelledby="done-h" className="panel panel-success">
            <h2 id="done-h" tabIndex={-1}>
              Your appointment is confirmed
            </h2>
            {what}
            <p>We are sending the confirmation to your verified email and phone.</p>
            <ul className="links">
              <li>
                <Link to={`/bookings/${b.id}`}>See this booking and its messages</Link>
              </li>
              <li>
                <Link to="/bookings">My bookings</Link>
              </li>
            </ul>
            <div className="actions">
              <button type="button" className="secondary" onClick={again}>
                Book another appointment
              </button>
            </div>
          </section>
        )}
      </>
    );
  }

  return (
    <>
      <h1>Book an appointment</h1>
      {catalogError ? (
        <ErrorMessage error={catalogError}>
          <button type="button" className="secondary" onClick={retryCatalog}>
            Try again
          </button>
        </ErrorMessage>
      ) : null}
      {!catalog && !catalogError && <Loading what="Loading doctors and services" />}
      {catalog && (
        <>
          <form className="choices" onSubmit={(e) => e.preventDefault()}>
            <fieldset>
              <legend>
                <h2>Service</h2>
              </legend>
              {catalog.services.length === 0 ? (
                <p className="empty">The clinic offers no services yet.</p>
              ) : (
                <ul className="options">
                  {catalog.services.map((s) => (
                    <li key={s.id}>
                      <label className="option">
                        <input
                          type="radio"
                          name="service"
                          value={s.id}
                          checked={serviceId === s.id}
                          onChange={() => chooseService(s.id)}
                        />
                        <span>
                          <strong>{s.name}</strong>
                          <span className="muted"> · {s.duration_minutes} minutes</span>
                        </span>
                      </label>
                    </li>
                  ))}
                </ul>
              )}
            </fieldset>
            <fieldset>
              <legend>
                <h2>Doctor</h2>
              </legend>
              {catalog.providers.length === 0 ? (
                <p className="empty">No doctors are listed yet.</p>
              ) : (
                <ul className="options">
                  {catalog.providers.map((p) => (
                    <li key={p.id}>
                      <label className="option">
                        <input
                          type="radio"
                          name="provider"
                          value={p.id}
                          checked={providerId === p.id}
                          onChange={() => chooseProvider(p.id)}
                        />
                        <span>
                          <strong>{p.name}</strong>
                          {p.specialty && <span className="block muted">{p.specialty}</span>}
                          <span className="block muted">Time zone: {p.time_zone}</span>
                        </span>
                      </label>
                    </li>
                  ))}
                </ul>
              )}
            </fieldset>
          </form>

          <section aria-labelledby="times-h">
            <h2 id="times-h">Free times</h2>
            {released && (
              <FocusHere focusKey={released}>
                <div className="alert alert-info" role="status">
                  <p>You let the time go; it is free for others again.</p>
                </div>
              </FocusHere>
            )}
            {slotNotice && (
              <FocusHere focusKey={slotNotice.n}>
                <div className="alert alert-warning" role="alert">
                  <p>{slotNotice.text}</p>
                </div>
              </FocusHere>
            )}
            {chosenService && chosenProvider ? (
              <WeekSlots
                provider={chosenProvider}
                serviceId={chosenService.id}
                week={week}
                onWeekChange={(w) => {
                  setSlots(null);
                  update({ week: w, start: null });
                }}
                onPick={pick}
                selected={start}
                reloadKey={reloadKey}
                onLoaded={onLoaded}
              />
            ) : (
              <p className="muted">Choose a service and a doctor to see their free times.</p>
            )}
          </section>

          {selected && chosenService && chosenProvider && (
            <section aria-labelledby="choice-h" className="panel">
              <h2 id="choice-h" tabIndex={-1}>
                Your choice
              </h2>
              <ChosenTime slot={selected} provider={chosenProvider} service={chosenService} />
              {problemBox}
              {!restored ? (
                <Loading what="Checking your session" />
              ) : !user ? (
                <>
                  <p>Log in or create an account to book this time. We will bring you back here.</p>
                  <div className="actions">
                    <Link className="button" to={`/login?next=${encodeURIComponent(here)}`}>
                      Log in to book
                    </Link>
                    <Link className="button secondary" to={`/register?next=${encodeURIComponent(here)}`}>
                      Create an account
                    </Link>
                  </div>
                </>
              ) : user.role !== "patient" ? (
                <p>
                  You are logged in as {user.role === "admin" ? "an admin" : "a doctor"}. Appointments are booked here by
                  patients with their own login.
                </p>
              ) : (
                <div className="actions">
                  <button type="button" onClick={() => void hold()} disabled={busy}>
                    {busy ? "Booking…" : "Book this time"}
                  </button>
                </div>
              )}
            </section>
          )}
        </>
      )}
    </>
  );
}

function choiceOf(q: URLSearchParams): Choice {
  return {
    service: q.get("service"),
    provider: q.get("provider"),
    week: weekOf(q.get("week")),
    start: q.get("start"),
  };
}

function queryOf(c: Choice): URLSearchParams {
  const q = new URLSearchParams();
  if (c.service) q.set("service", c.service);
  if (c.provider) q.set("provider", c.provider);
  if (c.week !== today()) q.set("week", c.week);
  if (c.start) q.set("start", c.start);
  return q;
}

// humaneBooking words the problems of a hold or confirm for the patient.
function humaneBooking(e: unknown, kind: BookingProblem): unknown {
  if (kind === "verification") {
    return new Error("Before you can book, please verify your email address or phone number.");
  }
  return humane(e);
}

function ChosenTime({ slot, provider, service }: { slot: Slot; provider: Provider; service: Service }) {
  return (
    <>
      <p className="big">
        <strong>{slotLabel(slot)}</strong>
      </p>
      <p>
        {service.name} with {provider.name}
        {!sameZone(browserZone, provider.time_zone) && (
          <>
            {" "}
            (that is {formatTime(slot.start, provider.time_zone)} in {provider.time_zone}, the doctor's time zone)
          </>
        )}
        .
      </p>
    </>
  );
}

function Summary({ booking, provider, service }: { booking: Booking; provider?: Provider; service?: Service }) {
  return (
    <dl className="facts">
      <div>
        <dt>When</dt>
        <dd>
          {formatDateTime(booking.start)} – {formatTime(booking.end)}{" "}
          <span className="muted">({browserZone})</span>
          {provider && !sameZone(browserZone, provider.time_zone) && (
            <span className="block muted">
              {formatTime(booking.start, provider.time_zone)} in {provider.time_zone}, the doctor's time zone
            </span>
          )}
        </dd>
      </div>
      <div>
        <dt>Doctor</dt>
        <dd>{provider?.name ?? "—"}</dd>
      </div>
      <div>
        <dt>Service</dt>
        <dd>{service?.name ?? "—"}</dd>
      </div>
    </dl>
  );
}
