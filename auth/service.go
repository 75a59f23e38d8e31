// Package auth is who may call the platform: password hashing, registration and login, access
// tokens (Ed25519-signed JWTs) and rotating refresh tokens.
package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/clinicbook/booking/config"
	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/store"
)

// loginThrottle: five failed logins for an email from one client address, each within 15
// minutes of the one before, lock that email for that address for five minutes.
var loginThrottle = store.LoginThrottle{MaxFailures: 5, Window: 15 * time.Minute, Lock: 5 * time.Minute}

const maxNameLength = 200

// DefaultHashWait is how long a password hash waits for a free slot of the memory budget
// before the request is answered 503: long enough to ride out a few logins at once, too short
// to build a queue.
const DefaultHashWait = 100 * time.Millisecond

// Options are the service's limits. The zero Options hash within DefaultHashMemory and limit
// no client address.
type Options struct {
	// Limits: Register and Login per client address, PasswordHashMemory (0 for
	// DefaultHashMemory). The rest is not the service's business.
	Limits config.Limits
	// HashWait is how long a hash may wait for the budget (0 for DefaultHashWait, negative
	// for not at all).
	HashWait time.Duration
}

// Service registers users, logs them in and checks their tokens.
type Service struct {
	st     *store.Store
	cfg    config.JWT
	now    func() time.Time
	limits config.Limits
	hashes *hashLimiter

	// dummyHash is checked against when a login names no known user, so that answer takes
	// as long as a wrong password and does not tell which emails have accounts.
	dummyOnce sync.Once
	dummyHash string
}

// NewService builds the service; now is the clock (time.Now when nil).
func NewService(st *store.Store, cfg config.JWT, now func() time.Time, opts Options) *Service {
	if now == nil {
		now = time.Now
	}
	budget := opts.Limits.PasswordHashMemory
	if budget <= 0 {
		budget = DefaultHashMemory
	}
	wait := opts.HashWait
	if wait == 0 {
		wait = DefaultHashWait
	}
	return &Service{st: st, cfg: cfg, now: now, limits: opts.Limits, hashes: newHashLimiter(budget, wait)}
}

// HashSlots is how many password hashes may run at once.
func (s *Service) HashSlots() int { return s.hashes.slots }

// RegisterInput is a patient's sign-up.
type RegisterInput struct {
	Email    string
	Password string
	Name     string
	Phone    string
	// ClientAddr is who asks (see the API's client address), for the per-address limit.
	ClientAddr string
}

// Register creates a patient account and logs it in. Sign-ups are limited per client address;
// the limit is checked once the details are valid (a typo costs nothing) and before the
// password is hashed.
func (s *Service) Register(ctx context.Context, in RegisterInput) (domain.User, Tokens, error) {
	key := "register:" + in.ClientAddr
	u, err := s.createUser(ctx, in.Email, in.Password, in.Name, in.Phone, domain.RolePatient, true, func() error {
		return s.takeLimit(ctx, key, s.limits.Register, "too many sign-ups from your address; try again later")
	})
	if domain.IsKind(err, domain.KindUnavailable) {
		// Turned away before hashing (every slot busy): no account was made, and the
		// caller's retry must not cost a second sign-up.
		s.giveBackLimit(ctx, key, s.limits.Register)
	}
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
	return s.createUser(ctx, email, password, name, phone, role, false, nil)
}

// createUser checks the details, then runs admit (when not nil), then hashes and stores.
func (s *Service) createUser(ctx context.Context, email, password, name, phone string, role domain.Role, phoneRequired bool, admit func() error) (domain.User, error) {
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
	} else if domain.HasControl(name) {
		// The name is the attendee's on calendar invites, where a line break would start
		// a property of the caller's choosing.
		fe.Add("name", "must not contain control characters such as line breaks")
	}
	phone = strings.TrimSpace(phone)
	switch {
	case phone == "" && phoneRequired:
		fe.Add("phone", "required")
	case phone != "" && !domain.IsE164(phone):
		fe.Add("phone", "must be an E.164 number such as +4915112345678")
	}
	if !validRole(role) {
		fe.Add("role", "must be patient, provider or admin")
	}
	if err := fe.Err("the account details are not valid"); err != nil {
		return domain.User{}, err
	}
	if admit != nil {
		if err := admit(); err != nil {
			return domain.User{}, err
		}
	}
	hash, err := s.hashes.hash(ctx, password)
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

// LoginInput is a login attempt.
type LoginInput struct {
	Email    string
	Password string
	// ClientAddr is who asks (see the API's client address): failures are counted per
	// address, for the account and across accounts.
	ClientAddr string
}

