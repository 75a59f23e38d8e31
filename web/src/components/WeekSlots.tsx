// WeekSlots shows a doctor's free slots for one service over seven days, grouped by day in the
// patient's own time zone, with buttons to move a week back or forward. Booking and rescheduling
// both pick their time here.
import { useEffect, useRef, useState } from "react";
import { api, must, type Provider, type Slot } from "../api/client";
import { addDays, browserZone, dayKey, formatDay, formatTime, sameZone, startOfDay } from "../time";
import { ErrorMessage, Loading } from "../ui";

// today is the patient's civil date, the first week a patient can look at.
export function today(): string {
  return dayKey(new Date());
}

// weekOf reads a ?week= value, falling back to today and never going into the past.
export function weekOf(param: string | null): string {
  const t = today();
  if (!param || !/^\d{4}-\d{2}-\d{2}$/.test(param) || param < t) return t;
  return param;
}

// The label of a civil date, read at noon UTC so that no zone moves it to another day.
function dateLabel(key: string, opts: Intl.DateTimeFormatOptions): string {
  return new Intl.DateTimeFormat(undefined, { ...opts, timeZone: "UTC" }).format(new Date(`${key}T12:00:00Z`));
}

// sameInstant compares two RFC 3339 times, whatever offsets they were written with.
export function sameInstant(a: string | null | undefined, b: string | null | undefined): boolean {
  return !!a && !!b && Date.parse(a) === Date.parse(b);
}

export function slotLabel(slot: Slot): string {
  return `${formatDay(slot.start)}, ${formatTime(slot.start)} to ${formatTime(slot.end)}`;
}

// ZoneNote says in which zone times are shown, and names the doctor's when it differs.
export function ZoneNote({ provider }: { provider: Provider }) {
  if (sameZone(browserZone, provider.time_zone)) {
    return <p className="muted zone-note">Times are shown in your time zone, {browserZone}.</p>;
  }
  return (
    <p className="zone-note alert alert-info">
      Times are shown in your time zone, <strong>{browserZone}</strong>; {provider.name} works in{" "}
      <strong>{provider.time_zone}</strong>.
    </p>
  );
}

type Props = {
  provider: Provider;
  serviceId: string;
  week: string;
  onWeekChange: (week: string) => void;
  onPick: (slot: Slot) => void;
  selected?: string | null;
  // reloadKey: change it to fetch the slots afresh (after a slot was taken, say).
  reloadKey?: number;
  onLoaded?: (slots: Slot[]) => void;
  // The heading level of each day; the caller's section heading sits one above.
  dayHeading?: 3 | 4;
  // A slot not to offer (the booking's own time, when moving it).
  exclude?: string;
};

type State = { status: "loading" } | { status: "error"; error: unknown } | { status: "ready"; slots: Slot[] };
// Each answer is kept with the request it answers, so that a change of week shows "loading" at
// once rather than the old week's slots under the new week's dates.
type Answer = { key: string; state: State };

export function WeekSlots({
  provider,
  serviceId,
  week,
  onWeekChange,
  onPick,
  selected,
  reloadKey = 0,
  onLoaded,
  dayHeading = 3,
  exclude,
}: Props) {
  const [attempt, setAttempt] = useState(0);
  const key = `${provider.id}|${serviceId}|${week}|${reloadKey}|${attempt}`;
  const [answer, setAnswer] = useState<Answer>({ key: "", state: { status: "loading" } });
  const state: State = answer.key === key ? answer.state : { status: "loading" };
  const loaded = useRef(onLoaded);
  loaded.current = onLoaded;

  useEffect(() => {
    let live = true;
    const from = startOfDay(week, browserZone).toISOString();
    const to = startOfDay(addDays(week, 7), browserZone).toISOString();
    must(
      api.GET("/v1/providers/{id}/availability", {
        params: { path: { id: provider.id }, query: { service_id: serviceId, from, to } },
      }),
    ).then(
      (a) => {
        if (!live) return;
        setAnswer({ key, state: { status: "ready", slots: a.slots } });
        loaded.current?.(a.slots);
      },
      (e: unknown) => live && setAnswer({ key, state: { status: "error", error: e } }),
    );
    return () => {
      live = false;
    };
  }, [key, provider.id, serviceId, week]);

  const days = Array.from({ length: 7 }, (_, i) => addDays(week, i));
  const first = days[0] ?? week;
  const last = days[6] ?? week;
  const range = `${dateLabel(first, { weekday: "short", day: "numeric", month: "short" })} – ${dateLabel(last, {
    weekday: "short",
    day: "numeric",
    month: "short",
    year: "numeric",
  })}`;
  const atStart = week <= today();
  const H = dayHeading === 3 ? "h3" : "h4";

  const slots = state.status === "ready" ? state.slots.filter((s) => !sameInstant(s.start, exclude)) : [];
  const byDay = new Map<string, Slot[]>();
  for (const s of slots) {
    const k = dayKey(s.start);
    byDay.set(k, [...(byDay.get(k) ?? []), s]);
  }

  return (
    <div className="week-slots">
      <ZoneNote provider={provider} />
      <div className="week-nav">
        <button
          type="button"
          className="secondary"
          aria-disabled={atStart}
          onClick={() => !atStart && onWeekChange(addDays(week, -7))}
        >
          <span aria-hidden="true">← </span>Previous week
        </button>
        <p className="week-range" aria-live="polite">
          <span className="sr-only">Free times for </span>
          {range}
        </p>
        <button type="button" className="secondary" onClick={() => onWeekChange(addDays(week, 7))}>
          Next week<span aria-hidden="true"> →</span>
        </button>
      </div>
      {state.status === "loading" && <Loading what="Looking for free times" />}
      {state.status === "error" && (
        <ErrorMessage error={state.error}>
          <button type="button" className="secondary" onClick={() => setAttempt((n) => n + 1)}>
            Try again
          </button>
        </ErrorMessage>
      )}
      {state.status === "ready" && slots.length === 0 && (
        <p className="empty">
          No free times this week. <button type="button" className="link" onClick={() => onWeekChange(addDays(week, 7))}>
            Look at the next week
          </button>
        </p>
      )}
      {state.status === "ready" && slots.length > 0 && (
        <div className="week week-7">
          {days.map((d) => {
            const list = byDay.get(d) ?? [];
            const id = `day-${d}`;
            return (
              <section key={d} className="day" aria-labelledby={id}>
                <H id={id}>{dateLabel(d, { weekday: "long", day: "numeric", month: "long" })}</H>
                {list.length === 0 ? (
                  <p className="muted no-slots">No free times</p>
                ) : (
                  <ul className="slots slot-grid">
                    {list.map((s) => (
                      <li key={s.start}>
                        <button
                          type="button"
                          aria-pressed={sameInstant(selected, s.start)}
                          aria-label={slotLabel(s)}
                          data-start={s.start}
                          onClick={() => onPick(s)}
                        >
                          {formatTime(s.start)}
                        </button>
                      </li>
                    ))}
                  </ul>
                )}
              </section>
            );
          })}
        </div>
      )}
    </div>
  );
}
