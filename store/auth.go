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

// RefreshToken is one stored refresh token. Only its hash is kept, so a leaked database does
// not hand out sessions.
type RefreshToken struct {
	Hash      string
	UserID    string
	FamilyID  string
	ExpiresAt time.Time
	UsedAt    *time.Time
	RevokedAt *time.Time
}

// ErrRefreshTokenNotUsable is returned by RotateRefreshToken when the presented token is
// unknown, already used, revoked or expired; GetRefreshToken tells which.
var ErrRefreshTokenNotUsable = errors.New("refresh token not usable")

// CreateRefreshToken stores a new token, the first of a family or a rotation's successor.
func (s *Store) CreateRefreshToken(ctx context.Context, t RefreshToken) error {
	err := s.q.CreateRefreshToken(ctx, db.CreateRefreshTokenParams{TokenHash: t.Hash, UserID: t.UserID, FamilyID: t.FamilyID, ExpiresAt: t.ExpiresAt})
	if err != nil {
		return fmt.Errorf("create refresh token: %w", err)
	}
	return nil
}

// RotateRefreshToken spends the token oldHash and stores newHash as its successor in the same
// family, in one transaction. The conditional UPDATE is what makes a token work once: of two
// concurrent rotations with the same token only one finds used_at still NULL. It returns who
// the family belongs to, with the user's current role, or ErrRefreshTokenNotUsable.
func (s *Store) RotateRefreshToken(ctx context.Context, oldHash, newHash string, now, expiresAt time.Time) (domain.Principal, error) {
	var p domain.Principal
	err := s.inTx(ctx, func(q *db.Queries) error {
		spent, err := q.SpendRefreshToken(ctx, db.SpendRefreshTokenParams{TokenHash: oldHash, Now: now})
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrRefreshTokenNotUsable
		}
		if err != nil {
			return err
		}
		p = domain.Principal{UserID: spent.UserID, Role: domain.Role(spent.Role)}
		return q.CreateRefreshToken(ctx, db.CreateRefreshTokenParams{TokenHash: newHash, UserID: spent.UserID,
			FamilyID: spent.FamilyID, ExpiresAt: expiresAt})
	})
	if errors.Is(err, ErrRefreshTokenNotUsable) {
		return domain.Principal{}, err
	}
	if err != nil {
		return domain.Principal{}, fmt.Errorf("rotate refresh token: %w", err)
	}
	return p, nil
}

// GetRefreshToken returns a stored token by hash; an unknown one is KindNotFound.
func (s *Store) GetRefreshToken(ctx context.Context, hash string) (RefreshToken, error) {
	r, err := s.q.GetRefreshToken(ctx, hash)
	if err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return RefreshToken{}, notFound(err, "refresh token")
		}
		return RefreshToken{}, fmt.Errorf("get refresh token: %w", err)
	}
	return RefreshToken{Hash: r.TokenHash, UserID: r.UserID, FamilyID: r.FamilyID, ExpiresAt: r.ExpiresAt,
		UsedAt: r.UsedAt, RevokedAt: r.RevokedAt}, nil
}

// RevokeRefreshFamily revokes every token of a family not revoked yet.
func (s *Store) RevokeRefreshFamily(ctx context.Context, familyID string, now time.Time) error {
	if err := s.q.RevokeRefreshFamily(ctx, db.RevokeRefreshFamilyParams{FamilyID: familyID, Now: now}); err != nil {
		return fmt.Errorf("revoke refresh family: %w", err)
	}
	return nil
}

// RevokeRefreshFamilyOf revokes the whole family of the token hash. It reports whether the
// token was known at all.
func (s *Store) RevokeRefreshFamilyOf(ctx context.Context, hash string, now time.Time) (bool, error) {
	familyID, err := s.q.GetRefreshFamily(ctx, hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("revoke refresh family: %w", err)
	}
	return true, s.RevokeRefreshFamily(ctx, familyID, now)
}

// LoginThrottle is the policy for failed logins: MaxFailures attempts that fail with no more
// than Window between one and the next lock the email, for that client address, for Lock.
type LoginThrottle struct {
	MaxFailures int
	Window      time.Duration
	Lock        time.Duration
}

// BeginLoginAttempt counts a login attempt for email from clientAddr before its password is
// checked and returns when that pair is locked until if the attempt is refused (zero when it
// may go on). Counting up front, under a row lock, means a burst of concurrent guesses cannot
// all slip in before the first failure is recorded; a successful login clears the count again
// with ClearLoginFailures. The attempt that reaches MaxFailures still goes on, and sets the
// lock that refuses the next ones.
//
// The lock holds for that address only: whoever guesses from one address cannot keep the
// owner out from another.
//
// updated_at is the last attempt: a gap longer than Window starts the count afresh.
func (s *Store) BeginLoginAttempt(ctx context.Context, email, clientAddr string, now time.Time, t LoginThrottle) (time.Time, error) {
	var lockedUntil time.Time
	err := s.inTx(ctx, func(q *db.Queries) error {
		if err := q.EnsureLoginFailures(ctx, db.EnsureLoginFailuresParams{Email: email, ClientAddr: clientAddr, Now: now}); err != nil {
			return err
		}
		row, err := q.LockLoginFailures(ctx, db.LockLoginFailuresParams{Email: email, ClientAddr: clientAddr})
		if err != nil {
			return err
		}
		failures, locked, updated := row.Failures, row.LockedUntil, row.UpdatedAt
		if locked != nil && locked.After(now) {
			lockedUntil = *locked
			return nil
		}
		if locked != nil || now.Sub(updated) > t.Window {
			failures = 0
		}
		failures++
		var lockUntil *time.Time
		if failures >= t.MaxFailures {
			until := now.Add(t.Lock)
			lockUntil = &until
			// The lock itself is the penalty; afterwards the count starts again.
			failures = 0
		}
		return q.UpdateLoginFailures(ctx, db.UpdateLoginFailuresParams{Email: email, ClientAddr: clientAddr,
			Failures: failures, LockedUntil: lockUntil, Now: now})
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("begin login attempt: %w", err)
	}
	return lockedUntil, nil
}

// ClearLoginFailures forgets the failed attempts, and any lock, of email from clientAddr.
func (s *Store) ClearLoginFailures(ctx context.Context, email, clientAddr string) error {
	if err := s.q.ClearLoginFailures(ctx, db.ClearLoginFailuresParams{Email: email, ClientAddr: clientAddr}); err != nil {
		return fmt.Errorf("clear login failures: %w", err)
	}
	return nil
}
