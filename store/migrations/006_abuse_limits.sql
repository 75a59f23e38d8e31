-- Staff give a cancellation's reason as a code from a fixed list; only its text, in the
-- clinic's words, reaches the patient's messages. A free-text reason stays in cancel_reason.
ALTER TABLE bookings ADD COLUMN cancel_reason_code text NOT NULL DEFAULT '';

-- The cap on a patient's future held or confirmed bookings is counted on every hold.
CREATE INDEX bookings_patient_active ON bookings (patient_id, end_at)
    WHERE status IN ('held', 'confirmed');

-- Counting bookings by status (the metrics gauge) and the admin's list by status read this
-- index instead of the whole table.
CREATE INDEX bookings_status_start ON bookings (status, start_at, id);
