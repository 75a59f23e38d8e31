package auth_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clinicbook/booking/auth"
	"github.com/clinicbook/booking/domain"
)

// codeBox records the codes sent, and fails sends while failing is set.
type codeBox struct {
	mu      sync.Mutex
	sent    []sentCode
	failing bool
}

type sentCode struct{ channel, to, code string }

func (b *codeBox) SendCode(_ context.Context, channel, to, code string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.failing {
		return errors.New("provider down")
	}
	b.sent = append(b.sent, sentCode{channel, to, code})
	return nil
}

func (b *codeBox) last(t *testing.T) sentCode {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	require.NotEmpty(t, b.sent)
	return b.sent[len(b.sent)-1]
}

// wrong is a well-formed code other than code.
func wrong(code string) string {
	if code == "000000" {
		return "000001"
	}
	return "000000"
}

func TestVerificationConfirmsEachChannel(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	box := &codeBox{}
	u := e.user(t, "ver@example.com", "password-1", domain.RolePatient)
	require.False(t, u.EmailVerified)
	require.False(t, u.PhoneVerified)
	requireKind(t, e.svc.RequireVerifiedContact(ctx, u.ID), domain.KindVerificationRequired)

	pending, err := e.svc.StartVerification(ctx, u.ID, domain.ChannelSMS, box)
	require.NoError(t, err)
	require.Equal(t, auth.PendingVerification{Channel: "sms", SentTo: u.Phone, ExpiresIn: 10 * time.Minute}, pending)
	sent := box.last(t)
	require.Equal(t, sentCode{"sms", u.Phone, sent.code}, sent)
	require.Regexp(t, regexp.MustCompile(`^\d{6}$`), sent.code)

	// A wrong code names the field and leaves the right one working.
	de := requireKind(t, func() error { _, err := e.svc.ConfirmVerification(ctx, u.ID, "sms", wrong(sent.code)); return err }(), domain.KindUnprocessable)
	require.Equal(t, "code", de.Fields[0].Field)
	got, err := e.svc.ConfirmVerification(ctx, u.ID, "sms", sent.code)
	require.NoError(t, err)
	require.True(t, got.PhoneVerified)
	require.False(t, got.EmailVerified)
	require.NoError(t, e.svc.RequireVerifiedContact(ctx, u.ID))

	// The code is gone once used, and the channel is settled.
	requireKind(t, func() error { _, err := e.svc.ConfirmVerification(ctx, u.ID, "sms", sent.code); return err }(), domain.KindConflict)
	_, err = e.svc.StartVerification(ctx, u.ID, "sms", box)
	requireKind(t, err, domain.KindConflict)

	_, err = e.svc.StartVerification(ctx, u.ID, domain.ChannelEmail, box)
	require.NoError(t, err)
	mail := box.last(t)
	require.Equal(t, "email", mail.channel)
	require.Equal(t, u.Email, mail.to)
	// A code is bound to its channel.
	_, err = e.svc.ConfirmVerification(ctx, u.ID, "email", sent.code)
	if sent.code != mail.code {
		requireKind(t, err, domain.KindUnprocessable)
	}
	got, err = e.svc.ConfirmVerification(ctx, u.ID, "email", mail.code)
	require.NoError(t, err)
	require.True(t, got.EmailVerified && got.PhoneVerified)
}

func TestVerificationRefusesBadInput(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	box := &codeBox{}
	u := e.user(t, "bad@example.com", "password-1", domain.RolePatient)

	de := requireKind(t, func() error { _, err := e.svc.StartVerification(ctx, u.ID, "fax", box); return err }(), domain.KindInvalid)
	require.Equal(t, "channel", de.Fields[0].Field)
	noPhone, err := e.svc.CreateUser(ctx, "nophone@example.com", "password-1", "No Phone", "", domain.RolePatient)
	require.NoError(t, err)
	de = requireKind(t, func() error { _, err := e.svc.StartVerification(ctx, noPhone.ID, "sms", box); return err }(), domain.KindUnprocessable)
	require.Equal(t, "channel", de.Fields[0].Field)

	_, err = e.svc.StartVerification(ctx, u.ID, "sms", box)
	require.NoError(t, err)
	for _, code := range []string{"12345", "1234567", "abcdef", "12 456"} {
		de = requireKind(t, func() error { _, err := e.svc.ConfirmVerification(ctx, u.ID, "sms", code); return err }(), domain.KindInvalid)
		require.Equal(t, "code", de.Fields[0].Field)
	}
	// Malformed codes cost no tries.
	_, err = e.svc.ConfirmVerification(ctx, u.ID, "sms", box.last(t).code)
	require.NoError(t, err)
}

