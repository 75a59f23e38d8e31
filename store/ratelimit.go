package store

import (
	"context"
	"fmt"
	"time"

	"github.com/clinicbook/booking/store/internal/db"
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
	r, err := s.q.TakeRateLimit(ctx, db.TakeRateLimitParams{Key: key, Now: now, Per: per, MaxEvents: limit})
	if err != nil {
		return false, time.Time{}, fmt.Errorf("take rate limit: %w", err)
	}
	if r.Count > limit {
		return false, r.ExpiresAt, nil
	}
	return true, time.Time{}, nil
}

// GiveBackRateLimit returns one admitted event to key's current window, for an event that
// turned out not to count (a login that succeeded). limit is the one TakeRateLimit was given.
func (s *Store) GiveBackRateLimit(ctx context.Context, key string, limit int, now time.Time) error {
	if err := s.q.GiveBackRateLimit(ctx, db.GiveBackRateLimitParams{Key: key, MaxEvents: limit, Now: now}); err != nil {
		return fmt.Errorf("give back rate limit: %w", err)
	}
	return nil
}

// PruneThrottles deletes rate-limit windows that have ended and failed-login counts that can
// no longer lock anything: unlocked (or the lock is over) and older than window, the failed
// login policy's Window. It returns how many rows went.
func (s *Store) PruneThrottles(ctx context.Context, now time.Time, window time.Duration) (int64, error) {
	a, err := s.q.PruneRateLimits(ctx, now)
	if err != nil {
		return 0, fmt.Errorf("prune rate limits: %w", err)
	}
	b, err := s.q.PruneLoginFailures(ctx, db.PruneLoginFailuresParams{Now: now, WindowLength: window})
	if err != nil {
		return 0, fmt.Errorf("prune login failures: %w", err)
	}
	// Twilio redelivers an inbound message within minutes, not weeks: a week of message ids
	// is plenty to act on each once.
	c, err := s.q.PruneInboundMessages(ctx, now)
	if err != nil {
		return 0, fmt.Errorf("prune inbound messages: %w", err)
	}
	return a + b + c, nil
}
