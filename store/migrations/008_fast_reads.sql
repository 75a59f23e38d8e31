-- The time a provider is busy, readable from the index alone: availability and the check made
-- before a hold read (start, end) of live bookings in a window without touching the table, and
-- a lapsed hold is told from a live one by the included status and expiry.
CREATE INDEX bookings_live_provider_start ON bookings (provider_id, start_at)
    INCLUDE (end_at, status, hold_expires_at)
    WHERE status IN ('held', 'confirmed', 'checked_in');

-- A booking lasts as long as its service, and services last at most 480 minutes. Saying so
-- here lets a window's busy bookings be found by start alone: whatever overlaps [from, to)
-- starts after from minus 8 hours.
ALTER TABLE bookings ADD CONSTRAINT bookings_length_bounded CHECK (end_at - start_at <= interval '8 hours');
