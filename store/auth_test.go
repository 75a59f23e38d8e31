package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/store"
	"github.com/clinicbook/booking/store/storetest"
)

func TestRefreshTokenRotation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := store.New(storetest.New(t))
	_, err := s.CreateUser(ctx, domain.User{ID: "u1", Email: "ann@example.com", PasswordHash: "x", Name: "Ann", Role: domain.RoleProvider})
	require.NoError(t, err)
	now := time.Now().UTC().Truncate(time.Microsecond)
	require.NoError(t, s.CreateRefreshToken(ctx, store.RefreshToken{Hash: "h1", UserID: "u1", FamilyID: "f1", ExpiresAt: now.Add(time.Hour)}))

	p, err := s.RotateRefreshToken(ctx, "h1", "h2", now, now.Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, domain.Principal{UserID: "u1", Role: domain.RoleProvider}, p)

	// Spent: a second rotation is refused and stores nothing.
	_, err = s.RotateRefreshToken(ctx, "h1", "h3", now, now.Add(time.Hour))
	require.ErrorIs(t, err, store.ErrRefreshTokenNotUsable)
	_, err = s.GetRefreshToken(ctx, "h3")
	require.True(t, domain.IsKind(err, domain.KindNotFound))

	old, err := s.GetRefreshToken(ctx, "h1")
	require.NoError(t, err)
	require.NotNil(t, old.UsedAt)
	next, err := s.GetRefreshToken(ctx, "h2")
	require.NoError(t, err)
	require.Equal(t, "f1", next.FamilyID)
	require.Nil(t, next.UsedAt)

	// Expired tokens and revoked families are not usable.
	_, err = s.RotateRefreshToken(ctx, "h2", "h4", now.Add(2*time.Hour), now.Add(3*time.Hour))
	require.ErrorIs(t, err, store.ErrRefreshTokenNotUsable)
	known, err := s.RevokeRefreshFamilyOf(ctx, "h2", now)
	require.NoError(t, err)
	require.True(t, known)
	_, err = s.RotateRefreshToken(ctx, "h2", "h4", now, now.Add(time.Hour))
	require.ErrorIs(t, err, store.ErrRefreshTokenNotUsable)
	for _, h := range []string{"h1", "h2"} {
		tok, err := s.GetRefreshToken(ctx, h)
		require.NoError(t, err)
		require.NotNil(t, tok.RevokedAt, h)
	}
	known, err = s.RevokeRefreshFamilyOf(ctx, "nope", now)
	require.NoError(t, err)
	require.False(t, known)
}

func TestBeginLoginAttemptCountsConcurrentAttempts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := store.New(storetest.New(t))
	now := time.Now().UTC().Truncate(time.Microsecond)
	policy := store.LoginThrottle{MaxFailures: 5, Window: 15 * time.Minute, Lock: 5 * time.Minute}

	// A burst of simultaneous guesses: exactly MaxFailures go on, the rest are refused.
	const n = 20
	locked := make([]time.Time, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { locked[i], errs[i] = s.BeginLoginAttempt(ctx, "ann@example.com", "192.0.2.1", now, policy) })
	}
	wg.Wait()
	allowed := 0
	for i := range n {
		require.NoError(t, errs[i])
		if locked[i].IsZero() {
			allowed++
		} else {
			require.True(t, locked[i].Equal(now.Add(5*time.Minute)), locked[i])
		}
	}
	require.Equal(t, 5, allowed)

	// The lock lapses; clearing forgets everything.
	until, err := s.BeginLoginAttempt(ctx, "ann@example.com", "192.0.2.1", now.Add(5*time.Minute+time.Second), policy)
	require.NoError(t, err)
	require.True(t, until.IsZero())
	require.NoError(t, s.ClearLoginFailures(ctx, "ann@example.com", "192.0.2.1"))
	for range 4 {
		until, err = s.BeginLoginAttempt(ctx, "ann@example.com", "192.0.2.1", now.Add(6*time.Minute), policy)
		require.NoError(t, err)
		require.True(t, until.IsZero())
	}
}

func TestLoginThrottleLocksOneAddressOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := store.New(storetest.New(t))
	now := time.Now().UTC().Truncate(time.Microsecond)
	policy := store.LoginThrottle{MaxFailures: 5, Window: 15 * time.Minute, Lock: 5 * time.Minute}

	for range 5 {
		until, err := s.BeginLoginAttempt(ctx, "ann@example.com", "203.0.113.66", now, policy)
		require.NoError(t, err)
		require.True(t, until.IsZero())
	}
	until, err := s.BeginLoginAttempt(ctx, "ann@example.com", "203.0.113.66", now, policy)
	require.NoError(t, err)
	require.False(t, until.IsZero(), "the guessing address is locked")
	until, err = s.BeginLoginAttempt(ctx, "ann@example.com", "198.51.100.7", now, policy)
	require.NoError(t, err)
	require.True(t, until.IsZero(), "the owner's address is not")
}

func TestRateLimitWindow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := store.New(storetest.New(t))
	now := time.Now().UTC().Truncate(time.Microsecond)

	// A burst of simultaneous events: exactly the limit is admitted.
	const n = 12
	ok := make([]bool, n)
	retry := make([]time.Time, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { ok[i], retry[i], errs[i] = s.TakeRateLimit(ctx, "login:a", 3, time.Minute, now) })
	}
	wg.Wait()
	admitted := 0
	for i := range n {
		require.NoError(t, errs[i])
		if ok[i] {
			admitted++
		} else {
			require.True(t, retry[i].Equal(now.Add(time.Minute)), retry[i])
		}
	}
	require.Equal(t, 3, admitted)

	// Other keys are counted apart.
	allowed, _, err := s.TakeRateLimit(ctx, "login:b", 3, time.Minute, now)
	require.NoError(t, err)
	require.True(t, allowed)

	// Giving one back makes room for exactly one more, refusals before it notwithstanding.
	require.NoError(t, s.GiveBackRateLimit(ctx, "login:a", 3, now))
	allowed, _, err = s.TakeRateLimit(ctx, "login:a", 3, time.Minute, now)
	require.NoError(t, err)
	require.True(t, allowed)
	allowed, _, err = s.TakeRateLimit(ctx, "login:a", 3, time.Minute, now)
	require.NoError(t, err)
	require.False(t, allowed)

	// A new window starts when the old one ends.
	allowed, _, err = s.TakeRateLimit(ctx, "login:a", 3, time.Minute, now.Add(time.Minute))
	require.NoError(t, err)
	require.True(t, allowed)
}

func TestPruneThrottles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := store.New(storetest.New(t))
	now := time.Now().UTC().Truncate(time.Microsecond)
	policy := store.LoginThrottle{MaxFailures: 2, Window: 15 * time.Minute, Lock: 5 * time.Minute}

	_, _, err := s.TakeRateLimit(ctx, "register:old", 1, time.Minute, now.Add(-2*time.Minute))
	require.NoError(t, err)
	_, _, err = s.TakeRateLimit(ctx, "register:new", 1, time.Minute, now)
	require.NoError(t, err)
	_, err = s.BeginLoginAttempt(ctx, "old@example.com", "192.0.2.1", now.Add(-time.Hour), policy)
	require.NoError(t, err)
	_, err = s.BeginLoginAttempt(ctx, "new@example.com", "192.0.2.1", now.Add(-time.Minute), policy)
	require.NoError(t, err)

	first, _, err := s.ClaimInboundMessage(ctx, "SMold", "+15550001111", now.Add(-8*24*time.Hour))
	require.NoError(t, err)
	require.True(t, first)
	first, _, err = s.ClaimInboundMessage(ctx, "SMnew", "+15550001111", now.Add(-time.Hour))
	require.NoError(t, err)
	require.True(t, first)

	pruned, err := s.PruneThrottles(ctx, now, policy.Window)
	require.NoError(t, err)
	require.EqualValues(t, 3, pruned)
	first, _, err = s.ClaimInboundMessage(ctx, "SMnew", "+15550001111", now)
	require.NoError(t, err)
	require.False(t, first, "a recent message id is kept")

	var keys []string
	rows, _ := s.Pool().Query(ctx, `SELECT key FROM rate_limits UNION ALL SELECT email FROM login_failures ORDER BY 1`)
	for rows.Next() {
		var k string
		require.NoError(t, rows.Scan(&k))
		keys = append(keys, k)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{"new@example.com", "register:new"}, keys)
}
