package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/clinicbook/booking/domain"
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

// verifiedColumn is the users column that records a channel's verification.
func verifiedColumn(channel string) (string, error) {
	switch channel {
	case domain.ChannelEmail:
		return "email_verified_at", nil
	case domain.ChannelSMS:
		return "phone_verified_at", nil
	}
	return "", fmt.Errorf("unknown verification channel %q", channel)
}

// addressColumn is the users column holding a channel's address.
func addressColumn(channel string) string {
	if channel == domain.ChannelSMS {
		return "phone"
	}
	return "email"
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
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		var id string
		if err := tx.QueryRow(ctx, `SELECT id FROM users WHERE id = $1 FOR UPDATE`, c.UserID).Scan(&id); err != nil {
			return notFound(err, "user")
		}
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('verification:' || $1, 0))`, c.SentTo); err != nil {
			return err
		}
		since, day := c.CreatedAt.Add(-time.Hour), c.CreatedAt.Add(-24*time.Hour)
		// Sends older than the longest window count for nothing any more.
		if _, err := tx.Exec(ctx, `DELETE FROM verification_sends WHERE (user_id = $1 OR sent_to = $2) AND sent_at <= $3`,
			c.UserID, c.SentTo, day); err != nil {
			return err
		}
		check := func(query string, limit int, window time.Duration, args ...any) (bool, error) {
			if limit <= 0 {
				return false, nil
			}
			var n int
			var oldest *time.Time
			if err := tx.QueryRow(ctx, query, args...).Scan(&n, &oldest); err != nil {
				return false, err
			}
			if n < limit || oldest == nil {
				return false, nil
			}
			refused.Wait = oldest.Add(window).Sub(c.CreatedAt)
			return true, nil
		}
		over, err := check(`SELECT count(*), min(sent_at) FROM verification_sends
			WHERE user_id = $1 AND channel = $2 AND sent_at > $3`, limits.PerAccount, time.Hour, c.UserID, c.Channel, since)
		if err != nil || over {
			return err
		}
		for _, w := range []struct {
			limit  int
			window time.Duration
			since  time.Time
		}{{limits.PerAddress, time.Hour, since}, {limits.PerAddressDay, 24 * time.Hour, day}} {
			over, err = check(`SELECT count(*), min(sent_at) FROM verification_sends
				WHERE sent_to = $1 AND sent_at > $2`, w.limit, w.window, c.SentTo, w.since)
			if err != nil || over {
				refused.ByAddress = over
				return err
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO verification_sends (user_id, channel, sent_to, sent_at) VALUES ($1, $2, $3, $4)`,
			c.UserID, c.Channel, c.SentTo, c.CreatedAt); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO verification_codes (user_id, channel, sent_to, code_hash, expires_at, attempts, created_at)
			VALUES ($1, $2, $3, $4, $5, 0, $6)
			ON CONFLICT (user_id, channel) DO UPDATE SET sent_to = EXCLUDED.sent_to, code_hash = EXCLUDED.code_hash,
				expires_at = EXCLUDED.expires_at, attempts = 0, created_at = EXCLUDED.created_at`,
			c.UserID, c.Channel, c.SentTo, c.CodeHash, c.ExpiresAt, c.CreatedAt)
		return err
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
	if _, err := s.pool.Exec(ctx, `DELETE FROM verification_codes WHERE user_id = $1 AND channel = $2 AND code_hash = $3`,
		userID, channel, codeHash); err != nil {
		return fmt.Errorf("delete verification code: %w", err)
	}
	return nil
}

// CountVerificationAttempt counts one try at the pending code of an account and channel and
// returns the code with the count including this try; KindNotFound when there is none. The
// count is taken before the code is compared, under the row's lock, so concurrent guesses
// each use up a try and cannot exceed the limit between them.
func (s *Store) CountVerificationAttempt(ctx context.Context, userID, channel string) (VerificationCode, error) {
	c := VerificationCode{UserID: userID, Channel: channel}
	err := s.pool.QueryRow(ctx, `UPDATE verification_codes SET attempts = attempts + 1
		WHERE user_id = $1 AND channel = $2
		RETURNING sent_to, code_hash, expires_at, attempts, created_at`, userID, channel).
		Scan(&c.SentTo, &c.CodeHash, &c.ExpiresAt, &c.Attempts, &c.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return VerificationCode{}, domain.Errorf(domain.KindNotFound, "no verification code pending")
	}
	if err != nil {
		return VerificationCode{}, fmt.Errorf("count verification attempt: %w", err)
	}
	return c, nil
}

// CompleteVerification marks the channel verified as of at, provided the user's address is
// still address (the one the code went to), and drops the pending code. A phone another
// account has verified meanwhile is KindConflict; an address changed since the code was sent
// is KindConflict too.
func (s *Store) CompleteVerification(ctx context.Context, userID, channel, address string, at time.Time) error {
	col, err := verifiedColumn(channel)
	if err != nil {
		return err
	}
	err = s.InTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET `+col+` = $3 WHERE id = $1 AND `+addressColumn(channel)+` = $2`,
			userID, address, at)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return domain.Errorf(domain.KindConflict, "your %s changed after the code was sent; request a new code", addressName(channel))
		}
		_, err = tx.Exec(ctx, `DELETE FROM verification_codes WHERE user_id = $1 AND channel = $2`, userID, channel)
		return err
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
	col, err := verifiedColumn(channel)
	if err != nil {
		return err
	}
	// An empty phone is no number: it is never verified.
	tag, err := s.pool.Exec(ctx, `UPDATE users SET `+col+` = $2 WHERE id = $1 AND `+addressColumn(channel)+` <> ''`, userID, at)
	if pgCode(err) == codeUniqueViolation {
		return errPhoneTaken
	}
	if err != nil {
		return fmt.Errorf("mark verified: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return domain.Errorf(domain.KindNotFound, "user not found, or without a %s", addressName(channel))
	}
	return nil
}

