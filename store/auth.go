package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/clinicbook/booking/domain"
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

const refreshColumns = `token_hash, user_id, family_id, expires_at, used_at, revoked_at`

func scanRefreshToken(row pgx.CollectableRow) (RefreshToken, error) {
	var t RefreshToken
	err := row.Scan(&t.Hash, &t.UserID, &t.FamilyID, &t.ExpiresAt, &t.UsedAt, &t.RevokedAt)
	return t, err
}

// CreateRefreshToken stores a new token, the first of a family or a rotation's successor.
func (s *Store) CreateRefreshToken(ctx context.Context, t RefreshToken) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO refresh_tokens (token_hash, user_id, family_id, expires_at)
		VALUES ($1, $2, $3, $4)`, t.Hash, t.UserID, t.FamilyID, t.ExpiresAt)
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
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		var familyID, role string
		err := tx.QueryRow(ctx, `UPDATE refresh_tokens t SET used_at = $2
			FROM users u
			WHERE t.token_hash = $1 AND u.id = t.user_id
			  AND t.used_at IS NULL AND t.revoked_at IS NULL AND t.expires_at > $2
			RETURNING t.user_id, t.family_id, u.role`, oldHash, now).Scan(&p.UserID, &familyID, &role)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrRefreshTokenNotUsable
		}
		if err != nil {
			return err
		}
		p.Role = domain.Role(role)
		_, err = tx.Exec(ctx, `INSERT INTO refresh_tokens (token_hash, user_id, family_id, expires_at)
			VALUES ($1, $2, $3, $4)`, newHash, p.UserID, familyID, expiresAt)
		return err
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
	rows, _ := s.pool.Query(ctx, `SELECT `+refreshColumns+` FROM refresh_tokens WHERE token_hash = $1`, hash)
	t, err := pgx.CollectExactlyOneRow(rows, scanRefreshToken)
	if err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return RefreshToken{}, notFound(err, "refresh token")
		}
		return RefreshToken{}, fmt.Errorf("get refresh token: %w", err)
	}
	return t, nil
}

// RevokeRefreshFamily revokes every token of a family not revoked yet.
func (s *Store) RevokeRefreshFamily(ctx context.Context, familyID string, now time.Time) error {
	_, err := s.pool.Exec(ctx, `UPDATE refresh_tokens SET revoked_at = $2
		WHERE family_id = $1 AND revoked_at IS NULL`, familyID, now)
	if err != nil {
		return fmt.Errorf("revoke refresh family: %w", err)
	}
	return nil
}

// RevokeRefreshFamilyOf revokes the whole family of the token hash. It reports whether the
// token was known at all.
func (s *Store) RevokeRefreshFamilyOf(ctx context.Context, hash string, now time.Time) (bool, error) {
	var familyID string
	err := s.pool.QueryRow(ctx, `SELECT family_id FROM refresh_tokens WHERE token_hash = $1`, hash).Scan(&familyID)
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
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO login_failures (email, client_addr, failures, updated_at)
			VALUES ($1, $2, 0, $3) ON CONFLICT (email, client_addr) DO NOTHING`, email, clientAddr, now); err != nil {
			return err
		}
		var failures int
		var locked *time.Time
		var updated time.Time
		if err := tx.QueryRow(ctx, `SELECT failures, locked_until, updated_at FROM login_failures
			WHERE email = $1 AND client_addr = $2 FOR UPDATE`, email, clientAddr).Scan(&failures, &locked, &updated); err != nil {
			return err
		}
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
		_, err := tx.Exec(ctx, `UPDATE login_failures SET failures = $3, locked_until = $4, updated_at = $5
			WHERE email = $1 AND client_addr = $2`, email, clientAddr, failures, lockUntil, now)
		return err
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("begin login attempt: %w", err)
	}
	return lockedUntil, nil
}

// ClearLoginFailures forgets the failed attempts, and any lock, of email from clientAddr.
func (s *Store) ClearLoginFailures(ctx context.Context, email, clientAddr string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM login_failures WHERE email = $1 AND client_addr = $2`, email, clientAddr); err != nil {
		return fmt.Errorf("clear login failures: %w", err)
	}
	return nil
}
