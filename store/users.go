package store

import (
	"context"
	"fmt"

	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/store/internal/db"
)

// userRow is any generated row type of a query returning a user's columns
// (queries/users.sql); each converts to db.GetUserRow.
type userRow interface {
	db.GetUserRow | db.GetUserByEmailRow | db.CreateUserRow
}

func userOf[R userRow](row R) domain.User {
	r := db.GetUserRow(row)
	return domain.User{ID: r.ID, Email: r.Email, PasswordHash: r.PasswordHash, Name: r.Name, Phone: r.Phone,
		Role: domain.Role(r.Role), CreatedAt: r.CreatedAt, EmailVerified: r.EmailVerified, PhoneVerified: r.PhoneVerified}
}

// CreateUser inserts a user; an email already in use (in any case) is a conflict.
func (s *Store) CreateUser(ctx context.Context, u domain.User) (domain.User, error) {
	created, err := s.q.CreateUser(ctx, db.CreateUserParams{ID: u.ID, Email: u.Email, PasswordHash: u.PasswordHash,
		Name: u.Name, Phone: u.Phone, Role: string(u.Role)})
	if pgCode(err) == codeUniqueViolation {
		return domain.User{}, &domain.Error{Kind: domain.KindConflict, Message: "an account with that email exists already",
			Fields: []domain.FieldError{{Field: "email", Message: "already registered"}}}
	}
	if err != nil {
		return domain.User{}, fmt.Errorf("create user: %w", err)
	}
	return userOf(created), nil
}

// GetUser returns one user by id.
func (s *Store) GetUser(ctx context.Context, id string) (domain.User, error) {
	r, err := s.q.GetUser(ctx, id)
	if err != nil {
		return domain.User{}, notFound(err, "user")
	}
	return userOf(r), nil
}

// GetUserByEmail returns one user by email, compared without case.
func (s *Store) GetUserByEmail(ctx context.Context, email string) (domain.User, error) {
	r, err := s.q.GetUserByEmail(ctx, email)
	if err != nil {
		return domain.User{}, notFound(err, "user")
	}
	return userOf(r), nil
}

// UserNames returns the names of the users with these ids, in one statement however many
// there are (a page of bookings names its patients with one read); ids of no user are absent.
func (s *Store) UserNames(ctx context.Context, ids []string) (map[string]string, error) {
	names := make(map[string]string, len(ids))
	if len(ids) == 0 {
		return names, nil
	}
	rows, err := s.q.UserNames(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("user names: %w", err)
	}
	for _, r := range rows {
		names[r.ID] = r.Name
	}
	return names, nil
}
