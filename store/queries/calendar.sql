-- The provider's time zone, the service's length (NULL when no such service exists), the weekly
-- hours, the exceptions dated between first_day and last_day (-1 for the minutes of a row
-- without hours, a closed day), and the start and end of the live bookings (held until the hold
-- lapses, confirmed or checked in: the partial indexes' own predicate) that overlap
-- [from_time, to_time). No row when the provider does not exist.
--
-- Its schedule part (wh, ex) and its live-booking condition are repeated in SlotCheck below
-- (sqlc has no shared fragments): change them together; the condition must also stay the
-- partial index's predicate.
--
-- The busy time is read from bookings_live_provider_start alone (an index-only scan), bounded
-- on both sides by start: a booking overlapping the window starts before to_time and at most
-- 8 hours (bookings_length_bounded) before from_time.
-- name: Calendar :one
SELECT p.time_zone, svc.duration_minutes,
    wh.weekdays::smallint[] AS wh_weekdays, wh.starts::smallint[] AS wh_starts, wh.ends::smallint[] AS wh_ends,
    ex.days::date[] AS ex_days, ex.starts::smallint[] AS ex_starts, ex.ends::smallint[] AS ex_ends,
    busy.starts::timestamptz[] AS busy_starts, busy.ends::timestamptz[] AS busy_ends
FROM providers p
LEFT JOIN services svc ON svc.id = @service_id
CROSS JOIN LATERAL (
    SELECT array_agg(weekday ORDER BY weekday, start_minute) AS weekdays,
           array_agg(start_minute ORDER BY weekday, start_minute) AS starts,
           array_agg(end_minute ORDER BY weekday, start_minute) AS ends
    FROM working_hours WHERE provider_id = p.id) wh
CROSS JOIN LATERAL (
    SELECT array_agg(day ORDER BY day, start_minute NULLS FIRST) AS days,
           array_agg(coalesce(start_minute, -1) ORDER BY day, start_minute NULLS FIRST) AS starts,
           array_agg(coalesce(end_minute, -1) ORDER BY day, start_minute NULLS FIRST) AS ends
    FROM schedule_exceptions WHERE provider_id = p.id AND day BETWEEN @first_day::date AND @last_day::date) ex
CROSS JOIN LATERAL (
    SELECT array_agg(start_at ORDER BY start_at) AS starts, array_agg(end_at ORDER BY start_at) AS ends
    FROM bookings
    WHERE provider_id = p.id AND status IN ('held', 'confirmed', 'checked_in') AND (status <> 'held' OR hold_expires_at > now())
      AND start_at > sqlc.arg(from_time)::timestamptz - interval '8 hours' AND start_at < @to_time::timestamptz AND end_at > sqlc.arg(from_time)) busy
WHERE p.id = @provider_id;

-- What a new booking's request is checked against: Calendar's schedule and length around
-- start_at, and whether a live booking other than booking_id overlaps [start_at, start_at +
-- the service's length). The schedule part and the live-booking condition are Calendar's, above:
-- change them together.
-- name: SlotCheck :one
SELECT p.time_zone, svc.duration_minutes,
    wh.weekdays::smallint[] AS wh_weekdays, wh.starts::smallint[] AS wh_starts, wh.ends::smallint[] AS wh_ends,
    ex.days::date[] AS ex_days, ex.starts::smallint[] AS ex_starts, ex.ends::smallint[] AS ex_ends,
    EXISTS (SELECT 1 FROM bookings b
        WHERE provider_id = p.id AND status IN ('held', 'confirmed', 'checked_in') AND (status <> 'held' OR hold_expires_at > now())
          AND start_at > sqlc.arg(start_at)::timestamptz - interval '8 hours'
          AND start_at < sqlc.arg(start_at)::timestamptz + make_interval(mins => svc.duration_minutes) AND end_at > sqlc.arg(start_at)
          AND b.id <> @booking_id) AS taken
FROM providers p
LEFT JOIN services svc ON svc.id = @service_id
CROSS JOIN LATERAL (
    SELECT array_agg(weekday ORDER BY weekday, start_minute) AS weekdays,
           array_agg(start_minute ORDER BY weekday, start_minute) AS starts,
           array_agg(end_minute ORDER BY weekday, start_minute) AS ends
    FROM working_hours WHERE provider_id = p.id) wh
CROSS JOIN LATERAL (
    SELECT array_agg(day ORDER BY day, start_minute NULLS FIRST) AS days,
           array_agg(coalesce(start_minute, -1) ORDER BY day, start_minute NULLS FIRST) AS starts,
           array_agg(coalesce(end_minute, -1) ORDER BY day, start_minute NULLS FIRST) AS ends
    FROM schedule_exceptions WHERE provider_id = p.id AND day BETWEEN @first_day::date AND @last_day::date) ex
WHERE p.id = @provider_id;
