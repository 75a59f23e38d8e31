// ScheduleEditor edits one doctor's working hours: weekly intervals per weekday and dated
// exceptions (a day closed, or other hours that day), saved together with
// PUT /v1/providers/{id}/schedule. The doctor (DoctorSchedule) and the admin (AdminSchedule)
// both use it. Times of day are wall-clock times in the doctor's time zone, which it names.
import { useEffect, useId, useState } from "react";
import { api, ApiError, describe, must, type Schedule } from "../api/client";
import { Loading, Notice } from "../ui";

type Interval = { key: string; start: string; end: string };
type ExceptionRow = { key: string; date: string; closed: boolean; hours: Interval[] };
type Draft = { weekly: Interval[][]; exceptions: ExceptionRow[] };

// Monday first, as a clinic's week reads; the API numbers Sunday 0 to Saturday 6.
const weekOrder = [1, 2, 3, 4, 5, 6, 0] as const;
const weekdayName = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

let counter = 0;
const newKey = () => `k${++counter}`;

const clockPattern = /^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$/;

// normalizeClock accepts "9:00" or "0900" as well as "09:00".
function normalizeClock(v: string): string {
  const s = v.trim();
  let m = /^(\d{1,2})[:.](\d{2})$/.exec(s);
  if (!m) m = /^(\d{2})(\d{2})$/.exec(s);
  if (!m) return s;
  return `${m[1]!.padStart(2, "0")}:${m[2]}`;
}

function toMinutes(c: string): number {
  const [h, m] = c.split(":").map(Number) as [number, number];
  return h * 60 + m;
}

function fromMinutes(n: number): string {
  const c = Math.min(Math.max(n, 0), 24 * 60);
  return `${String(Math.floor(c / 60)).padStart(2, "0")}:${String(c % 60).padStart(2, "0")}`;
}

export function formatDateKey(key: string): string {
  const [y, m, d] = key.split("-").map(Number) as [number, number, number];
  if (!y || !m || !d) return key;
  return new Intl.DateTimeFormat(undefined, {
    weekday: "long",
    day: "numeric",
    month: "long",
    year: "numeric",
    timeZone: "UTC",
  }).format(new Date(Date.UTC(y, m - 1, d, 12)));
}

function draftOf(s: Schedule): Draft {
  const weekly: Interval[][] = [[], [], [], [], [], [], []];
  const sorted = [...s.weekly].sort((a, b) => a.weekday - b.weekday || toMinutes(a.start) - toMinutes(b.start));
  for (const w of sorted) weekly[w.weekday]?.push({ key: newKey(), start: w.start, end: w.end });
  const exceptions = [...s.exceptions]
    .sort((a, b) => a.date.localeCompare(b.date))
    .map((e) => ({
      key: newKey(),
      date: e.date,
      closed: e.closed === true || !e.hours || e.hours.length === 0,
      hours: (e.hours ?? []).map((h) => ({ key: newKey(), start: h.start, end: h.end })),
    }));
  return { weekly, exceptions };
}

// nextInterval proposes hours after the last ones of a day, or a working day's usual hours.
function nextInterval(existing: Interval[]): Interval {
  const last = existing[existing.length - 1];
  if (!last || !clockPattern.test(last.end)) return { key: newKey(), start: "09:00", end: "17:00" };
  const from = toMinutes(last.end) >= 23 * 60 ? 23 * 60 : toMinutes(last.end) + 60;
  return { key: newKey(), start: fromMinutes(from), end: fromMinutes(Math.min(from + 4 * 60, 24 * 60)) };
}

type Errors = Record<string, string>;

// What the request sent at each index, to put the API's `weekly[3].end` errors in place.
type Sent = {
  weekly: { key: string; label: string }[];
  exceptions: { key: string; label: string; hours: { key: string; label: string }[] }[];
};

function buildRequest(d: Draft) {
  const sent: Sent = { weekly: [], exceptions: [] };
  const weekly: { weekday: number; start: string; end: string }[] = [];
  for (const wd of weekOrder) {
    for (const iv of d.weekly[wd] ?? []) {
      weekly.push({ weekday: wd, start: iv.start, end: iv.end });
      sent.weekly.push({ key: iv.key, label: `${weekdayName[wd]} ${iv.start}–${iv.end}` });
    }
  }
  const exceptions = d.exceptions.map((e) => {
    const label = formatDateKey(e.date);
    sent.exceptions.push({
      key: e.key,
      label,
      hours: e.closed ? [] : e.hours.map((h) => ({ key: h.key, label: `${label} ${h.start}–${h.end}` })),
    });
    return e.closed
      ? { date: e.date, closed: true }
      : { date: e.date, closed: false, hours: e.hours.map((h) => ({ start: h.start, end: h.end })) };
  });
  return { body: { weekly, exceptions }, sent };
}

