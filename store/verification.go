package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/store/internal/db"
)

// VerificationCode is the pending code of one account and channel. Only its hash is kept.
type VerificationCode struct {
	UserID    string
	Channel   string
	SentTo    string
	CodeHash  string
	ExpiresAt time.Time
	// Attempts counts the tries at confirming, the one that read it included.
	Attempts  int
	CreatedAt time.Time
}

// checkChannel refuses a channel that has no verification: only email and SMS have one.
func checkChannel(channel string) error {
	if channel != domain.ChannelEmail && channel != domain.ChannelSMS {
		return fmt.Errorf("unknown verification channel %q", channel)
	}
	return nil
}

var errPhoneTaken = &domain.Error{Kind: domain.KindConflict,
	Message: "this phone number is already verified by another account",
	Fields:  []domain.FieldError{{Field: "phone", Message: "verified by another account"}}}

// SendLimits bound how many codes go out in any hour: per account and channel, and per
// address across all accounts; and in any day per address, which is what bounds how many
// guesses accounts that name someone else's number can make at it.
type SendLimits struct {
	PerAccount    int
	PerAddress    int
	PerAddressDay int
}

// SendRefusal says why SaveVerificationCode stored nothing; the zero value means it stored.
type SendRefusal struct {
	// Wait is how long until the oldest counted send leaves the window.
	Wait time.Duration
	// ByAddress is set when the address's limit was reached, rather than the account's.
	ByAddress bool
}

// SaveVerificationCode stores c as the account's pending code for its channel, replacing any
// earlier one, and counts it as sent, unless the account or the address reached its limit in
// the hour before c.CreatedAt: then it stores nothing and says so. The user's row and an
// advisory lock on the address are held meanwhile, so concurrent requests cannot squeeze
// under either limit together.
func (s *Store) SaveVerificationCode(ctx context.Context, c VerificationCode, limits SendLimits) (SendRefusal, error) {
	var refused SendRefusal
	err := s.inTx(ctx, func(q *db.Queries) error {
		if _, err := q.LockUser(ctx, c.UserID); err != nil {
			return notFound(err, "user")
		}
		if err := q.LockVerificationAddress(ctx, c.SentTo); err != nil {
			return err
		}
		since, day := c.CreatedAt.Add(-time.Hour), c.CreatedAt.Add(-24*time.Hour)
		// Sends older than the longest window count for nothing any more.
		if err := q.DeleteOldVerificationSends(ctx, db.DeleteOldVerificationSendsParams{UserID: c.UserID, SentTo: c.SentTo, Before: day}); err != nil {
			return err
		}
		// over reports whether n sends, the oldest at oldest, reach limit in window, and if so
		// how long until the oldest leaves it.
		over := func(n int, oldest time.Time, limit int, window time.Duration) bool {
			if n < limit {
				return false
			}
			refused.Wait = oldest.Add(window).Sub(c.CreatedAt)
			return true
		}
		if limits.PerAccount > 0 {
			sent, err := q.CountAccountSends(ctx, db.CountAccountSendsParams{UserID: c.UserID, Channel: c.Channel, Since: since})
			if err != nil {
				return err
			}
			if over(sent.Count, sent.Oldest, limits.PerAccount, time.Hour) {
				return nil
			}
		}
		for _, w := range []struct {
			limit  int
			window time.Duration
			since  time.Time
		}{{limits.PerAddress, time.Hour, since}, {limits.PerAddressDay, 24 * time.Hour, day}} {
			if w.limit <= 0 {
				continue
			}
			sent, err := q.CountAddressSends(ctx, db.CountAddressSendsParams{SentTo: c.SentTo, Since: w.since})
			if err != nil {
				return err
			}
			if over(sent.Count, sent.Oldest, w.limit, w.window) {
				refused.ByAddress = true
				return nil
			}
		}
		if err := q.AddVerificationSend(ctx, db.AddVerificationSendParams{UserID: c.UserID, Channel: c.Channel,
			SentTo: c.SentTo, SentAt: c.CreatedAt}); err != nil {
			return err
		}
		return q.SaveVerificationCode(ctx, db.SaveVerificationCodeParams{UserID: c.UserID, Channel: c.Channel, SentTo: c.SentTo,
			CodeHash: c.CodeHash, ExpiresAt: c.ExpiresAt, CreatedAt: c.CreatedAt})
	})
	if domain.IsKind(err, domain.KindNotFound) {
		return SendRefusal{}, err
	}
	if err != nil {
		return SendRefusal{}, fmt.Errorf("save verification code: %w", err)
	}
	return refused, nil
}

// DeleteVerificationCode drops the pending code of an account and channel if it is still the
// one with codeHash (a concurrent resend may have replaced it).
func (s *Store) DeleteVerificationCode(ctx context.Context, userID, channel, codeHash string) error {
	if err := s.q.DeleteVerificationCode(ctx, db.DeleteVerificationCodeParams{UserID: userID, Channel: channel, CodeHash: codeHash}); err != nil {
		return fmt.Errorf("delete verification code: %w", err)
	}
	return nil
}

