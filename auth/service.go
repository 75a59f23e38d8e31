// Package auth is who may call the platform: password hashing, registration and login, access
// tokens (Ed25519-signed JWTs) and rotating refresh tokens.
package auth

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/clinicbook/booking/config"
	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/store"
)

// loginThrottle: five failed logins for an email, each within 15 minutes of the one before,
// lock that email for five minutes.
var loginThrottle = store.LoginThrottle{MaxFailures: 5, Window: 15 * time.Minute, Lock: 5 * time.Minute}

const maxNameLength = 200

// e164 is an international phone number: +, country code, subscriber number, 7 to 15 digits.
var e164 = regexp.MustCompile(`^\+[1-9]\d{6,14}$`)

// Service registers users, logs them in and checks their tokens.
type Service struct {
	st  *store.Store
	cfg config.JWT
	now func() time.Time

	// dummyHash is checked against when a login names no known user, so that answer takes
	// as long as a wrong password and does not tell which emails have accounts.
	dummyOnce sync.Once
	dummyHash string
}

// NewService builds the service; now is the clock (time.Now when nil).
func NewService(st *store.Store, cfg config.JWT, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{st: st, cfg: cfg, now: now}
}

// RegisterInput is a patient's sign-up.
type RegisterInput struct {
	Email    string
	Password string
	Name     string
	Phone    string
}

// Register creates a patient account and logs it in.
func (s *Service) Register(ctx context.Context, in RegisterInput) (domain.User, Tokens, error) {
	u, err := s.createUser(ctx, in.Email, in.Password, in.Name, in.Phone, domain.RolePatient, true)
	if err != nil {
		return domain.User{}, Tokens{}, err
	}
	tokens, err := s.startSession(ctx, u)
	if err != nil {
		return domain.User{}, Tokens{}, err
	}
	return u, tokens, nil
}

// CreateUser creates an account with any role, for providers' logins, the bootstrap admin and
// tests. The phone is optional here.
func (s *Service) CreateUser(ctx context.Context, email, password, name, phone string, role domain.Role) (domain.User, error) {
	return s.createUser(ctx, email, password, name, phone, role, false)
}

func (s *Service) createUser(ctx context.Context, email, password, name, phone string, role domain.Role, phoneRequired bool) (domain.User, error) {
	var fe domain.FieldErrors
	email, msg := normalizeEmail(email)
	if msg != "" {
		fe.Add("email", "%s", msg)
	}
	if msg := CheckPasswordPolicy(password); msg != "" {
		fe.Add("password", "%s", msg)
	}
	name = strings.TrimSpace(name)
	if name == "" {
		fe.Add("name", "required")
	} else if utf8.RuneCountInString(name) > maxNameLength {
		fe.Add("name", "must be at most %d characters", maxNameLength)
	}
	phone = strings.TrimSpace(phone)
	switch {
	case phone == "" && phoneRequired:
		fe.Add("phone", "required")
	case phone != "" && !e164.MatchString(phone):
		fe.Add("phone", "must be an E.164 number such as +4915112345678")
	}
	if !validRole(role) {
		fe.Add("role", "must be patient, provider or admin")
	}
	if err := fe.Err("the account details are not valid"); err != nil {
		return domain.User{}, err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return domain.User{}, err
	}
	// The store answers a taken email (in any case) with KindConflict.
	return s.st.CreateUser(ctx, domain.User{
		ID: uuid.NewString(), Email: email, PasswordHash: hash, Name: name, Phone: phone, Role: role,
	})
}

