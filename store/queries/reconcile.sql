-- name: LapsedHolds :many
SELECT id, status, provider_id, service_id, patient_id, start_at, end_at, hold_expires_at,
    notes, cancel_reason, cancel_reason_code, late_cancel, revision, created_at, updated_at
FROM bookings
WHERE status = 'held' AND hold_expires_at < @cutoff::timestamptz AND (hold_expires_at, id) > (@after_at::timestamptz, @after_id::text)
ORDER BY hold_expires_at, id
LIMIT @max_rows;

-- name: LiveBookings :many
SELECT id, status, provider_id, service_id, patient_id, start_at, end_at, hold_expires_at,
    notes, cancel_reason, cancel_reason_code, late_cancel, revision, created_at, updated_at
FROM bookings
WHERE status IN ('confirmed', 'checked_in') AND end_at > @now AND (end_at, id) > (@after_at::timestamptz, @after_id::text)
ORDER BY end_at, id
LIMIT @max_rows;

-- No row when the booking is not held, or its hold did not expire before cutoff.
-- name: ExpireLapsedHold :one
UPDATE bookings SET status = 'expired', hold_expires_at = NULL, updated_at = now()
WHERE id = @id AND status = 'held' AND hold_expires_at < @cutoff::timestamptz
RETURNING revision;

-- The provider's holds over [start_at, end_at) that expired more than slack_seconds ago,
-- except booking_id's own.
-- name: ExpireLapsedOverlaps :many
UPDATE bookings SET status = 'expired', hold_expires_at = NULL, updated_at = now()
WHERE provider_id = @provider_id AND status = 'held' AND during && tstzrange(@start_at::timestamptz, @end_at::timestamptz, '[)')
  AND hold_expires_at < now() - make_interval(secs => @slack_seconds::double precision) AND id <> @booking_id
RETURNING id, revision;