// CountVerificationAttempt counts one try at the pending code of an account and channel and
// returns the code with the count including this try; KindNotFound when there is none. The
// count is taken before the code is compared, under the row's lock, so concurrent guesses
// each use up a try and cannot exceed the limit between them.
func (s *Store) CountVerificationAttempt(ctx context.Context, userID, channel string) (VerificationCode, error) {
	r, err := s.q.CountVerificationAttempt(ctx, db.CountVerificationAttemptParams{UserID: userID, Channel: channel})
	if errors.Is(err, pgx.ErrNoRows) {
		return VerificationCode{}, domain.Errorf(domain.KindNotFound, "no verification code pending")
	}
	if err != nil {
		return VerificationCode{}, fmt.Errorf("count verification attempt: %w", err)
	}
	return VerificationCode{UserID: userID, Channel: channel, SentTo: r.SentTo, CodeHash: r.CodeHash,
		ExpiresAt: r.ExpiresAt, Attempts: r.Attempts, CreatedAt: r.CreatedAt}, nil
}

// CompleteVerification marks the channel verified as of at, provided the user's address is
// still address (the one the code went to), and drops the pending code. A phone another
// account has verified meanwhile is KindConflict; an address changed since the code was sent
// is KindConflict too.
func (s *Store) CompleteVerification(ctx context.Context, userID, channel, address string, at time.Time) error {
	if err := checkChannel(channel); err != nil {
		return err
	}
	err := s.inTx(ctx, func(q *db.Queries) error {
		var changed int64
		var err error
		if channel == domain.ChannelSMS {
			changed, err = q.VerifyPhone(ctx, db.VerifyPhoneParams{ID: userID, Address: address, At: at})
		} else {
			changed, err = q.VerifyEmail(ctx, db.VerifyEmailParams{ID: userID, Address: address, At: at})
		}
		if err != nil {
			return err
		}
		if changed == 0 {
			return domain.Errorf(domain.KindConflict, "your %s changed after the code was sent; request a new code", addressName(channel))
		}
		return q.DropVerificationCode(ctx, db.DropVerificationCodeParams{UserID: userID, Channel: channel})
	})
	if pgCode(err) == codeUniqueViolation {
		return errPhoneTaken
	}
	if domain.IsKind(err, domain.KindConflict) {
		return err
	}
	if err != nil {
		return fmt.Errorf("complete verification: %w", err)
	}
	return nil
}

func addressName(channel string) string {
	if channel == domain.ChannelSMS {
		return "phone number"
	}
	return "email address"
}

// MarkVerified marks a channel of a user verified as of at without a code: for the seeded demo
// accounts and for tests that are not about verification.
func (s *Store) MarkVerified(ctx context.Context, userID, channel string, at time.Time) error {
	if err := checkChannel(channel); err != nil {
		return err
	}
	// An empty phone is no number: it is never verified.
	var changed int64
	var err error
	if channel == domain.ChannelSMS {
		changed, err = s.q.MarkPhoneVerified(ctx, db.MarkPhoneVerifiedParams{ID: userID, At: at})
	} else {
		changed, err = s.q.MarkEmailVerified(ctx, db.MarkEmailVerifiedParams{ID: userID, At: at})
	}
	if pgCode(err) == codeUniqueViolation {
		return errPhoneTaken
	}
	if err != nil {
		return fmt.Errorf("mark verified: %w", err)
	}
	if changed == 0 {
		return domain.Errorf(domain.KindNotFound, "user not found, or without a %s", addressName(channel))
	}
	return nil
}

// PhoneVerifiedByOther reports whether an account other than userID has verified phone.
func (s *Store) PhoneVerifiedByOther(ctx context.Context, phone, userID string) (bool, error) {
	taken, err := s.q.PhoneVerifiedByOther(ctx, db.PhoneVerifiedByOtherParams{Phone: phone, UserID: userID})
	if err != nil {
		return false, fmt.Errorf("phone verified by other: %w", err)
	}
	return taken, nil
}

// ClaimInboundMessage records an inbound SMS by its MessageSid before it is acted on. It
// reports whether this is the first delivery; for a repeat it returns the reply stored for the
// first ("" while the first is still being handled, or if it never stored one).
func (s *Store) ClaimInboundMessage(ctx context.Context, sid, from string, at time.Time) (first bool, reply string, err error) {
	claimed, err := s.q.ClaimInboundMessage(ctx, db.ClaimInboundMessageParams{MessageSid: sid, FromNumber: from, ReceivedAt: at})
	if err != nil {
		return false, "", fmt.Errorf("claim inbound message: %w", err)
	}
	if claimed == 1 {
		return true, "", nil
	}
	reply, err = s.q.InboundReply(ctx, sid)
	if err != nil {
		return false, "", fmt.Errorf("claim inbound message: %w", err)
	}
	return false, reply, nil
}

// SetInboundReply stores what was answered to an inbound SMS, for a repeat delivery of it.
func (s *Store) SetInboundReply(ctx context.Context, sid, reply string) error {
	if err := s.q.SetInboundReply(ctx, db.SetInboundReplyParams{MessageSid: sid, Reply: reply}); err != nil {
		return fmt.Errorf("set inbound reply: %w", err)
	}
	return nil
}

// PhoneVerified reports whether some account has verified phone: only then may an SMS from it
// act on bookings.
func (s *Store) PhoneVerified(ctx context.Context, phone string) (bool, error) {
	ok, err := s.q.PhoneVerified(ctx, phone)
	if err != nil {
		return false, fmt.Errorf("phone verified: %w", err)
	}
	return ok, nil
}