// placeErrors maps the problem's field names onto the rows they came from; what matches no row
// is returned to be shown above the form.
function placeErrors(err: ApiError, sent: Sent): { errors: Errors; general: string[] } {
  const errors: Errors = {};
  const general: string[] = [];
  // Messages name other fields ("overlaps weekly[2]"): say which hours those are instead.
  const humane = (msg: string) =>
    msg
      .replace(/exceptions\[(\d+)\]\.hours\[(\d+)\]/g, (all, i: string, k: string) => {
        const l = sent.exceptions[Number(i)]?.hours[Number(k)]?.label;
        return l ? `the hours ${l}` : all;
      })
      .replace(/exceptions\[(\d+)\]/g, (all, i: string) => {
        const l = sent.exceptions[Number(i)]?.label;
        return l ? `the exception on ${l}` : all;
      })
      .replace(/weekly\[(\d+)\]/g, (all, i: string) => {
        const l = sent.weekly[Number(i)]?.label;
        return l ? `the hours ${l}` : all;
      });
  const put = (key: string, msg: string) => {
    errors[key] = errors[key] ? `${errors[key]}; ${humane(msg)}` : humane(msg);
  };
  for (const fe of err.problem?.errors ?? []) {
    let m = /^weekly\[(\d+)\](?:\.(start|end|weekday))?$/.exec(fe.field);
    if (m) {
      const row = sent.weekly[Number(m[1])];
      if (row) {
        put(m[2] === "start" || m[2] === "end" ? `${row.key}.${m[2]}` : row.key, fe.message);
        continue;
      }
    }
    m = /^exceptions\[(\d+)\](?:\.(date|hours|closed))?(?:\[(\d+)\])?(?:\.(start|end))?$/.exec(fe.field);
    if (m) {
      const ex = sent.exceptions[Number(m[1])];
      if (ex) {
        if (m[3] !== undefined) {
          const h = ex.hours[Number(m[3])];
          if (h) {
            put(m[4] ? `${h.key}.${m[4]}` : h.key, fe.message);
            continue;
          }
        }
        put(m[2] === "date" ? `${ex.key}.date` : ex.key, m[2] === "date" ? `The date ${fe.message}` : fe.message);
        continue;
      }
    }
    general.push(`${humane(fe.field)}: ${humane(fe.message)}`);
  }
  return { errors, general };
}

// validate catches what the API could not place on a field (a malformed time of day is refused
// before fields are read), and normalizes "9:00" to "09:00".
function validate(d: Draft): { draft: Draft; errors: Errors } {
  const errors: Errors = {};
  const fix = (iv: Interval): Interval => {
    const start = normalizeClock(iv.start);
    const end = normalizeClock(iv.end);
    const msg = "must be a time of day HH:MM (24-hour), such as 09:00; 24:00 is midnight at the end";
    if (!clockPattern.test(start)) errors[`${iv.key}.start`] = msg;
    if (!clockPattern.test(end)) errors[`${iv.key}.end`] = msg;
    return { ...iv, start, end };
  };
  const weekly = d.weekly.map((day) => day.map(fix));
  const exceptions = d.exceptions.map((e) => {
    const hours = e.hours.map(fix);
    if (!e.closed && hours.length === 0) errors[e.key] = "add hours for this day, or mark it closed all day";
    return { ...e, hours };
  });
  return { draft: { weekly, exceptions }, errors };
}

