package store

import (
	"context"
	"fmt"
	"time"
)

// TakeRateLimit counts one event against key, allowing limit events per window per. It
// reports whether this one is allowed and, when it is not, when the window ends. The counter
// lives in PostgreSQL so that every API replica shares it; one upsert both counts and decides,
// so concurrent requests cannot all slip under the limit.
//
// The window is fixed: it starts with its first event and lasts per. A refused event does not
// push the count further than limit+1, so GiveBackRateLimit can tell admitted events from the
// refused ones.
func (s *Store) TakeRateLimit(ctx context.Context, key string, limit int, per time.Duration, now time.Time) (bool, time.Time, error) {
	var count int
	var expires time.Time
	err := s.pool.QueryRow(ctx, `INSERT INTO rate_limits AS r (key, count, expires_at) VALUES ($1, 1, $2::timestamptz + $3::interval)
		ON CONFLICT (key) DO UPDATE SET
			count = CASE WHEN r.expires_at <= $2 THEN 1 WHEN r.count <= $4 THEN r.count + 1 ELSE r.count END,
			expires_at = CASE WHEN r.expires_at <= $2 THEN $2::timestamptz + $3::interval ELSE r.expires_at END
		RETURNING count, expires_at`, key, now, per, limit).Scan(&count, &expires)
	if err != nil {
		return false, time.Time{}, fmt.Errorf("take rate limit: %w", err)
	}
	if count > limit {
		return false, expires, nil
	}
	return true, time.Time{}, nil
}

// GiveBackRateLimit returns one admitted event to key's current window, for an event that
// turned out not to count (a login that succeeded). limit is the one TakeRateLimit was given.
func (s *Store) GiveBackRateLimit(ctx context.Context, key string, limit int, now time.Time) error {
	_, err := s.pool.Exec(ctx, `UPDATE rate_limits SET count = LEAST(count, $2) - 1
		WHERE key = $1 AND count > 0 AND expires_at > $3`, key, limit, now)
	if err != nil {
		return fmt.Errorf("give back rate limit: %w", err)
	}
	return nil
}

// PruneThrottles deletes rate-limit windows that have ended and failed-login counts that can
// no longer lock anything: unlocked (or the lock is over) and older than window, the failed
// login policy's Window. It returns how many rows went.
func (s *Store) PruneThrottles(ctx context.Context, now time.Time, window time.Duration) (int64, error) {
	a, err := s.pool.Exec(ctx, `DELETE FROM rate_limits WHERE expires_at <= $1`, now)
	if err != nil {
		return 0, fmt.Errorf("prune rate limits: %w", err)
	}
	b, err := s.pool.Exec(ctx, `DELETE FROM login_failures
		WHERE updated_at < $1::timestamptz - $2::interval AND (locked_until IS NULL OR locked_until <= $1)`, now, window)
	if err != nil {
		return 0, fmt.Errorf("prune login failures: %w", err)
	}
	// Twilio redelivers an inbound message within minutes, not weeks: a week of message ids
	// is plenty to act on each once.
	c, err := s.pool.Exec(ctx, `DELETE FROM inbound_messages WHERE received_at < $1::timestamptz - interval '7 days'`, now)
	if err != nil {
		return 0, fmt.Errorf("prune inbound messages: %w", err)
	}
	return a.RowsAffected() + b.RowsAffected() + c.RowsAffected(), nil
}
