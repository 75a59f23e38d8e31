-- name: ScaleGroupExists :one
SELECT EXISTS (SELECT 1 FROM providers WHERE id LIKE @prefix::text || '%');

-- name: AddScaleServices :exec
INSERT INTO services (id, name, duration_minutes)
VALUES ('scale-svc-15', 'Quick check', 15), ('scale-svc-30', 'Consultation', 30), ('scale-svc-60', 'Extended visit', 60)
ON CONFLICT (name) DO NOTHING;

-- name: AddScaleProviders :exec
INSERT INTO providers (id, name, specialty, time_zone)
SELECT 'scale-p-' || i, 'Dr. Scale ' || i, (ARRAY['General practice', 'Dermatology', 'Pediatrics', 'Cardiology'])[i % 4 + 1],
       CASE WHEN i % 2 = 0 THEN 'Europe/Berlin' ELSE 'America/New_York' END
FROM generate_series(1, @providers::int) i;

-- name: AddScaleWorkingHours :exec
INSERT INTO working_hours (provider_id, weekday, start_minute, end_minute)
SELECT 'scale-p-' || i, wd, h.s, h.e
FROM generate_series(1, @providers::int) i, generate_series(1, 5) wd, (VALUES (480, 720), (780, 1020)) h(s, e);

-- name: AddScalePatients :exec
INSERT INTO users (id, email, password_hash, name, role, email_verified_at)
SELECT 'scale-u-' || i, 'scale-patient-' || i || '@scale.test', '!generated', 'Patient ' || i, 'patient', now()
FROM generate_series(1, @patients::int) i;

-- name: CountScaleBookings :many
SELECT status, count(*)::int AS count FROM bookings WHERE provider_id LIKE 'scale-p-%' GROUP BY status;

-- For this session: the data is regenerable, losing the last commits to a crash costs nothing.
-- name: SkipCommitFlush :exec
SET synchronous_commit = off;

-- name: VacuumBookings :exec
VACUUM (ANALYZE) bookings;