function IntervalRow({
  iv,
  context,
  errors,
  onChange,
  onRemove,
}: {
  iv: Interval;
  context: string;
  errors: Errors;
  onChange: (iv: Interval) => void;
  onRemove: () => void;
}) {
  const startErr = errors[`${iv.key}.start`];
  const endErr = errors[`${iv.key}.end`];
  const rowErr = errors[iv.key];
  const described = (own?: string) =>
    [own && `${iv.key}-${own}-error`, rowErr && `${iv.key}-error`].filter(Boolean).join(" ") || undefined;
  return (
    <li className="sched-interval">
      <div className="sched-times">
        <div className="field">
          <label htmlFor={`${iv.key}-start`}>
            From<span className="sr-only"> ({context})</span>
          </label>
          <input
            id={`${iv.key}-start`}
            className="sched-clock"
            value={iv.start}
            inputMode="numeric"
            autoComplete="off"
            placeholder="HH:MM"
            aria-invalid={startErr || rowErr ? true : undefined}
            aria-describedby={described(startErr ? "start" : undefined)}
            onChange={(e) => onChange({ ...iv, start: e.target.value })}
          />
        </div>
        <div className="field">
          <label htmlFor={`${iv.key}-end`}>
            To<span className="sr-only"> ({context})</span>
          </label>
          <input
            id={`${iv.key}-end`}
            className="sched-clock"
            value={iv.end}
            inputMode="numeric"
            autoComplete="off"
            placeholder="HH:MM"
            aria-invalid={endErr || rowErr ? true : undefined}
            aria-describedby={described(endErr ? "end" : undefined)}
            onChange={(e) => onChange({ ...iv, end: e.target.value })}
          />
        </div>
        <button type="button" className="secondary" onClick={onRemove} aria-label={`Remove hours (${context})`}>
          Remove
        </button>
      </div>
      {startErr && (
        <p className="field-error" id={`${iv.key}-start-error`}>
          From: {startErr}
        </p>
      )}
      {endErr && (
        <p className="field-error" id={`${iv.key}-end-error`}>
          To: {endErr}
        </p>
      )}
      {rowErr && (
        <p className="field-error" id={`${iv.key}-error`}>
          {rowErr}
        </p>
      )}
    </li>
  );
}

