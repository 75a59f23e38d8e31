package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/store"
	"github.com/clinicbook/booking/store/storetest"
)

func TestVerifiedPhoneIsUniqueAndScanned(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := store.New(storetest.New(t))
	now := time.Now().UTC()
	for _, id := range []string{"a", "b"} {
		_, err := s.CreateUser(ctx, domain.User{ID: id, Email: id + "@example.com", PasswordHash: "x", Name: id,
			Phone: "+15550009999", Role: domain.RolePatient})
		require.NoError(t, err)
	}
	_, err := s.CreateUser(ctx, domain.User{ID: "c", Email: "c@example.com", PasswordHash: "x", Name: "c", Role: domain.RolePatient})
	require.NoError(t, err)

	// Two accounts may type in one number; neither has it verified, so it names nobody.
	ok, err := s.PhoneVerified(ctx, "+15550009999")
	require.NoError(t, err)
	require.False(t, ok)

	require.NoError(t, s.MarkVerified(ctx, "a", domain.ChannelSMS, now))
	u, err := s.GetUser(ctx, "a")
	require.NoError(t, err)
	require.True(t, u.PhoneVerified)
	require.False(t, u.EmailVerified)
	ok, err = s.PhoneVerified(ctx, "+15550009999")
	require.NoError(t, err)
	require.True(t, ok)
	taken, err := s.PhoneVerifiedByOther(ctx, "+15550009999", "b")
	require.NoError(t, err)
	require.True(t, taken)
	taken, err = s.PhoneVerifiedByOther(ctx, "+15550009999", "a")
	require.NoError(t, err)
	require.False(t, taken)

	// The database itself refuses a second account verifying the number.
	err = s.MarkVerified(ctx, "b", domain.ChannelSMS, now)
	require.True(t, domain.IsKind(err, domain.KindConflict), "%v", err)
	// No phone, nothing to verify.
	err = s.MarkVerified(ctx, "c", domain.ChannelSMS, now)
	require.True(t, domain.IsKind(err, domain.KindNotFound), "%v", err)

	require.NoError(t, s.MarkVerified(ctx, "b", domain.ChannelEmail, now))
	u, err = s.GetUserByEmail(ctx, "B@example.com")
	require.NoError(t, err)
	require.True(t, u.EmailVerified)
	require.False(t, u.PhoneVerified)
}