// normalizeEmail returns the lower-cased address, or why it is not one. Only a bare address
// is taken: "Ann <ann@example.com>" would parse, but is not what an email field holds.
func normalizeEmail(email string) (string, string) {
	email = strings.TrimSpace(email)
	if email == "" {
		return "", "required"
	}
	if len(email) > 254 {
		return "", "must be at most 254 characters"
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Name != "" || addr.Address != email {
		return "", "must be an email address such as ann@example.com"
	}
	return strings.ToLower(email), ""
}

// EnsureAdmin creates the bootstrap admin unless a user with that email exists already, in
// which case it is left exactly as it is (its password is not reset from the environment).
func (s *Service) EnsureAdmin(ctx context.Context, email, password string) error {
	_, err := s.st.GetUserByEmail(ctx, strings.TrimSpace(email))
	if err == nil {
		return nil
	}
	if !domain.IsKind(err, domain.KindNotFound) {
		return fmt.Errorf("ensure admin: %w", err)
	}
	_, err = s.CreateUser(ctx, email, password, "Administrator", "", domain.RoleAdmin)
	if domain.IsKind(err, domain.KindConflict) {
		// Another process (the worker, a second API) created it at the same moment.
		return nil
	}
	if err != nil {
		return fmt.Errorf("ensure admin: %w", err)
	}
	return nil
}

// Me returns the caller's account. A valid token whose user is gone no longer stands for
// anyone, so that is KindUnauthorized rather than not found.
func (s *Service) Me(ctx context.Context, userID string) (domain.User, error) {
	u, err := s.st.GetUser(ctx, userID)
	if domain.IsKind(err, domain.KindNotFound) {
		return domain.User{}, domain.Errorf(domain.KindUnauthorized, "the account no longer exists")
	}
	if err != nil {
		return domain.User{}, fmt.Errorf("me: %w", err)
	}
	return u, nil
}

var errWrongCredentials = &domain.Error{Kind: domain.KindUnauthorized, Message: "email or password is wrong"}

// Login checks an email and password and starts a session (a new refresh token family).
//
// The throttle is consulted before the password is looked at, so a locked email is refused
// even with the right password; the attempt is counted up front and a success clears it. An
// unknown email gets the same answer as a wrong password, after hashing a dummy password so
// the two take about as long.
func (s *Service) Login(ctx context.Context, email, password string) (Tokens, error) {
	email, msg := normalizeEmail(email)
	if msg != "" {
		// Not an address any account can have: nothing to count or look up.
		return Tokens{}, errWrongCredentials
	}
	now := s.now()
	lockedUntil, err := s.st.BeginLoginAttempt(ctx, email, now, loginThrottle)
	if err != nil {
		return Tokens{}, fmt.Errorf("login: %w", err)
	}
	if !lockedUntil.IsZero() {
		retry := int(lockedUntil.Sub(now).Round(time.Second) / time.Second)
		if retry < 1 {
			retry = 1
		}
		return Tokens{}, &domain.Error{Kind: domain.KindRateLimited, RetryAfterSeconds: retry,
			Message: "too many failed logins for this email; try again later"}
	}

	u, err := s.st.GetUserByEmail(ctx, email)
	switch {
	case domain.IsKind(err, domain.KindNotFound):
		CheckPassword(s.dummy(), password)
		return Tokens{}, errWrongCredentials
	case err != nil:
		return Tokens{}, fmt.Errorf("login: %w", err)
	}
	if !CheckPassword(u.PasswordHash, password) {
		return Tokens{}, errWrongCredentials
	}
	if err := s.st.ClearLoginFailures(ctx, email); err != nil {
		return Tokens{}, fmt.Errorf("login: %w", err)
	}
	return s.startSession(ctx, u)
}

func (s *Service) dummy() string {
	s.dummyOnce.Do(func() {
		// A random password, so the dummy matches nothing. crypto/rand does not fail (Go
		// 1.24+), and neither then does the hash.
		s.dummyHash, _ = HashPassword(uuid.NewString())
	})
	return s.dummyHash
}

// startSession issues an access token and the first refresh token of a new family.
func (s *Service) startSession(ctx context.Context, u domain.User) (Tokens, error) {
	access, err := s.issueAccessToken(domain.Principal{UserID: u.ID, Role: u.Role})
	if err != nil {
		return Tokens{}, err
	}
	refresh, hash, err := newRefreshToken()
	if err != nil {
		return Tokens{}, err
	}
	err = s.st.CreateRefreshToken(ctx, store.RefreshToken{
		Hash: hash, UserID: u.ID, FamilyID: uuid.NewString(), ExpiresAt: s.now().Add(s.cfg.RefreshTTL),
	})
	if err != nil {
		return Tokens{}, err
	}
	return s.tokens(access, refresh), nil
}

func (s *Service) tokens(access, refresh string) Tokens {
	return Tokens{AccessToken: access, RefreshToken: refresh, TokenType: "Bearer", ExpiresIn: int(s.cfg.AccessTTL / time.Second)}
}

var errRefreshInvalid = &domain.Error{Kind: domain.KindUnauthorized, Message: "the refresh token is not valid"}

// Refresh trades a refresh token for a new pair in the same family. A refresh token works
// once: presenting one that was already used means it leaked (or the client lost an answer),
// and since we cannot tell the thief from the owner the whole family is revoked and both must
// log in again. Each new refresh token lives RefreshTTL from its own issue, so an active
// session stays logged in.
func (s *Service) Refresh(ctx context.Context, token string) (Tokens, error) {
	if token == "" {
		return Tokens{}, errRefreshInvalid
	}
	now := s.now()
	oldHash := hashRefreshToken(token)
	next, nextHash, err := newRefreshToken()
	if err != nil {
		return Tokens{}, err
	}
	p, err := s.st.RotateRefreshToken(ctx, oldHash, nextHash, now, now.Add(s.cfg.RefreshTTL))
	if errors.Is(err, store.ErrRefreshTokenNotUsable) {
		return Tokens{}, s.refusedRefresh(ctx, oldHash, now)
	}
	if err != nil {
		return Tokens{}, fmt.Errorf("refresh: %w", err)
	}
	access, err := s.issueAccessToken(p)
	if err != nil {
		return Tokens{}, err
	}
	return s.tokens(access, next), nil
}

// refusedRefresh works out why a refresh token could not be used, revoking its family when
// it is a reuse.
func (s *Service) refusedRefresh(ctx context.Context, hash string, now time.Time) error {
	t, err := s.st.GetRefreshToken(ctx, hash)
	if domain.IsKind(err, domain.KindNotFound) {
		return errRefreshInvalid
	}
	if err != nil {
		return fmt.Errorf("refresh: %w", err)
	}
	switch {
	case t.UsedAt != nil:
		if err := s.st.RevokeRefreshFamily(ctx, t.FamilyID, now); err != nil {
			return fmt.Errorf("refresh: %w", err)
		}
		return domain.Errorf(domain.KindUnauthorized, "the refresh token was already used; log in again")
	case t.RevokedAt == nil && !t.ExpiresAt.After(now):
		return domain.Errorf(domain.KindUnauthorized, "the refresh token has expired")
	default:
		return errRefreshInvalid
	}
}

// Logout revokes the refresh token's whole family: the session it belongs to ends, other
// logins of the same user do not. An unknown token is not an error: logging out is idempotent
// and the token works no more either way.
func (s *Service) Logout(ctx context.Context, refreshToken string) error {
	if refreshToken == "" {
		return nil
	}
	if _, err := s.st.RevokeRefreshFamilyOf(ctx, hashRefreshToken(refreshToken), s.now()); err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	return nil
}
