-- The reconciler pages through holds that are past their expiry, in expiry order, and through
-- live bookings by their end; each listing reads its own small partial index, never the table.
CREATE INDEX bookings_held_expiry ON bookings (hold_expires_at, id) WHERE status = 'held';
CREATE INDEX bookings_live_end ON bookings (end_at, id) WHERE status IN ('confirmed', 'checked_in');