// PhoneVerifiedByOther reports whether an account other than userID has verified phone.
func (s *Store) PhoneVerifiedByOther(ctx context.Context, phone, userID string) (bool, error) {
	var taken bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users
		WHERE phone = $1 AND phone_verified_at IS NOT NULL AND id <> $2)`, phone, userID).Scan(&taken)
	if err != nil {
		return false, fmt.Errorf("phone verified by other: %w", err)
	}
	return taken, nil
}

// ClaimInboundMessage records an inbound SMS by its MessageSid before it is acted on. It
// reports whether this is the first delivery; for a repeat it returns the reply stored for the
// first ("" while the first is still being handled, or if it never stored one).
func (s *Store) ClaimInboundMessage(ctx context.Context, sid, from string, at time.Time) (first bool, reply string, err error) {
	tag, err := s.pool.Exec(ctx, `INSERT INTO inbound_messages (message_sid, from_number, received_at)
		VALUES ($1, $2, $3) ON CONFLICT (message_sid) DO NOTHING`, sid, from, at)
	if err != nil {
		return false, "", fmt.Errorf("claim inbound message: %w", err)
	}
	if tag.RowsAffected() == 1 {
		return true, "", nil
	}
	err = s.pool.QueryRow(ctx, `SELECT reply FROM inbound_messages WHERE message_sid = $1`, sid).Scan(&reply)
	if err != nil {
		return false, "", fmt.Errorf("claim inbound message: %w", err)
	}
	return false, reply, nil
}

// SetInboundReply stores what was answered to an inbound SMS, for a repeat delivery of it.
func (s *Store) SetInboundReply(ctx context.Context, sid, reply string) error {
	if _, err := s.pool.Exec(ctx, `UPDATE inbound_messages SET reply = $2 WHERE message_sid = $1`, sid, reply); err != nil {
		return fmt.Errorf("set inbound reply: %w", err)
	}
	return nil
}

// PhoneVerified reports whether some account has verified phone: only then may an SMS from it
// act on bookings.
func (s *Store) PhoneVerified(ctx context.Context, phone string) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE phone = $1 AND phone_verified_at IS NOT NULL)`, phone).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("phone verified: %w", err)
	}
	return ok, nil
}