func TestVerificationCodeDiesAfterFiveWrongTries(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	box := &codeBox{}
	u := e.user(t, "guess@example.com", "password-1", domain.RolePatient)
	_, err := e.svc.StartVerification(ctx, u.ID, "sms", box)
	require.NoError(t, err)
	code := box.last(t).code

	for i := 1; i <= auth.MaxCodeAttempts; i++ {
		de := requireKind(t, func() error { _, err := e.svc.ConfirmVerification(ctx, u.ID, "sms", wrong(code)); return err }(), domain.KindUnprocessable)
		require.Contains(t, de.Message, "wrong")
	}
	// The right code no longer works either.
	de := requireKind(t, func() error { _, err := e.svc.ConfirmVerification(ctx, u.ID, "sms", code); return err }(), domain.KindConflict)
	require.Contains(t, de.Message, "request a new one")

	// A new code starts with all its tries.
	_, err = e.svc.StartVerification(ctx, u.ID, "sms", box)
	require.NoError(t, err)
	_, err = e.svc.ConfirmVerification(ctx, u.ID, "sms", box.last(t).code)
	require.NoError(t, err)
}

func TestVerificationConcurrentGuessesShareTheTries(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	box := &codeBox{}
	u := e.user(t, "swarm@example.com", "password-1", domain.RolePatient)
	_, err := e.svc.StartVerification(ctx, u.ID, "sms", box)
	require.NoError(t, err)
	code := box.last(t).code

	var wg sync.WaitGroup
	var mu sync.Mutex
	wrongAnswers := 0
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			guess := fmt.Sprintf("%06d", i)
			if guess == code {
				guess = "999999"
			}
			_, err := e.svc.ConfirmVerification(ctx, u.ID, "sms", guess)
			if domain.IsKind(err, domain.KindUnprocessable) {
				mu.Lock()
				wrongAnswers++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	require.Equal(t, auth.MaxCodeAttempts, wrongAnswers, "only five guesses were checked")
	_, err = e.svc.ConfirmVerification(ctx, u.ID, "sms", code)
	requireKind(t, err, domain.KindConflict)
}

func TestVerificationCodeExpires(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	box := &codeBox{}
	u := e.user(t, "late@example.com", "password-1", domain.RolePatient)
	_, err := e.svc.StartVerification(ctx, u.ID, "email", box)
	require.NoError(t, err)
	e.clock.Advance(auth.CodeTTL)
	de := requireKind(t, func() error { _, err := e.svc.ConfirmVerification(ctx, u.ID, "email", box.last(t).code); return err }(), domain.KindConflict)
	require.Contains(t, de.Message, "expired")
}

func TestVerificationResendsAreLimited(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	box := &codeBox{}
	u := e.user(t, "spam@example.com", "password-1", domain.RolePatient)
	for range auth.MaxCodesPerHour {
		_, err := e.svc.StartVerification(ctx, u.ID, "sms", box)
		require.NoError(t, err)
		e.clock.Advance(time.Minute)
	}
	de := requireKind(t, func() error { _, err := e.svc.StartVerification(ctx, u.ID, "sms", box); return err }(), domain.KindRateLimited)
	// The first send leaves the window an hour after it was made.
	require.Equal(t, int((time.Hour - auth.MaxCodesPerHour*time.Minute).Seconds()), de.RetryAfterSeconds)
	require.Len(t, box.sent, auth.MaxCodesPerHour)
	// Only the latest code works: each resend replaced the one before.
	_, err := e.svc.ConfirmVerification(ctx, u.ID, "sms", box.sent[0].code)
	if box.sent[0].code != box.last(t).code {
		requireKind(t, err, domain.KindUnprocessable)
	}

	// The other channel has its own allowance, and the window slides.
	_, err = e.svc.StartVerification(ctx, u.ID, "email", box)
	require.NoError(t, err)
	e.clock.Advance(time.Duration(de.RetryAfterSeconds) * time.Second)
	_, err = e.svc.StartVerification(ctx, u.ID, "sms", box)
	require.NoError(t, err)
}

func TestVerificationProviderFailureKeepsNoCode(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	box := &codeBox{failing: true}
	u := e.user(t, "down@example.com", "password-1", domain.RolePatient)
	_, err := e.svc.StartVerification(ctx, u.ID, "sms", box)
	requireKind(t, err, domain.KindUnavailable)
	_, err = e.svc.ConfirmVerification(ctx, u.ID, "sms", "123456")
	requireKind(t, err, domain.KindConflict)
}

func TestVerifiedPhoneBelongsToOneAccount(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	box := &codeBox{}
	// e.user gives every account the same phone number.
	ann := e.user(t, "ann@example.com", "password-1", domain.RolePatient)
	bob := e.user(t, "bob@example.com", "password-1", domain.RolePatient)
	eve := e.user(t, "eve@example.com", "password-1", domain.RolePatient)

	_, err := e.svc.StartVerification(ctx, bob.ID, "sms", box)
	require.NoError(t, err)
	bobCode := box.last(t).code
	_, err = e.svc.StartVerification(ctx, ann.ID, "sms", box)
	require.NoError(t, err)
	_, err = e.svc.ConfirmVerification(ctx, ann.ID, "sms", box.last(t).code)
	require.NoError(t, err)

	// Bob's code went out before Ann verified; it no longer can make the number his.
	de := requireKind(t, func() error { _, err := e.svc.ConfirmVerification(ctx, bob.ID, "sms", bobCode); return err }(), domain.KindConflict)
	require.Contains(t, de.Message, "another account")
	// And no new code goes to a number someone else verified.
	sends := len(box.sent)
	_, err = e.svc.StartVerification(ctx, eve.ID, "sms", box)
	requireKind(t, err, domain.KindConflict)
	require.Len(t, box.sent, sends)
}

func TestRequireVerifiedContactOnlyConcernsPatients(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	admin := e.user(t, "root@example.com", "password-1", domain.RoleAdmin)
	require.NoError(t, e.svc.RequireVerifiedContact(ctx, admin.ID))
	require.NoError(t, e.svc.RequireVerifiedContact(ctx, "no-such-user"))
	pat := e.user(t, "pat@example.com", "password-1", domain.RolePatient)
	de := requireKind(t, e.svc.RequireVerifiedContact(ctx, pat.ID), domain.KindVerificationRequired)
	require.Contains(t, de.Message, "POST /v1/me/verify")
}

func TestVerificationCodesPerNumberAreLimitedAcrossAccounts(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	box := &codeBox{}
	// Sign-ups with one victim's number (e.user gives them all the same one) cannot flood it.
	var sent int
	for i := 0; sent < auth.MaxCodesPerAddressHour; i++ {
		u := e.user(t, fmt.Sprintf("flood%d@example.com", i), "password-1", domain.RolePatient)
		for range auth.MaxCodesPerHour {
			if sent == auth.MaxCodesPerAddressHour {
				break
			}
			_, err := e.svc.StartVerification(ctx, u.ID, "sms", box)
			require.NoError(t, err)
			sent++
		}
	}
	u := e.user(t, "flood-last@example.com", "password-1", domain.RolePatient)
	de := requireKind(t, func() error { _, err := e.svc.StartVerification(ctx, u.ID, "sms", box); return err }(), domain.KindRateLimited)
	require.Contains(t, de.Message, "this phone number")
	require.Positive(t, de.RetryAfterSeconds)
	require.Len(t, box.sent, auth.MaxCodesPerAddressHour)
	// The account's email is another address, with its own allowance.
	_, err := e.svc.StartVerification(ctx, u.ID, "email", box)
	require.NoError(t, err)
}
