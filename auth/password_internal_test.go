package auth

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clinicbook/booking/domain"
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

	// A malformed hash costs no slot and matches nothing.
	ok, err := now.check(ctx, "garbage", "pw")
	require.NoError(t, err)
	require.False(t, ok)
}