func TestVerificationCodesAndSends(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := store.New(storetest.New(t))
	_, err := s.CreateUser(ctx, domain.User{ID: "u", Email: "u@example.com", PasswordHash: "x", Name: "u",
		Phone: "+15550008888", Role: domain.RolePatient})
	require.NoError(t, err)
	now := time.Now().UTC().Truncate(time.Microsecond)
	code := func(hash string, at time.Time) store.VerificationCode {
		return store.VerificationCode{UserID: "u", Channel: domain.ChannelSMS, SentTo: "+15550008888", CodeHash: hash,
			ExpiresAt: at.Add(10 * time.Minute), CreatedAt: at}
	}

	_, err = s.CountVerificationAttempt(ctx, "u", domain.ChannelSMS)
	require.True(t, domain.IsKind(err, domain.KindNotFound))

	limits := store.SendLimits{PerAccount: 2, PerAddress: 3}
	refused, err := s.SaveVerificationCode(ctx, code("h1", now), limits)
	require.NoError(t, err)
	require.Zero(t, refused)
	c, err := s.CountVerificationAttempt(ctx, "u", domain.ChannelSMS)
	require.NoError(t, err)
	require.Equal(t, 1, c.Attempts)
	require.Equal(t, "h1", c.CodeHash)

	// A resend replaces the code and its count.
	refused, err = s.SaveVerificationCode(ctx, code("h2", now.Add(10*time.Minute)), limits)
	require.NoError(t, err)
	require.Zero(t, refused)
	c, err = s.CountVerificationAttempt(ctx, "u", domain.ChannelSMS)
	require.NoError(t, err)
	require.Equal(t, 1, c.Attempts)
	require.Equal(t, "h2", c.CodeHash)

	// A third within the hour is refused until the first leaves the window.
	refused, err = s.SaveVerificationCode(ctx, code("h3", now.Add(20*time.Minute)), limits)
	require.NoError(t, err)
	require.Equal(t, store.SendRefusal{Wait: 40 * time.Minute}, refused)
	c, err = s.CountVerificationAttempt(ctx, "u", domain.ChannelSMS)
	require.NoError(t, err)
	require.Equal(t, "h2", c.CodeHash, "a refused send stores nothing")
	refused, err = s.SaveVerificationCode(ctx, code("h3", now.Add(time.Hour)), limits)
	require.NoError(t, err)
	require.Zero(t, refused)

	// Another account with the same number shares the number's allowance: two of u's sends
	// are still in the window, so v gets one before the number's limit of three.
	_, err = s.CreateUser(ctx, domain.User{ID: "v", Email: "v@example.com", PasswordHash: "x", Name: "v",
		Phone: "+15550008888", Role: domain.RolePatient})
	require.NoError(t, err)
	other := func(at time.Time) store.VerificationCode {
		c := code("hv", at)
		c.UserID = "v"
		return c
	}
	refused, err = s.SaveVerificationCode(ctx, other(now.Add(time.Hour+time.Minute)), limits)
	require.NoError(t, err)
	require.Zero(t, refused)
	refused, err = s.SaveVerificationCode(ctx, other(now.Add(time.Hour+2*time.Minute)), limits)
	require.NoError(t, err)
	require.True(t, refused.ByAddress)
	require.Equal(t, 8*time.Minute, refused.Wait, "u's send at +10m leaves the window at +70m")

	// Completing needs the address the code went to.
	err = s.CompleteVerification(ctx, "u", domain.ChannelSMS, "+15550007777", now)
	require.True(t, domain.IsKind(err, domain.KindConflict))
	require.NoError(t, s.CompleteVerification(ctx, "u", domain.ChannelSMS, "+15550008888", now))
	_, err = s.CountVerificationAttempt(ctx, "u", domain.ChannelSMS)
	require.True(t, domain.IsKind(err, domain.KindNotFound), "the code is gone")
	u, err := s.GetUser(ctx, "u")
	require.NoError(t, err)
	require.True(t, u.PhoneVerified)
}

func TestInboundMessageActsOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := store.New(storetest.New(t))
	now := time.Now()
	first, reply, err := s.ClaimInboundMessage(ctx, "SM1", "+15550001234", now)
	require.NoError(t, err)
	require.True(t, first)
	require.Empty(t, reply)
	require.NoError(t, s.SetInboundReply(ctx, "SM1", "Your booking is cancelled."))

	first, reply, err = s.ClaimInboundMessage(ctx, "SM1", "+15550001234", now)
	require.NoError(t, err)
	require.False(t, first)
	require.Equal(t, "Your booking is cancelled.", reply)

	first, _, err = s.ClaimInboundMessage(ctx, "SM2", "+15550001234", now)
	require.NoError(t, err)
	require.True(t, first)
}

// Codes to one address are capped per day too: accounts that name someone else's number
// get at most that many codes (and so guesses) at it a day, however they spread them.
func TestVerificationSendsPerAddressAndDay(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := store.New(storetest.New(t))
	_, err := s.CreateUser(ctx, domain.User{ID: "u", Email: "u@example.com", PasswordHash: "x", Name: "u",
		Phone: "+15550009999", Role: domain.RolePatient})
	require.NoError(t, err)
	now := time.Now().UTC().Truncate(time.Microsecond)
	save := func(at time.Time) store.SendRefusal {
		refused, err := s.SaveVerificationCode(ctx, store.VerificationCode{UserID: "u", Channel: domain.ChannelSMS,
			SentTo: "+15550009999", CodeHash: "h", ExpiresAt: at.Add(10 * time.Minute), CreatedAt: at},
			store.SendLimits{PerAccount: 100, PerAddress: 100, PerAddressDay: 3})
		require.NoError(t, err)
		return refused
	}
	for h := 0; h < 6; h += 2 {
		require.Zero(t, save(now.Add(time.Duration(h)*time.Hour)))
	}
	require.Equal(t, store.SendRefusal{Wait: 18 * time.Hour, ByAddress: true}, save(now.Add(6*time.Hour)))
	require.Zero(t, save(now.Add(24*time.Hour+time.Minute)), "the first send has left the day")
}
