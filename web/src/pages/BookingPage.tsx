// One booking, for whoever may see it (its patient, its doctor, admins): when and with whom,
// its timeline (status changes, messages and their delivery, reminders), and what can be done
// with it: confirm a hold, move it to another free time, cancel it, download the .ics.
import { useCallback, useEffect, useRef, useState } from "react";
import { Link, useParams } from "react-router-dom";
import { api, ApiError, must, type BookingDetail, type BookingEvent, type Slot } from "../api/client";
import { useSession } from "../auth";
import { useCatalog } from "../components/catalog";
import { FocusHere, focusById } from "../components/FocusHere";
import { HoldCountdown } from "../components/HoldCountdown";
import { classify, humane, newKey, plain, retryable } from "../components/problems";
import { slotLabel, today, WeekSlots } from "../components/WeekSlots";
import { browserZone, formatDateTime, formatTime, sameZone } from "../time";
import { ConfirmDialog, ErrorMessage, Field, Loading, Notice, StatusBadge } from "../ui";


type Message = { text: string; n: number; kind: "success" | "info" | "warning" };
type Problem = { error: unknown; n: number; retry?: () => void; rebook?: boolean };

// How long after loading or a change the page keeps asking for news (messages being delivered).
const WATCH_MS = 3 * 60_000;
const POLL_MS = 4_000;

