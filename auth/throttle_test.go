package auth_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clinicbook/booking/auth"
	"github.com/clinicbook/booking/config"
	"github.com/clinicbook/booking/domain"
)

const (
	attacker = "203.0.113.66"
	owner    = "198.51.100.7"
)

func login(e *env, email, password, addr string) error {
	_, err := e.svc.Login(context.Background(), auth.LoginInput{Email: email, Password: password, ClientAddr: addr})
	return err
}

// Guessing an account's password from one address locks that address out, and no other.
func TestLoginThrottleIsPerAddress(t *testing.T) {
	e := setup(t)
	e.user(t, "ann@example.com", "password-1", domain.RolePatient)

	for i := range 5 {
		requireKind(t, login(e, "ann@example.com", "wrong-password", attacker), domain.KindUnauthorized, "attempt %d", i+1)
	}
	de := requireKind(t, login(e, "ann@example.com", "password-1", attacker), domain.KindRateLimited)
	require.InDelta(t, 300, de.RetryAfterSeconds, 1)

	require.NoError(t, login(e, "ann@example.com", "password-1", owner), "the owner, elsewhere, is not locked out")
	requireKind(t, login(e, "ann@example.com", "password-1", attacker), domain.KindRateLimited, "and the attacker still is")
}

// Spraying passwords over many accounts from one address runs into the per-address limit;
// successful logins do not use it up.
func TestLoginPerAddressLimit(t *testing.T) {
	e := setup(t, auth.Options{Limits: config.Limits{Login: config.Rate{N: 4, Per: 10 * time.Minute}}})
	e.user(t, "ann@example.com", "password-1", domain.RolePatient)

	for range 3 {
		require.NoError(t, login(e, "ann@example.com", "password-1", attacker))
	}
	for i := range 4 {
		requireKind(t, login(e, fmt.Sprintf("victim%d@example.com", i), "Summer2025!", attacker), domain.KindUnauthorized)
	}
	de := requireKind(t, login(e, "victim9@example.com", "Summer2025!", attacker), domain.KindRateLimited)
	require.InDelta(t, 600, de.RetryAfterSeconds, 1)
	requireKind(t, login(e, "ann@example.com", "password-1", attacker), domain.KindRateLimited,
		"over the limit the address is refused before any password is checked")

	require.NoError(t, login(e, "ann@example.com", "password-1", owner))
	requireKind(t, login(e, "victim9@example.com", "Summer2025!", owner), domain.KindUnauthorized)

	e.clock.Advance(10 * time.Minute)
	require.NoError(t, login(e, "ann@example.com", "password-1", attacker), "a new window")
}

func TestRegisterPerAddressLimit(t *testing.T) {
	ctx := context.Background()
	e := setup(t, auth.Options{Limits: config.Limits{Register: config.Rate{N: 2, Per: time.Hour}}})
	register := func(email, addr string) error {
		_, _, err := e.svc.Register(ctx, auth.RegisterInput{Email: email, Password: "password-1", Name: "Pat", Phone: "+4915112345678", ClientAddr: addr})
		return err
	}

	// Details that are not valid cost nothing.
	requireKind(t, register("not-an-email", attacker), domain.KindInvalid)
	require.NoError(t, register("a1@example.com", attacker))
	require.NoError(t, register("a2@example.com", attacker))
	de := requireKind(t, register("a3@example.com", attacker), domain.KindRateLimited)
	require.InDelta(t, 3600, de.RetryAfterSeconds, 1)
	require.NoError(t, register("b1@example.com", owner))
}

// With one hashing slot and no waiting, a burst of logins is answered 401 or 503 with
// Retry-After, never anything else, and the service keeps working after.
func TestLoginHashBudget(t *testing.T) {
	e := setup(t, auth.Options{Limits: config.Limits{PasswordHashMemory: 38 << 20}, HashWait: -1})
	require.Equal(t, 1, e.svc.HashSlots())
	e.user(t, "ann@example.com", "password-1", domain.RolePatient)

	const n = 16
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = login(e, fmt.Sprintf("u%d@example.com", i), "wrong-password", fmt.Sprintf("192.0.2.%d", i))
		})
	}
	wg.Wait()
	busy := 0
	for _, err := range errs {
		switch domain.ErrorKind(err) {
		case domain.KindUnauthorized:
		case domain.KindUnavailable:
			busy++
			require.Equal(t, 1, err.(*domain.Error).RetryAfterSeconds)
		default:
			t.Fatalf("unexpected answer: %v", err)
		}
	}
	t.Logf("%d of %d turned away", busy, n)
	require.NoError(t, login(e, "ann@example.com", "password-1", owner))
}

func TestHashSlots(t *testing.T) {
	st := setup(t)
	require.Equal(t, 2, st.svc.HashSlots(), "the default budget, 96 MiB: a hash costs twice its 19 MiB")
	for _, c := range []struct {
		budget int64
		slots  int
	}{{1, 1}, {38 << 20, 1}, {76<<20 - 1, 1}, {76 << 20, 2}, {1 << 30, 26}} {
		s := auth.NewService(nil, config.JWT{}, nil, auth.Options{Limits: config.Limits{PasswordHashMemory: c.budget}})
		require.Equal(t, c.slots, s.HashSlots(), c.budget)
	}
}

// Requests for verification codes are limited per client address, across accounts.
func TestCodeRequestsPerAddressLimit(t *testing.T) {
	ctx := context.Background()
	e := setup(t, auth.Options{Limits: config.Limits{Verify: config.Rate{N: 2, Per: time.Hour}}})
	require.NoError(t, e.svc.AdmitCodeRequest(ctx, attacker))
	require.NoError(t, e.svc.AdmitCodeRequest(ctx, attacker))
	de := requireKind(t, e.svc.AdmitCodeRequest(ctx, attacker), domain.KindRateLimited)
	require.InDelta(t, 3600, de.RetryAfterSeconds, 1)
	require.NoError(t, e.svc.AdmitCodeRequest(ctx, owner))
}
