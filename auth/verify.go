package auth

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"time"

	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/store"
)

// Verification limits. A 6-digit code with 5 tries gives a guesser 1 in 200,000 per code, and
// at most 5 codes per channel an hour keeps that, and the SMS bill, small. The per-address
// limit is what stops many sign-ups with one victim's number from flooding it; it is higher
// than the account's so that strangers cannot as easily use it up for the number's owner.
const (
	CodeTTL                = 10 * time.Minute
	MaxCodeAttempts        = 5
	MaxCodesPerHour        = 5
	MaxCodesPerAddressHour = 10
	// MaxCodesPerAddressDay bounds the guesses at one number or address: several accounts
	// naming it get at most this many codes, of MaxCodeAttempts tries each, a day.
	MaxCodesPerAddressDay = 20
	verificationTimeout   = 20 * time.Second
)

// CodeSender delivers a verification code to an address (notify.CodeSender). The message is
// the clinic's fixed text around the code: nothing the user typed goes into it.
type CodeSender interface {
	SendCode(ctx context.Context, channel, to, code string) error
}

// PendingVerification is what StartVerification tells the caller: where the code went and how
// long it stays valid.
type PendingVerification struct {
	Channel   string
	SentTo    string
	ExpiresIn time.Duration
}

// checkChannel returns the address of u that channel verifies.
func checkChannel(u domain.User, channel string) (string, error) {
	switch channel {
	case domain.ChannelEmail:
		return u.Email, nil
	case domain.ChannelSMS:
		if u.Phone == "" {
			return "", &domain.Error{Kind: domain.KindUnprocessable, Message: "your account has no phone number to verify",
				Fields: []domain.FieldError{{Field: "channel", Message: "no phone number on the account"}}}
		}
		return u.Phone, nil
	}
	return "", domain.Invalid("channel must be email or sms", domain.FieldError{Field: "channel", Message: `must be "email" or "sms"`})
}

func verified(u domain.User, channel string) bool {
	if channel == domain.ChannelSMS {
		return u.PhoneVerified
	}
	return u.EmailVerified
}

// StartVerification sends a new 6-digit code to the caller's address on channel, replacing
// any earlier code; it returns once send has handed it to the provider. A failing provider is
// KindUnavailable.
func (s *Service) StartVerification(ctx context.Context, userID, channel string, send CodeSender) (PendingVerification, error) {
	u, err := s.Me(ctx, userID)
	if err != nil {
		return PendingVerification{}, err
	}
	to, err := checkChannel(u, channel)
	if err != nil {
		return PendingVerification{}, err
	}
	if verified(u, channel) {
		return PendingVerification{}, domain.Errorf(domain.KindConflict, "your %s is verified already", channel)
	}
	if channel == domain.ChannelSMS {
		// Refused before anything is sent: the number's owner proved it is theirs.
		taken, err := s.st.PhoneVerifiedByOther(ctx, to, u.ID)
		if err != nil {
			return PendingVerification{}, fmt.Errorf("start verification: %w", err)
		}
		if taken {
			return PendingVerification{}, phoneTaken()
		}
	}
	if send == nil {
		return PendingVerification{}, errors.New("start verification: no code sender configured")
	}

	code, err := newCode()
	if err != nil {
		return PendingVerification{}, err
	}
	now := s.now()
	hash := s.hashCode(u.ID, channel, to, code)
	refused, err := s.st.SaveVerificationCode(ctx, store.VerificationCode{
		UserID: u.ID, Channel: channel, SentTo: to, CodeHash: hash,
		ExpiresAt: now.Add(CodeTTL), CreatedAt: now,
	}, store.SendLimits{PerAccount: MaxCodesPerHour, PerAddress: MaxCodesPerAddressHour, PerAddressDay: MaxCodesPerAddressDay})
	if err != nil {
		return PendingVerification{}, fmt.Errorf("start verification: %w", err)
	}
	if refused.Wait > 0 {
		msg := fmt.Sprintf("at most %d codes an hour may be sent to your %s; try again later", MaxCodesPerHour, channel)
		if refused.ByAddress {
			msg = fmt.Sprintf("too many codes were sent to this %s lately; try again later", addressName(channel))
		}
		return PendingVerification{}, &domain.Error{Kind: domain.KindRateLimited, RetryAfterSeconds: ceilSeconds(refused.Wait), Message: msg}
	}

	sendCtx, cancel := context.WithTimeout(ctx, verificationTimeout)
	defer cancel()
	if err := send.SendCode(sendCtx, channel, to, code); err != nil {
		// The code never arrived, so it must not be confirmable either; the send still counts
		// against the hourly limit, which is what keeps a failing provider from being hammered.
		if derr := s.st.DeleteVerificationCode(context.WithoutCancel(ctx), u.ID, channel, hash); derr != nil {
			slog.WarnContext(ctx, "drop unsent verification code", "err", derr)
		}
		slog.WarnContext(ctx, "verification code not sent", "channel", channel, "err", err)
		return PendingVerification{}, &domain.Error{Kind: domain.KindUnavailable,
			Message: fmt.Sprintf("the %s provider did not take the code; try again in a minute", channel)}
	}
	return PendingVerification{Channel: channel, SentTo: to, ExpiresIn: CodeTTL}, nil
}

