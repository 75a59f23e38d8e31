-- Counts one event against key in its fixed window, starting a new window when the last one
-- ended; a refused event pushes the count no further than max_events + 1.
-- name: TakeRateLimit :one
INSERT INTO rate_limits AS r (key, count, expires_at) VALUES (@key, 1, sqlc.arg(now)::timestamptz + sqlc.arg(per)::interval)
ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN r.expires_at <= sqlc.arg(now) THEN 1 WHEN r.count <= @max_events::integer THEN r.count + 1 ELSE r.count END,
    expires_at = CASE WHEN r.expires_at <= sqlc.arg(now) THEN sqlc.arg(now)::timestamptz + sqlc.arg(per)::interval ELSE r.expires_at END
RETURNING count, expires_at;

-- name: GiveBackRateLimit :exec
UPDATE rate_limits SET count = LEAST(count, @max_events::integer) - 1
WHERE key = @key AND count > 0 AND expires_at > @now;

-- name: PruneRateLimits :execrows
DELETE FROM rate_limits WHERE expires_at <= @now;

-- Failed-login counts that can no longer lock anything: unlocked (or the lock is over) and
-- older than the window.
-- name: PruneLoginFailures :execrows
DELETE FROM login_failures
WHERE updated_at < sqlc.arg(now)::timestamptz - sqlc.arg(window_length)::interval AND (locked_until IS NULL OR locked_until <= sqlc.arg(now));

-- Twilio redelivers an inbound message within minutes, not weeks: a week of message ids is
-- plenty to act on each once.
-- name: PruneInboundMessages :execrows
DELETE FROM inbound_messages WHERE received_at < sqlc.arg(now)::timestamptz - interval '7 days';
