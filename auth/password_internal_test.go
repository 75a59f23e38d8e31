package auth

import (
	"context"
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clinicbook/booking/config"
	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/store"
	"github.com/clinicbook/booking/store/storetest"
)

func TestHashLimiter(t *testing.T) {
	ctx := context.Background()
	l := newHashLimiter(3*hashFootprint, 50*time.Millisecond)
	require.Equal(t, 3, l.slots)
	require.Equal(t, 1, l.weight(defaultParams.memory))
	require.Equal(t, 2, l.weight(defaultParams.memory+1), "a costlier stored hash takes more")
	require.Equal(t, 3, l.weight(maxMemoryKiB), "and never more than all")

	require.NoError(t, l.acquire(ctx, 2))
	require.NoError(t, l.acquire(ctx, 1))

	// Full: a caller waits briefly and is turned away.
	start := time.Now()
	err := l.acquire(ctx, 1)
	require.Equal(t, domain.KindUnavailable, domain.ErrorKind(err))
	require.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond)
	require.Less(t, time.Since(start), time.Second)

	// A slot freed while it waits is taken.
	go func() {
		time.Sleep(10 * time.Millisecond)
		l.release(1)
	}()
	require.NoError(t, l.acquire(ctx, 1))

	// A waiter for two is not satisfied by one.
	l.release(1)
	require.Equal(t, domain.KindUnavailable, domain.ErrorKind(l.acquire(ctx, 2)))
	l.release(2)
	require.NoError(t, l.acquire(ctx, 3))
	l.release(3)

	// Without a wait, a full limiter answers at once.
	now := newHashLimiter(1, -1)
	require.NoError(t, now.acquire(ctx, 1))
	start = time.Now()
	require.Equal(t, domain.KindUnavailable, domain.ErrorKind(now.acquire(ctx, 1)))
	require.Less(t, time.Since(start), 20*time.Millisecond)

	// A malformed hash costs no slot (and matches nothing).
	release, err := now.reserve(ctx, "garbage")
	require.NoError(t, err)
	release()
	require.False(t, CheckPassword("garbage", "pw"))
}

// A login turned away because every hashing slot is busy (503) is not a failed attempt: an
// owner who retries through a storm is not locked out, and the address's count is given back.
func TestBusyLoginsAreNotFailures(t *testing.T) {
	ctx := context.Background()
	st := store.New(storetest.New(t))
	_, key, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	jwtCfg := config.JWT{Issuer: "booking", Audience: "booking-api", AccessTTL: time.Minute, RefreshTTL: time.Hour,
		SigningKey: config.SigningKey{ID: "k1", Key: key}}
	svc := NewService(st, jwtCfg, nil, Options{
		Limits:   config.Limits{PasswordHashMemory: hashFootprint, Login: config.Rate{N: 3, Per: time.Hour}},
		HashWait: -1,
	})
	_, err = svc.CreateUser(ctx, "ann@example.com", "password-1", "Ann", "", domain.RolePatient)
	require.NoError(t, err)

	// The storm holds the only slot.
	require.NoError(t, svc.hashes.acquire(ctx, 1))
	for range 8 {
		_, err := svc.Login(ctx, LoginInput{Email: "ann@example.com", Password: "password-1", ClientAddr: "198.51.100.7"})
		de := &domain.Error{}
		require.ErrorAs(t, err, &de)
		require.Equal(t, domain.KindUnavailable, de.Kind)
		require.Equal(t, 1, de.RetryAfterSeconds)
	}
	svc.hashes.release(1)

	// Eight busy answers locked nothing: neither the account at that address (5 failures
	// would) nor the address (3 failed logins would).
	tokens, err := svc.Login(ctx, LoginInput{Email: "ann@example.com", Password: "password-1", ClientAddr: "198.51.100.7"})
	require.NoError(t, err)
	require.NotEmpty(t, tokens.AccessToken)
}