// AdmitCodeRequest counts a request for a verification code against the client address's
// limit (RATE_LIMIT_VERIFY): every code is an SMS or email the clinic pays for, and accounts
// are cheap, so the per-account limit alone would not stop one address from sending many.
func (s *Service) AdmitCodeRequest(ctx context.Context, clientAddr string) error {
	return s.takeLimit(ctx, "verify:"+clientAddr, s.limits.Verify, "too many verification codes requested from your address; try again later")
}

// ConfirmVerification checks code against the caller's pending code on channel and, when it
// matches, marks the channel verified and returns the updated account. Each try counts, right
// or wrong; after MaxCodeAttempts the code is dead and a new one must be requested.
func (s *Service) ConfirmVerification(ctx context.Context, userID, channel, code string) (domain.User, error) {
	u, err := s.Me(ctx, userID)
	if err != nil {
		return domain.User{}, err
	}
	to, err := checkChannel(u, channel)
	if err != nil {
		return domain.User{}, err
	}
	if !validCodeFormat(code) {
		return domain.User{}, domain.Invalid("the code is 6 digits", domain.FieldError{Field: "code", Message: "must be the 6 digits we sent"})
	}
	pending, err := s.st.CountVerificationAttempt(ctx, u.ID, channel)
	if domain.IsKind(err, domain.KindNotFound) {
		if verified(u, channel) {
			return domain.User{}, domain.Errorf(domain.KindConflict, "your %s is verified already", channel)
		}
		return domain.User{}, domain.Errorf(domain.KindConflict, "no code is pending for your %s; request one with POST /v1/me/verify", channel)
	}
	if err != nil {
		return domain.User{}, fmt.Errorf("confirm verification: %w", err)
	}
	if pending.Attempts > MaxCodeAttempts {
		return domain.User{}, domain.Errorf(domain.KindConflict,
			"this code has had %d wrong tries and no longer works; request a new one with POST /v1/me/verify", MaxCodeAttempts)
	}
	if !s.now().Before(pending.ExpiresAt) {
		return domain.User{}, domain.Errorf(domain.KindConflict, "this code has expired; request a new one with POST /v1/me/verify")
	}
	// The hash binds the code to the address it went to, so a code sent before the address
	// changed does not match the new one.
	want, err := hex.DecodeString(pending.CodeHash)
	if err != nil {
		return domain.User{}, fmt.Errorf("confirm verification: stored hash: %w", err)
	}
	got, _ := hex.DecodeString(s.hashCode(u.ID, channel, to, code))
	if !hmac.Equal(got, want) {
		left := MaxCodeAttempts - pending.Attempts
		msg := fmt.Sprintf("the code is wrong; %d tries left", left)
		if left == 0 {
			msg = "the code is wrong, and that was the last try; request a new one with POST /v1/me/verify"
		}
		return domain.User{}, &domain.Error{Kind: domain.KindUnprocessable, Message: msg,
			Fields: []domain.FieldError{{Field: "code", Message: "does not match the code we sent"}}}
	}
	if err := s.st.CompleteVerification(ctx, u.ID, channel, to, s.now()); err != nil {
		if domain.IsKind(err, domain.KindConflict) {
			return domain.User{}, err
		}
		return domain.User{}, fmt.Errorf("confirm verification: %w", err)
	}
	return s.Me(ctx, u.ID)
}

// RequireVerifiedContact refuses a patient who has verified neither email nor phone: the
// clinic would have nowhere it may write to them. Other roles, and unknown ids (answered
// later by whatever looks them up), pass.
func (s *Service) RequireVerifiedContact(ctx context.Context, userID string) error {
	u, err := s.st.GetUser(ctx, userID)
	if domain.IsKind(err, domain.KindNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("require verified contact: %w", err)
	}
	if u.Role != domain.RolePatient || u.EmailVerified || u.PhoneVerified {
		return nil
	}
	return domain.Errorf(domain.KindVerificationRequired,
		"the patient has no verified email or phone; verify one first: POST /v1/me/verify {\"channel\": \"email\"} "+
			"(or \"sms\"), then POST /v1/me/verify/confirm {\"channel\", \"code\"} with the 6-digit code sent there")
}

func addressName(channel string) string {
	if channel == domain.ChannelSMS {
		return "phone number"
	}
	return "email address"
}

func phoneTaken() error {
	return &domain.Error{Kind: domain.KindConflict,
		Message: "this phone number is already verified by another account",
		Fields:  []domain.FieldError{{Field: "phone", Message: "verified by another account"}}}
}

// newCode is a uniformly random 6-digit code.
func newCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", fmt.Errorf("verification code: %w", err)
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

func validCodeFormat(code string) bool {
	if len(code) != 6 {
		return false
	}
	for _, c := range code {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// hashCode is an HMAC of the code with the account, channel and address it belongs to. A plain
// hash of a 6-digit code falls to a million guesses offline; the HMAC's key, derived from the
// JWT signing key's seed, is not in the database.
func (s *Service) hashCode(userID, channel, address, code string) string {
	var seed []byte
	if k := s.cfg.SigningKey.Key; len(k) == ed25519.PrivateKeySize {
		seed = k.Seed()
	}
	kdf := hmac.New(sha256.New, seed)
	kdf.Write([]byte("clinicbook verification code v1"))
	mac := hmac.New(sha256.New, kdf.Sum(nil))
	for _, part := range []string{userID, channel, address, code} {
		mac.Write([]byte(part))
		mac.Write([]byte{0})
	}
	return hex.EncodeToString(mac.Sum(nil))
}

func ceilSeconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return s
}
