-- name: AddEvent :exec
INSERT INTO booking_events (booking_id, key, type, at, detail) VALUES (@booking_id, @key, sqlc.arg(type), sqlc.arg(at), @detail)
ON CONFLICT (booking_id, key) DO NOTHING;

-- name: ListEvents :many
SELECT at, type, detail FROM booking_events WHERE booking_id = @booking_id ORDER BY at, id;

-- The patient's lock, held to the end of the transaction: holds are counted and inserted under
-- it so that parallel requests cannot overrun the cap. A statement of its own, because a
-- statement's snapshot is taken before it waits: counting in the same one would miss holds
-- committed during the wait.
-- name: LockPatientHolds :exec
SELECT pg_advisory_xact_lock(hashtext('holds:' || @patient_id::text));

-- The patient's held and upcoming bookings other than booking_id (under LockPatientHolds).
-- name: CountPatientBookings :one
SELECT (SELECT count(*) FROM bookings h WHERE h.patient_id = @patient_id AND h.status = 'held' AND h.id <> @booking_id) AS holding,
    (SELECT count(*) FROM bookings a WHERE a.patient_id = @patient_id AND a.status IN ('held', 'confirmed') AND a.end_at > now() AND a.id <> @booking_id) AS active;

-- No row when the booking id exists already.
-- name: CreateHold :one
INSERT INTO bookings (id, status, provider_id, service_id, patient_id, start_at, end_at, hold_expires_at, notes)
VALUES (@id, 'held', @provider_id, @service_id, @patient_id, @start_at, @end_at, @hold_expires_at, @notes)
ON CONFLICT (id) DO NOTHING
RETURNING id, status, provider_id, service_id, patient_id, start_at, end_at, hold_expires_at,
    notes, cancel_reason, cancel_reason_code, late_cancel, revision, created_at, updated_at;

-- name: GetBooking :one
SELECT id, status, provider_id, service_id, patient_id, start_at, end_at, hold_expires_at,
    notes, cancel_reason, cancel_reason_code, late_cancel, revision, created_at, updated_at
FROM bookings WHERE id = @id;

-- No row when the booking is in none of the from statuses.
-- name: ChangeStatus :one
UPDATE bookings SET status = @status::text, updated_at = now(),
        cancel_reason = CASE WHEN @status = 'cancelled' THEN @cancel_reason::text ELSE cancel_reason END,
        late_cancel = CASE WHEN @status = 'cancelled' THEN @late_cancel::boolean ELSE late_cancel END,
        cancel_reason_code = CASE WHEN @status = 'cancelled' THEN @cancel_reason_code::text ELSE cancel_reason_code END,
        hold_expires_at = CASE WHEN @status = 'held' THEN hold_expires_at ELSE NULL END
WHERE id = @id AND status = ANY(@from_statuses::text[])
RETURNING id, status, provider_id, service_id, patient_id, start_at, end_at, hold_expires_at,
    notes, cancel_reason, cancel_reason_code, late_cancel, revision, created_at, updated_at;

-- A new time and the next revision in one UPDATE; no row when the booking is not at the
-- revision before or holds no time.
-- name: MoveBooking :one
UPDATE bookings SET start_at = @start_at, end_at = @end_at, revision = sqlc.arg(revision), updated_at = now()
WHERE id = @id AND revision = sqlc.arg(revision) - 1 AND status IN ('held', 'confirmed')
RETURNING id, status, provider_id, service_id, patient_id, start_at, end_at, hold_expires_at,
    notes, cancel_reason, cancel_reason_code, late_cancel, revision, created_at, updated_at;

-- Empty filters, and NULL times, do not filter; after_start (with after_id) is the cursor.
-- name: ListBookings :many
SELECT id, status, provider_id, service_id, patient_id, start_at, end_at, hold_expires_at,
    notes, cancel_reason, cancel_reason_code, late_cancel, revision, created_at, updated_at
FROM bookings
WHERE (@patient_id::text = '' OR patient_id = @patient_id)
  AND (@provider_id::text = '' OR provider_id = @provider_id)
  AND (@status::text = '' OR status = @status)
  AND (sqlc.narg(from_start)::timestamptz IS NULL OR start_at >= sqlc.narg(from_start))
  AND (sqlc.narg(to_start)::timestamptz IS NULL OR start_at < sqlc.narg(to_start))
  AND (sqlc.narg(after_start)::timestamptz IS NULL OR (start_at, id) > (sqlc.narg(after_start), @after_id::text))
ORDER BY start_at, id
LIMIT @max_rows;

-- name: CountByStatus :many
SELECT status, count(*) FROM bookings GROUP BY status;

-- The soonest booking after now, in one of statuses, of the patient who verified phone.
-- name: NextBookingByPhone :one
SELECT b.id, b.status, b.provider_id, b.service_id, b.patient_id, b.start_at, b.end_at, b.hold_expires_at,
    b.notes, b.cancel_reason, b.cancel_reason_code, b.late_cancel, b.revision, b.created_at, b.updated_at
FROM bookings b JOIN users u ON u.id = b.patient_id
WHERE u.phone = @phone AND u.phone_verified_at IS NOT NULL AND b.status = ANY(@statuses::text[]) AND b.start_at > @after
ORDER BY b.start_at LIMIT 1;