export default function BookingPage() {
  const { id = "" } = useParams();
  const { user } = useSession();
  const { provider, service } = useCatalog();
  const [booking, setBooking] = useState<BookingDetail | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [message, setMessage] = useState<Message | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [cancelOpen, setCancelOpen] = useState(false);
  const [reason, setReason] = useState("");
  const [cancelError, setCancelError] = useState<unknown>(null);
  const [moving, setMoving] = useState(false);
  const [week, setWeek] = useState(today);
  const [newSlot, setNewSlot] = useState<Slot | null>(null);
  const [reloadKey, setReloadKey] = useState(0);
  const [moveNotice, setMoveNotice] = useState<{ text: string; n: number } | null>(null);
  const [moveProblem, setMoveProblem] = useState<Problem | null>(null);
  // One Idempotency-Key per intended command, kept while that same command is retried.
  const keys = useRef<Record<string, { sig: string; key: string }>>({});
  const watchUntil = useRef(Date.now() + WATCH_MS);

  const keyFor = (action: string, sig: string) => {
    const k = keys.current[action];
    if (k && k.sig === sig) return k.key;
    const key = newKey();
    keys.current[action] = { sig, key };
    return key;
  };
  const settle = (action: string, err?: unknown) => {
    if (err === undefined || !retryable(err)) delete keys.current[action];
  };

  const load = useCallback(
    async (quiet = false) => {
      try {
        const b = await must(api.GET("/v1/bookings/{id}", { params: { path: { id } } }));
        setBooking(b);
        setLoadError(null);
      } catch (e) {
        if (!quiet) setLoadError(e);
      }
    },
    [id],
  );

  useEffect(() => {
    setBooking(null);
    setLoadError(null);
    watchUntil.current = Date.now() + WATCH_MS;
    void load();
  }, [load]);

  // Messages are sent and delivered after the page has loaded: keep the timeline current for a
  // while, quietly (the list is not a live region, so nothing is read out on each poll).
  useEffect(() => {
    const t = window.setInterval(() => {
      if (Date.now() < watchUntil.current && document.visibilityState === "visible") void load(true);
    }, POLL_MS);
    return () => window.clearInterval(t);
  }, [load]);

  const changed = (text: string, kind: Message["kind"] = "success") => {
    watchUntil.current = Date.now() + WATCH_MS;
    setMessage({ text, kind, n: Date.now() });
    void load(true);
  };

  if (loadError) {
    const notFound = loadError instanceof ApiError && loadError.status === 404;
    return (
      <>
        <h1>Booking</h1>
        {notFound ? (
          <ErrorMessage error={new Error("There is no such booking, or it is not yours to see.")}>
            <p>
              <Link to="/bookings">Go to my bookings</Link>
            </p>
          </ErrorMessage>
        ) : (
          <ErrorMessage error={loadError}>
            <button type="button" className="secondary" onClick={() => void load()}>
              Try again
            </button>
          </ErrorMessage>
        )}
      </>
    );
  }
  if (!booking) {
    return (
      <>
        <h1>Booking</h1>
        <Loading what="Loading the booking" />
      </>
    );
  }

  const b = booking;
  const p = provider(b.provider_id);
  const s = service(b.service_id);
  const role = user?.role;
  const mayChange = (role === "patient" || role === "admin") && (b.status === "held" || b.status === "confirmed");
  const future = Date.parse(b.start) > Date.now();
  const back = role === "admin" ? ["/admin", "All bookings"] : role === "provider" ? ["/doctor", "Appointments"] : ["/bookings", "My bookings"];
  const rebookLink = `/book?service=${encodeURIComponent(b.service_id)}&provider=${encodeURIComponent(b.provider_id)}`;

  async function confirm() {
    const key = keyFor("confirm", b.id);
    setBusy("confirm");
    setProblem(null);
    try {
      await must(api.POST("/v1/bookings/{id}/confirm", { params: { path: { id: b.id }, header: { "Idempotency-Key": key } } }));
      settle("confirm");
      changed("Your appointment is confirmed. The confirmation is on its way.");
    } catch (e) {
      settle("confirm", e);
      if (classify(e, "confirm") === "hold-expired") {
        setProblem({
          error: new Error("The hold lapsed before it was confirmed, so the time was released."),
          n: Date.now(),
          rebook: true,
        });
        void load(true);
      } else {
        setProblem({ error: humane(e), n: Date.now(), retry: retryable(e) ? () => void confirm() : undefined });
      }
    } finally {
      setBusy(null);
    }
  }

  async function cancel() {
    const body = reason.trim() ? { reason: reason.trim() } : {};
    const key = keyFor("cancel", JSON.stringify(body));
    setBusy("cancel");
    setCancelError(null);
    try {
      await must(
        api.POST("/v1/bookings/{id}/cancel", { params: { path: { id: b.id }, header: { "Idempotency-Key": key } }, body }),
      );
      settle("cancel");
      setCancelOpen(false);
      setReason("");
      setMoving(false);
      changed("The appointment is cancelled, and the time is free for others again.");
    } catch (e) {
      settle("cancel", e);
      setCancelError(humane(e));
    } finally {
      setBusy(null);
    }
  }

  async function move(slot: Slot) {
    const key = keyFor("move", slot.start);
    setBusy("move");
    setMoveProblem(null);
    try {
      const out = await must(
        api.POST("/v1/bookings/{id}/reschedule", {
          params: { path: { id: b.id }, header: { "Idempotency-Key": key } },
          body: { start: slot.start },
        }),
      );
      settle("move");
      setMoving(false);
      setNewSlot(null);
      changed(`Your appointment is moved to ${formatDateTime(out.start)}.`);
    } catch (e) {
      settle("move", e);
      const kind = classify(e, "move");
      if (kind === "taken" || kind === "not-offered") {
        setNewSlot(null);
        setMoveNotice({
          text:
            kind === "taken"
              ? "That time was just taken by someone else. Here are the times that are free now."
              : "That time is no longer offered. Here are the times that are free now.",
          n: Date.now(),
        });
        setReloadKey((k) => k + 1);
      } else {
        setMoveProblem({ error: humane(e), n: Date.now(), retry: retryable(e) ? () => void move(slot) : undefined });
      }
    } finally {
      setBusy(null);
    }
  }

  async function downloadIcs() {
    setBusy("ics");
    setProblem(null);
    try {
      const blob = await fetchCalendar(b.id);
      const url = URL.createObjectURL(blob);
      const a = document.createElement("a");
      a.href = url;
      a.download = `appointment-${b.start.slice(0, 10)}.ics`;
      document.body.appendChild(a);
      a.click();
      a.remove();
      window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (e) {
      setProblem({ error: humane(e), n: Date.now(), retry: retryable(e) ? () => void downloadIcs() : undefined });
    } finally {
      setBusy(null);
    }
  }

  const title = `${s?.name ?? "Appointment"}${p ? ` with ${p.name}` : ""}`;
  const events = [...(b.events ?? [])].sort((x, y) => Date.parse(x.at) - Date.parse(y.at));

  return (
    <>
      <p className="back">
        <Link to={back[0]!}>
          <span aria-hidden="true">← </span>
          {back[1]}
        </Link>
      </p>
      <h1>{title}</h1>
      {message && (
        <FocusHere focusKey={message.n}>
          <Notice kind={message.kind}>
            <p>{message.text}</p>
          </Notice>
        </FocusHere>
      )}
      <dl className="facts">
        <div>
          <dt>Status</dt>
          <dd>
            <StatusBadge status={b.status} />
            {b.late_cancel && <span className="muted"> (cancelled late)</span>}
          </dd>
        </div>
        <div>
          <dt>When</dt>
          <dd>
            {formatDateTime(b.start)} – {formatTime(b.end)} <span className="muted">(your time, {browserZone})</span>
            {p && !sameZone(browserZone, p.time_zone) && (
              <span className="block muted">
                {formatDateTime(b.start, p.time_zone)} – {formatTime(b.end, p.time_zone)} in {p.time_zone}, the doctor's
                time zone
              </span>
            )}
          </dd>
        </div>
        <div>
          <dt>Doctor</dt>
          <dd>
            {p?.name ?? "—"}
            {p?.specialty && <span className="muted"> · {p.specialty}</span>}
          </dd>
        </div>
        <div>
          <dt>Service</dt>
          <dd>
            {s?.name ?? "—"}
            {s && <span className="muted"> · {s.duration_minutes} minutes</span>}
          </dd>
        </div>
        {b.patient_name && (
          <div>
            <dt>Patient</dt>
            <dd>{b.patient_name}</dd>
          </div>
        )}
        {b.notes && (
          <div>
            <dt>Notes</dt>
            <dd>{b.notes}</dd>
          </div>
        )}
        {b.cancel_reason && (
          <div>
            <dt>Reason for cancelling</dt>
            <dd>{b.cancel_reason}</dd>
          </div>
        )}
        {b.revision > 0 && (
          <div>
            <dt>Moved</dt>
            <dd>{b.revision === 1 ? "once" : `${b.revision} times`}</dd>
          </div>
        )}
      </dl>
      {b.workflow_url && (
        <p>
          <a href={b.workflow_url} target="_blank" rel="noopener noreferrer">
            Open in Temporal Web UI<span className="sr-only"> (opens in a new tab)</span>
          </a>
        </p>
      )}

      <section aria-labelledby="manage-h">
        <h2 id="manage-h">Manage</h2>
        {b.status === "held" && b.hold_expires_at && (role === "patient" || role === "admin") && (
          <HoldCountdown
            key={b.hold_expires_at}
            until={b.hold_expires_at}
            onExpire={() => {
              setProblem({
                error: new Error("The hold lapsed before it was confirmed, so the time was released."),
                n: Date.now(),
                rebook: true,
              });
              window.setTimeout(() => void load(true), 1500);
            }}
          />
        )}
        {problem && (
          <FocusHere focusKey={problem.n}>
            <ErrorMessage error={problem.error}>
              {problem.rebook && (
                <p>
                  <Link to={rebookLink}>Choose a new time with the same doctor</Link>
                </p>
              )}
              {problem.retry && (
                <button type="button" className="secondary" onClick={problem.retry} disabled={busy !== null}>
                  Try again
                </button>
              )}
            </ErrorMessage>
          </FocusHere>
        )}
        <div className="actions">
          {b.status === "held" && (role === "patient" || role === "admin") && (
            <button type="button" onClick={() => void confirm()} disabled={busy !== null}>
              {busy === "confirm" ? "Confirming…" : "Confirm appointment"}
            </button>
          )}
          {mayChange && future && (
            <button
              type="button"
              className="secondary"
              aria-expanded={moving}
              aria-controls="move-section"
              onClick={() => {
                const open = !moving;
                setMoving(open);
                setNewSlot(null);
                setMoveNotice(null);
                setMoveProblem(null);
                if (open) focusById("move-h");
              }}
            >
              {moving ? "Keep the current time" : "Reschedule"}
            </button>
          )}
          {mayChange && future && (
            <button
              type="button"
              className="secondary danger-outline"
              onClick={() => {
                setCancelError(null);
                setCancelOpen(true);
              }}
              disabled={busy !== null}
            >
              Cancel appointment
            </button>
          )}
          {b.status !== "expired" && (
            <button type="button" className="secondary" onClick={() => void downloadIcs()} disabled={busy !== null}>
              {busy === "ics" ? "Preparing…" : "Download .ics"}
            </button>
          )}
        </div>
        {!mayChange && (b.status === "cancelled" || b.status === "expired") && (
          <p>
            <Link to={rebookLink}>Book a new time with {p?.name ?? "the same doctor"}</Link>
          </p>
        )}
      </section>

      {moving && p && (
        <section id="move-section" aria-labelledby="move-h">
          <h2 id="move-h" tabIndex={-1}>
            Pick a new time
          </h2>
          <p>
            Now: {formatDateTime(b.start)}. Your current time stays booked until the new one is held.
          </p>
          {moveNotice && (
            <FocusHere focusKey={moveNotice.n}>
              <div className="alert alert-warning" role="alert">
                <p>{moveNotice.text}</p>
              </div>
            </FocusHere>
          )}
          <WeekSlots
            provider={p}
            serviceId={b.service_id}
            week={week}
            onWeekChange={(w) => {
              setWeek(w);
              setNewSlot(null);
            }}
            onPick={(slot) => {
              setNewSlot(slot);
              setMoveProblem(null);
              setMoveNotice(null);
              focusById("move-choice-h");
            }}
            selected={newSlot?.start ?? null}
            reloadKey={reloadKey}
            exclude={b.start}
          />
          {newSlot && (
            <div className="panel" role="group" aria-labelledby="move-choice-h">
              <h3 id="move-choice-h" tabIndex={-1}>
                Move to {slotLabel(newSlot)}?
              </h3>
              {moveProblem && (
                <FocusHere focusKey={moveProblem.n}>
                  <ErrorMessage error={moveProblem.error}>
                    {moveProblem.retry && (
                      <button type="button" className="secondary" onClick={moveProblem.retry} disabled={busy !== null}>
                        Try again
                      </button>
                    )}
                  </ErrorMessage>
                </FocusHere>
              )}
              <div className="actions">
                <button type="button" onClick={() => void move(newSlot)} disabled={busy !== null}>
                  {busy === "move" ? "Moving…" : "Move my appointment"}
                </button>
                <button
                  type="button"
                  className="secondary"
                  onClick={() => {
                    setNewSlot(null);
                    focusById("move-h");
                  }}
                >
                  Choose another time
                </button>
              </div>
            </div>
          )}
        </section>
      )}

      <section aria-labelledby="history-h">
        <h2 id="history-h">History</h2>
        {events.length === 0 ? (
          <p className="empty">Nothing has happened yet.</p>
        ) : (
          <ol className="timeline">
            {events.map((e, i) => {
              const d = describeEvent(e);
              return (
                <li key={`${e.at}-${e.type}-${i}`}>
                  <time dateTime={e.at}>{formatDateTime(e.at)}</time>
                  <span>{d.text}</span>
                  {d.note && <span className="block muted">{d.note}</span>}
                </li>
              );
            })}
          </ol>
        )}
        <p className="muted small">
          Messages are listed as they are sent and delivered.{" "}
          <button type="button" className="link" onClick={() => void load(true)}>
            Refresh
          </button>
        </p>
      </section>

      <ConfirmDialog
        open={cancelOpen}
        title="Cancel this appointment?"
        confirmLabel={busy === "cancel" ? "Cancelling…" : "Yes, cancel it"}
        onConfirm={() => void cancel()}
        onCancel={() => setCancelOpen(false)}
        busy={busy === "cancel"}
      >
        <p>
          {title}, {formatDateTime(b.start)}. The time is given to others, and you will get a cancellation message.
        </p>
        <Field id="cancel-reason" label="Reason (optional)" hint="Kept with the booking; not sent in any message.">
          <textarea
            id="cancel-reason"
            rows={2}
            maxLength={500}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            aria-describedby="cancel-reason-hint"
          />
        </Field>
        {cancelError ? <ErrorMessage error={cancelError} /> : null}
      </ConfirmDialog>
    </>
  );
}

// fetchCalendar downloads the booking's .ics through the API client, which adds the bearer
// token (and refreshes the session once if it has just lapsed).
async function fetchCalendar(id: string): Promise<Blob> {
  return must(api.GET("/v1/bookings/{id}/calendar.ics", { params: { path: { id } }, parseAs: "blob" }));
}

const notificationKind: Record<string, string> = {
  confirmation: "Confirmation",
  reminder: "Reminder",
  cancellation: "Cancellation notice",
  reschedule: "New-time notice",
  no_show: "Missed-appointment notice",
  hold_expired: "Hold-lapsed notice",
};

const deliveryStatus: Record<string, string> = {
  pending: "waiting to be sent",
  sending: "sending",
  sent: "sent",
  queued: "queued by the carrier",
  accepted: "accepted by the carrier",
  scheduled: "scheduled",
  delivered: "delivered",
  read: "read",
  undelivered: "not delivered",
  failed: "failed",
  skipped: "not sent (contact not verified)",
};

const statusText: Record<string, string> = {
  held: "Time held",
  confirmed: "Confirmed",
  checked_in: "Checked in",
  completed: "Completed",
  expired: "Hold lapsed; the time was released",
  cancelled: "Cancelled",
  no_show: "Marked as missed (no-show)",
};

const reasonCodes: Record<string, string> = {
  provider_unavailable: "the doctor is unavailable",
  clinic_closed: "the clinic is closed",
  patient_request: "at the patient's request",
  duplicate: "a duplicate booking",
  rebook_needed: "a new booking is needed",
};

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

// offsetText reads the workflow's reminder offsets ("24h", "90m").
function offsetText(v: unknown): string {
  const s = str(v);
  if (!s) return "";
  const m = /^(\d+)([hm])$/.exec(s);
  if (!m) return s;
  const n = Number(m[1]);
  const unit = m[2] === "h" ? "hour" : "minute";
  return `${n} ${unit}${n === 1 ? "" : "s"}`;
}

// describeEvent turns one timeline entry into a sentence.
function describeEvent(e: BookingEvent): { text: string; note?: string } {
  const d = e.detail ?? {};
  switch (e.type) {
    case "status": {
      const st = str(d.status) ?? "";
      let text = statusText[st] ?? `Status: ${st.replace(/_/g, " ")}`;
      if (st === "held" && str(d.hold_expires_at)) text += ` until ${formatTime(d.hold_expires_at as string)}`;
      if (st === "cancelled" && d.late === true) text += " (late)";
      const code = str(d.reason_code);
      const reason = str(d.reason);
      const note = code ? `Reason: ${reasonCodes[code] ?? code}` : reason ? `Reason: ${reason}` : undefined;
      return note ? { text, note } : { text };
    }
    case "rescheduled": {
      const from = str(d.from);
      const to = str(d.to);
      return { text: from && to ? `Moved from ${formatDateTime(from)} to ${formatDateTime(to)}` : "Moved to a new time" };
    }
    case "notification": {
      const kind = str(d.kind) ?? "message";
      const channel = str(d.channel) === "sms" ? "SMS" : str(d.channel) === "email" ? "email" : (str(d.channel) ?? "message");
      const reminder = kind === "reminder" && str(d.reminder) ? ` (${offsetText(d.reminder)} before)` : "";
      const label = notificationKind[kind] ?? plain(kind.replace(/_/g, " ")).replace(/\.$/, "");
      const status = str(d.status) ?? "";
      const attempts = typeof d.attempts === "number" && d.attempts > 1 ? `, after ${d.attempts} attempts` : "";
      const text = `${label}${reminder} ${channel} to ${str(d.recipient) ?? "you"} — ${deliveryStatus[status] ?? status}${attempts}`;
      const err = str(d.error);
      return err ? { text, note: err } : { text };
    }
    case "reminder_planned":
      return {
        text: `Reminder planned for ${str(d.at) ? formatDateTime(d.at as string) : "later"}${d.offset ? ` (${offsetText(d.offset)} before)` : ""}`,
      };
    case "reminder_sent":
      return { text: `Reminder sent${d.offset ? ` (${offsetText(d.offset)} before)` : ""}` };
    case "reminder_skipped":
      return {
        text: `Reminder ${d.offset ? `${offsetText(d.offset)} before ` : ""}skipped: the appointment is sooner than that`,
      };
    case "reminder_dropped":
      return {
        text: `Reminder for ${str(d.at) ? formatDateTime(d.at as string) : "later"} no longer needed`,
      };
  }
  return { text: plain(e.type.replace(/_/g, " ")).replace(/\.$/, "") };
}