// Login checks an email and password and starts a session (a new refresh token family).
//
// Two throttles are consulted before the password is looked at, both per client address: the
// failed logins from that address across all accounts (so spraying one password over many
// emails is slowed), and the failed logins for this email from that address (so guessing one
// account's password locks the guesser out, not the owner at another address). A refused
// attempt is refused even with the right password. Attempts are counted up front and a
// success gives them back. An unknown email gets the same answer as a wrong password, after
// hashing a dummy password so the two take about as long.
func (s *Service) Login(ctx context.Context, in LoginInput) (Tokens, error) {
	email, msg := normalizeEmail(in.Email)
	if msg != "" {
		// Not an address any account can have: nothing to count or look up.
		return Tokens{}, errWrongCredentials
	}
	addrKey := "login:" + in.ClientAddr
	if err := s.takeLimit(ctx, addrKey, s.limits.Login, "too many failed logins from your address; try again later"); err != nil {
		return Tokens{}, err
	}
	tokens, err := s.login(ctx, email, in.Password, in.ClientAddr)
	// A success, or an attempt turned away before its password was checked, is no failed login.
	if err == nil || domain.IsKind(err, domain.KindUnavailable) {
		s.giveBackLimit(ctx, addrKey, s.limits.Login)
	}
	return tokens, err
}

func (s *Service) login(ctx context.Context, email, password, clientAddr string) (Tokens, error) {
	u, err := s.st.GetUserByEmail(ctx, email)
	known := err == nil
	if err != nil && !domain.IsKind(err, domain.KindNotFound) {
		return Tokens{}, fmt.Errorf("login: %w", err)
	}
	hash := s.dummy()
	if known {
		hash = u.PasswordHash
	}
	// The hashing slot is taken before the attempt is counted: a login turned away because
	// every slot is busy (503, try again in a second) is no failed attempt, and retrying
	// through a storm must not lock the owner out.
	release, err := s.hashes.reserve(ctx, hash)
	if err != nil {
		return Tokens{}, err
	}
	defer release()

	now := s.now()
	lockedUntil, err := s.st.BeginLoginAttempt(ctx, email, clientAddr, now, loginThrottle)
	if err != nil {
		return Tokens{}, fmt.Errorf("login: %w", err)
	}
	if !lockedUntil.IsZero() {
		return Tokens{}, &domain.Error{Kind: domain.KindRateLimited, RetryAfterSeconds: retryAfter(lockedUntil.Sub(now)),
			Message: "too many failed logins for this email; try again later"}
	}
	// An unknown email is checked against the dummy, so it takes as long as a wrong password.
	if ok := CheckPassword(hash, password); !ok || !known {
		return Tokens{}, errWrongCredentials
	}
	if err := s.st.ClearLoginFailures(ctx, email, clientAddr); err != nil {
		return Tokens{}, fmt.Errorf("login: %w", err)
	}
	return s.startSession(ctx, u)
}

// takeLimit counts one event against the rate r under key, answering KindRateLimited with
// the wait when it is over. An unlimited rate counts nothing.
func (s *Service) takeLimit(ctx context.Context, key string, r config.Rate, message string) error {
	if r.Unlimited() {
		return nil
	}
	now := s.now()
	ok, until, err := s.st.TakeRateLimit(ctx, key, r.N, r.Per, now)
	if err != nil {
		return err
	}
	if !ok {
		return &domain.Error{Kind: domain.KindRateLimited, RetryAfterSeconds: retryAfter(until.Sub(now)), Message: message}
	}
	return nil
}

// giveBackLimit returns an event that turned out not to count. It is best effort: failing,
// the client is limited a little early, which is no reason to fail its request.
func (s *Service) giveBackLimit(ctx context.Context, key string, r config.Rate) {
	if r.Unlimited() {
		return
	}
	if err := s.st.GiveBackRateLimit(ctx, key, r.N, s.now()); err != nil {
		slog.WarnContext(ctx, "give back rate limit", "key", key, "err", err)
	}
}

// retryAfter is a wait in whole seconds for Retry-After, at least one.
func retryAfter(d time.Duration) int {
	return max(int((d+time.Second-1)/time.Second), 1)
}

// PruneThrottles deletes the throttling state that can no longer refuse anything, every
// interval until ctx ends. Every API replica may run it; the deletes do not conflict.
func (s *Service) PruneThrottles(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := s.st.PruneThrottles(ctx, s.now(), loginThrottle.Window); err != nil && ctx.Err() == nil {
			slog.WarnContext(ctx, "prune login throttles", "err", err)
		} else if n > 0 {
			slog.DebugContext(ctx, "pruned login throttles", "rows", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// checkDummy checks password against the dummy hash, within the budget: the first call also
// makes the dummy, in the same slot.
func (s *Service) checkDummy(ctx context.Context, password string) error {
	n := s.hashes.weight(defaultParams.memory)
	if err := s.hashes.acquire(ctx, n); err != nil {
		return err
	}
	defer s.hashes.release(n)
	CheckPassword(s.dummy(), password)
	return nil
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
