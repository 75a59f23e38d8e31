package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/clinicbook/booking/domain"
)

const userColumns = `id, email, password_hash, name, phone, role, created_at,
	email_verified_at IS NOT NULL, phone_verified_at IS NOT NULL`

func scanUser(row pgx.CollectableRow) (domain.User, error) {
	var u domain.User
	var role string
	err := row.Scan(&u.ID, &u.Email, &u.PasswordHash, &u.Name, &u.Phone, &role, &u.CreatedAt, &u.EmailVerified, &u.PhoneVerified)
	u.Role = domain.Role(role)
	return u, err
}

// CreateUser inserts a user; an email already in use (in any case) is a conflict.
func (s *Store) CreateUser(ctx context.Context, u domain.User) (domain.User, error) {
	rows, _ := s.pool.Query(ctx, `INSERT INTO users (id, email, password_hash, name, phone, role)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+userColumns,
		u.ID, u.Email, u.PasswordHash, u.Name, u.Phone, string(u.Role))
	created, err := pgx.CollectExactlyOneRow(rows, scanUser)
	if pgCode(err) == codeUniqueViolation {
		return domain.User{}, &domain.Error{Kind: domain.KindConflict, Message: "an account with that email exists already",
			Fields: []domain.FieldError{{Field: "email", Message: "already registered"}}}
	}
	if err != nil {
		return domain.User{}, fmt.Errorf("create user: %w", err)
	}
	return created, nil
}

// GetUser returns one user by id.
func (s *Store) GetUser(ctx context.Context, id string) (domain.User, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id)
	u, err := pgx.CollectExactlyOneRow(rows, scanUser)
	if err != nil {
		return domain.User{}, notFound(err, "user")
	}
	return u, nil
}

// GetUserByEmail returns one user by email, compared without case.
func (s *Store) GetUserByEmail(ctx context.Context, email string) (domain.User, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+userColumns+` FROM users WHERE lower(email) = lower($1)`, email)
	u, err := pgx.CollectExactlyOneRow(rows, scanUser)
	if err != nil {
		return domain.User{}, notFound(err, "user")
	}
	return u, nil
}

// UserNames returns the names of the users with these ids, in one statement however many
// there are (a page of bookings names its patients with one read); ids of no user are absent.
func (s *Store) UserNames(ctx context.Context, ids []string) (map[string]string, error) {
	names := make(map[string]string, len(ids))
	if len(ids) == 0 {
		return names, nil
	}
	rows, _ := s.pool.Query(ctx, `SELECT id, name FROM users WHERE id = ANY($1)`, ids)
	var id, name string
	_, err := pgx.ForEachRow(rows, []any{&id, &name}, func() error {
		names[id] = name
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("user names: %w", err)
	}
	return names, nil
}
