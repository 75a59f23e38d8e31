-- name: ListProviders :many
SELECT id, name, specialty, time_zone, coalesce(user_id, '')::text AS user_id FROM providers ORDER BY name, id;

-- name: GetProvider :one
SELECT id, name, specialty, time_zone, coalesce(user_id, '')::text AS user_id FROM providers WHERE id = @id;

-- name: GetProviderByUser :one
SELECT id, name, specialty, time_zone, coalesce(user_id, '')::text AS user_id FROM providers WHERE user_id = @user_id::text;

-- An empty user_id is a provider without a login.
-- name: CreateProvider :exec
INSERT INTO providers (id, name, specialty, time_zone, user_id) VALUES (@id, @name, @specialty, @time_zone, nullif(@user_id::text, ''));

-- name: ListServices :many
SELECT id, name, duration_minutes FROM services ORDER BY duration_minutes, name;

-- name: GetService :one
SELECT id, name, duration_minutes FROM services WHERE id = @id;

-- name: CreateService :exec
INSERT INTO services (id, name, duration_minutes) VALUES (@id, @name, @duration_minutes);

-- name: ListWorkingHours :many
SELECT weekday, start_minute, end_minute FROM working_hours WHERE provider_id = @provider_id ORDER BY weekday, start_minute;

-- A closed day is one row with no hours, before any other of its date.
-- name: ListScheduleExceptions :many
SELECT day, start_minute, end_minute FROM schedule_exceptions WHERE provider_id = @provider_id ORDER BY day, start_minute NULLS FIRST;

-- name: DeleteWorkingHours :exec
DELETE FROM working_hours WHERE provider_id = @provider_id;

-- name: DeleteScheduleExceptions :exec
DELETE FROM schedule_exceptions WHERE provider_id = @provider_id;

-- name: AddWorkingHours :exec
INSERT INTO working_hours (provider_id, weekday, start_minute, end_minute) VALUES (@provider_id, @weekday, @start_minute, @end_minute);

-- Without hours (NULL start and end minutes) the day is closed.
-- name: AddScheduleException :exec
INSERT INTO schedule_exceptions (provider_id, day, start_minute, end_minute) VALUES (@provider_id, @day, @start_minute, @end_minute);