export default function ScheduleEditor({ providerId, onSaved }: { providerId: string; onSaved?: (s: Schedule) => void }) {
  const uid = useId();
  const [zone, setZone] = useState<string | null>(null);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [reload, setReload] = useState(0);
  const [dirty, setDirty] = useState(false);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);
  const [errors, setErrors] = useState<Errors>({});
  const [saveError, setSaveError] = useState<{ message: string; general: string[] } | null>(null);
  const [focusId, setFocusId] = useState<string | null>(null);
  const [newDate, setNewDate] = useState("");
  const [newClosed, setNewClosed] = useState(true);
  const [addError, setAddError] = useState("");
  const [announce, setAnnounce] = useState("");

  useEffect(() => {
    let live = true;
    setDraft(null);
    setLoadError(null);
    must(api.GET("/v1/providers/{id}/schedule", { params: { path: { id: providerId } } }))
      .then((s) => {
        if (!live) return;
        setZone(s.time_zone);
        setDraft(draftOf(s));
        setDirty(false);
      })
      .catch((e: unknown) => live && setLoadError(e));
    return () => {
      live = false;
    };
  }, [providerId, reload]);

  useEffect(() => {
    if (!focusId) return;
    document.getElementById(focusId)?.focus();
    setFocusId(null);
  }, [focusId, draft]);

  if (loadError) {
    return (
      <div className="alert alert-error" role="alert">
        <p>The working hours could not be loaded. {describe(loadError)}</p>
        <button type="button" className="secondary" onClick={() => setReload((n) => n + 1)}>
          Try again
        </button>
      </div>
    );
  }
  if (!draft || !zone) return <Loading what="Loading the working hours" />;

  const change = (next: Draft) => {
    setDraft(next);
    setDirty(true);
    setSaved(false);
  };
  const setDay = (wd: number, ivs: Interval[]) => {
    const weekly = draft.weekly.map((d, i) => (i === wd ? ivs : d));
    change({ ...draft, weekly });
  };
  const setException = (key: string, f: (e: ExceptionRow) => ExceptionRow | null) => {
    const exceptions = draft.exceptions.flatMap((e) => {
      if (e.key !== key) return [e];
      const n = f(e);
      return n ? [n] : [];
    });
    change({ ...draft, exceptions });
  };

  const addException = () => {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(newDate)) {
      setAddError("Choose a date.");
      return;
    }
    if (draft.exceptions.some((e) => e.date === newDate)) {
      setAddError(`${formatDateKey(newDate)} has an exception already; change or remove it below.`);
      return;
    }
    setAddError("");
    const row: ExceptionRow = {
      key: newKey(),
      date: newDate,
      closed: newClosed,
      hours: newClosed ? [] : [{ key: newKey(), start: "09:00", end: "13:00" }],
    };
    const exceptions = [...draft.exceptions, row].sort((a, b) => a.date.localeCompare(b.date));
    change({ ...draft, exceptions });
    setAnnounce(
      `${formatDateKey(newDate)} added: ${newClosed ? "closed all day" : "different hours"}. Save to apply it.`,
    );
    setNewDate("");
  };

  const save = async () => {
    setSaved(false);
    setSaveError(null);
    const checked = validate(draft);
    setDraft(checked.draft);
    if (Object.keys(checked.errors).length > 0) {
      setErrors(checked.errors);
      setSaveError({ message: "The working hours were not saved: please correct the marked fields.", general: [] });
      setFocusId(`${uid}-summary`);
      return;
    }
    const { body, sent } = buildRequest(checked.draft);
    setSaving(true);
    try {
      const s = await must(api.PUT("/v1/providers/{id}/schedule", { params: { path: { id: providerId } }, body }));
      setZone(s.time_zone);
      setDraft(draftOf(s));
      setErrors({});
      setDirty(false);
      setSaved(true);
      onSaved?.(s);
    } catch (e) {
      if (e instanceof ApiError && (e.problem?.errors?.length ?? 0) > 0) {
        const placed = placeErrors(e, sent);
        setErrors(placed.errors);
        setSaveError({
          message: "The working hours were not saved: please correct the marked fields.",
          general: placed.general,
        });
      } else {
        setErrors({});
        setSaveError({ message: `The working hours were not saved. ${describe(e)}`, general: [] });
      }
      setFocusId(`${uid}-summary`);
    } finally {
      setSaving(false);
    }
  };

  const errorCount = Object.keys(errors).length;

  return (
    <div className="sched">
      <p className="sched-zone">
        Times are in <strong>{zone}</strong>, the doctor's time zone, as 24-hour HH:MM; 24:00 ends a day at midnight.
      </p>

      {saveError && (
        <div className="alert alert-error" role="alert" id={`${uid}-summary`} tabIndex={-1}>
          <p>{saveError.message}</p>
          {errorCount > 0 && (
            <p>
              {errorCount === 1 ? "One problem is" : `${errorCount} problems are`} marked below.
            </p>
          )}
          {saveError.general.length > 0 && (
            <ul>
              {saveError.general.map((g) => (
                <li key={g}>{g}</li>
              ))}
            </ul>
          )}
        </div>
      )}

      <h2>Weekly hours</h2>
      <div className="sched-week">
        {weekOrder.map((wd) => {
          const ivs = draft.weekly[wd] ?? [];
          const name = weekdayName[wd]!;
          const addId = `${uid}-add-${wd}`;
          return (
            <fieldset key={wd} className="sched-day">
              <legend>{name}</legend>
              {ivs.length === 0 ? (
                <p className="muted sched-off">Not working</p>
              ) : (
                <ul className="sched-intervals">
                  {ivs.map((iv, i) => (
                    <IntervalRow
                      key={iv.key}
                      iv={iv}
                      context={ivs.length > 1 ? `${name}, hours ${i + 1}` : name}
                      errors={errors}
                      onChange={(n) => setDay(wd, ivs.map((x) => (x.key === iv.key ? n : x)))}
                      onRemove={() => {
                        setDay(
                          wd,
                          ivs.filter((x) => x.key !== iv.key),
                        );
                        setFocusId(addId);
                      }}
                    />
                  ))}
                </ul>
              )}
              <button
                type="button"
                id={addId}
                className="secondary"
                onClick={() => {
                  const iv = nextInterval(ivs);
                  setDay(wd, [...ivs, iv]);
                  setFocusId(`${iv.key}-start`);
                }}
              >
                Add hours<span className="sr-only"> on {name}</span>
              </button>
            </fieldset>
          );
        })}
      </div>

      <h2>Days off and changed hours</h2>
      {draft.exceptions.length === 0 ? (
        <p className="empty">No exceptions: every date follows the weekly hours.</p>
      ) : (
        <ul className="sched-exceptions">
          {draft.exceptions.map((e) => {
            const label = formatDateKey(e.date);
            const exErr = errors[e.key] ?? errors[`${e.key}.date`];
            const radioName = `${uid}-${e.key}-kind`;
            return (
              <li key={e.key}>
                <fieldset className="sched-day" aria-describedby={exErr ? `${e.key}-error` : undefined}>
                  <legend>{label}</legend>
                  <div className="sched-kind" role="radiogroup" aria-label={`What happens on ${label}`}>
                    <label>
                      <input
                        type="radio"
                        name={radioName}
                        checked={e.closed}
                        onChange={() => setException(e.key, (x) => ({ ...x, closed: true }))}
                      />{" "}
                      Closed all day
                    </label>
                    <label>
                      <input
                        type="radio"
                        name={radioName}
                        checked={!e.closed}
                        onChange={() =>
                          setException(e.key, (x) => ({
                            ...x,
                            closed: false,
                            hours: x.hours.length > 0 ? x.hours : [{ key: newKey(), start: "09:00", end: "13:00" }],
                          }))
                        }
                      />{" "}
                      Different hours
                    </label>
                  </div>
                  {!e.closed && (
                    <>
                      {e.hours.length > 0 && (
                        <ul className="sched-intervals">
                          {e.hours.map((iv, i) => (
                            <IntervalRow
                              key={iv.key}
                              iv={iv}
                              context={e.hours.length > 1 ? `${label}, hours ${i + 1}` : label}
                              errors={errors}
                              onChange={(n) =>
                                setException(e.key, (x) => ({
                                  ...x,
                                  hours: x.hours.map((h) => (h.key === iv.key ? n : h)),
                                }))
                              }
                              onRemove={() => {
                                setException(e.key, (x) => ({ ...x, hours: x.hours.filter((h) => h.key !== iv.key) }));
                                setFocusId(`${e.key}-add`);
                              }}
                            />
                          ))}
                        </ul>
                      )}
                      <button
                        type="button"
                        id={`${e.key}-add`}
                        className="secondary"
                        onClick={() => {
                          const iv = nextInterval(e.hours);
                          setException(e.key, (x) => ({ ...x, hours: [...x.hours, iv] }));
                          setFocusId(`${iv.key}-start`);
                        }}
                      >
                        Add hours<span className="sr-only"> on {label}</span>
                      </button>
                    </>
                  )}
                  {exErr && (
                    <p className="field-error" id={`${e.key}-error`}>
                      {exErr}
                    </p>
                  )}
                  <div className="actions">
                    <button
                      type="button"
                      className="secondary"
                      onClick={() => {
                        setException(e.key, () => null);
                        setAnnounce(`The exception on ${label} was removed. Save to apply it.`);
                        setFocusId(`${uid}-new-date`);
                      }}
                    >
                      Remove this date<span className="sr-only">: {label}</span>
                    </button>
                  </div>
                </fieldset>
              </li>
            );
          })}
        </ul>
      )}

      <fieldset className="sched-add">
        <legend>Add a day off or changed hours</legend>
        <div className="row">
          <div className="field">
            <label htmlFor={`${uid}-new-date`}>Date</label>
            <input
              id={`${uid}-new-date`}
              type="date"
              value={newDate}
              aria-invalid={addError ? true : undefined}
              aria-describedby={addError ? `${uid}-new-date-error` : undefined}
              onChange={(e) => setNewDate(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === "Enter") {
                  e.preventDefault();
                  addException();
                }
              }}
            />
          </div>
          <div className="sched-kind" role="radiogroup" aria-label="What happens on that date">
            <label>
              <input type="radio" name={`${uid}-new-kind`} checked={newClosed} onChange={() => setNewClosed(true)} />{" "}
              Closed all day
            </label>
            <label>
              <input type="radio" name={`${uid}-new-kind`} checked={!newClosed} onChange={() => setNewClosed(false)} />{" "}
              Different hours
            </label>
          </div>
          <button type="button" className="secondary" onClick={addException}>
            Add date
          </button>
        </div>
        {addError && (
          <p className="field-error" id={`${uid}-new-date-error`}>
            {addError}
          </p>
        )}
      </fieldset>
      <p className="sr-only" role="status" aria-live="polite">
        {announce}
      </p>

      <div className="sched-save">
        {saved && <Notice kind="success">Working hours saved. Patients see the new free times at once.</Notice>}
        {dirty && !saved && <p className="muted">You have unsaved changes.</p>}
        <button type="button" onClick={() => void save()} disabled={saving}>
          {saving ? "Saving…" : "Save working hours"}
        </button>
      </div>
    </div>
  );
}
