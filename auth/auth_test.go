package auth_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/clinicbook/booking/auth"
	"github.com/clinicbook/booking/config"
	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/store"
	"github.com/clinicbook/booking/store/storetest"
)

// clock is a settable time source safe for concurrent readers.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	svc    *auth.Service
	clock  *clock
	cfg    config.JWT
	oldKey ed25519.PrivateKey // "k1": no longer signs, still verifies
}

func newKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	return priv
}

func setup(t *testing.T, opts ...auth.Options) *env {
	t.Helper()
	oldKey, curKey := newKey(t), newKey(t)
	cfg := config.JWT{
		Issuer:     "booking",
		Audience:   "booking-api",
		AccessTTL:  15 * time.Minute,
		RefreshTTL: 24 * time.Hour,
		SigningKey: config.SigningKey{ID: "k2", Key: curKey},
		VerifyKeys: map[string]ed25519.PublicKey{
			"k1": oldKey.Public().(ed25519.PublicKey),
			"k2": curKey.Public().(ed25519.PublicKey),
		},
	}
	// Real time, not a fixed date: the database's own now() sets created_at elsewhere, and a
	// clock far from it would hide mistakes.
	c := &clock{t: time.Now().UTC().Truncate(time.Second)}
	st := store.New(storetest.New(t))
	var o auth.Options
	if len(opts) > 0 {
		o = opts[0]
	}
	return &env{svc: auth.NewService(st, cfg, c.Now, o), clock: c, cfg: cfg, oldKey: oldKey}
}

func (e *env) user(t *testing.T, email, password string, role domain.Role) domain.User {
	t.Helper()
	u, err := e.svc.CreateUser(context.Background(), email, password, "Test User", "+4915112345678", role)
	require.NoError(t, err)
	return u
}

// claims are standard, valid claims for sub at the env's current time.
func (e *env) claims(sub string) jwt.MapClaims {
	now := e.clock.Now()
	return jwt.MapClaims{
		"iss": e.cfg.Issuer, "aud": e.cfg.Audience, "sub": sub, "role": "admin",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Minute).Unix(), "jti": "j",
	}
}

func sign(t *testing.T, method jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

func requireKind(t *testing.T, err error, kind domain.Kind, msgAndArgs ...any) *domain.Error {
	t.Helper()
	require.Error(t, err, msgAndArgs...)
	require.Equal(t, kind, domain.ErrorKind(err), append([]any{"error: %v"}, err)...)
	de := err.(*domain.Error)
	return de
}

func TestPasswordHashing(t *testing.T) {
	h, err := auth.HashPassword("correct horse battery")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$"), h)
	require.True(t, auth.CheckPassword(h, "correct horse battery"))
	require.False(t, auth.CheckPassword(h, "correct horse batterY"))
	require.False(t, auth.CheckPassword(h, ""))

	h2, err := auth.HashPassword("correct horse battery")
	require.NoError(t, err)
	require.NotEqual(t, h, h2, "each hash has its own salt")

	for _, bad := range []string{"", "plain", "$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=18$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=99999999,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		strings.Replace(h, "$v=19$", "$v=19$$", 1)} {
		require.False(t, auth.CheckPassword(bad, "correct horse battery"), bad)
	}

	require.Equal(t, "", auth.CheckPasswordPolicy("12345678"))
	require.Equal(t, "", auth.CheckPasswordPolicy(strings.Repeat("ä", 128)))
	require.NotEqual(t, "", auth.CheckPasswordPolicy("1234567"))
	require.NotEqual(t, "", auth.CheckPasswordPolicy(strings.Repeat("x", 129)))
	require.NotEqual(t, "", auth.CheckPasswordPolicy(""))
}

func TestAuthenticate(t *testing.T) {
	ctx := context.Background()
	e := setup(t)
	u := e.user(t, "doc@example.com", "s3cret-pass", domain.RoleProvider)

	tokens, err := e.svc.Login(ctx, auth.LoginInput{Email: "Doc@Example.com", Password: "s3cret-pass"})
	require.NoError(t, err)
	require.Equal(t, "Bearer", tokens.TokenType)
	require.Equal(t, 900, tokens.ExpiresIn)
	p, err := e.svc.Authenticate(tokens.AccessToken)
	require.NoError(t, err)
	require.Equal(t, domain.Principal{UserID: u.ID, Role: domain.RoleProvider}, p)

	// The header names the signing key; the claims are the ones promised.
	parsed, _, err := jwt.NewParser().ParseUnverified(tokens.AccessToken, jwt.MapClaims{})
	require.NoError(t, err)
	require.Equal(t, "k2", parsed.Header["kid"])
	require.Equal(t, "EdDSA", parsed.Header["alg"])
	mc := parsed.Claims.(jwt.MapClaims)
	for _, c := range []string{"iss", "aud", "sub", "role", "exp", "iat", "nbf", "jti"} {
		require.Contains(t, mc, c)
	}

	// A token signed with an older key that is still listed keeps working after rotation.
	p, err = e.svc.Authenticate(sign(t, jwt.SigningMethodEdDSA, e.oldKey, "k1", e.claims(u.ID)))
	require.NoError(t, err)
	require.Equal(t, domain.Principal{UserID: u.ID, Role: domain.RoleAdmin}, p)

	curKey := e.cfg.SigningKey.Key
	pub := e.cfg.VerifyKeys["k2"]
	with := func(k string, v any) jwt.MapClaims {
		c := e.claims(u.ID)
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	refused := map[string]string{
		"empty":            "",
		"garbage":          "not.a.token",
		"other key":        sign(t, jwt.SigningMethodEdDSA, newKey(t), "k2", e.claims(u.ID)),
		"alg none":         sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "k2", e.claims(u.ID)),
		"HS256 public key": sign(t, jwt.SigningMethodHS256, []byte(pub), "k2", e.claims(u.ID)),
		"wrong audience":   sign(t, jwt.SigningMethodEdDSA, curKey, "k2", with("aud", "someone-else")),
		"wrong issuer":     sign(t, jwt.SigningMethodEdDSA, curKey, "k2", with("iss", "evil")),
		"no audience":      sign(t, jwt.SigningMethodEdDSA, curKey, "k2", with("aud", nil)),
		"no issuer":        sign(t, jwt.SigningMethodEdDSA, curKey, "k2", with("iss", nil)),
		"no expiry":        sign(t, jwt.SigningMethodEdDSA, curKey, "k2", with("exp", nil)),
		"no subject":       sign(t, jwt.SigningMethodEdDSA, curKey, "k2", with("sub", nil)),
		"unknown role":     sign(t, jwt.SigningMethodEdDSA, curKey, "k2", with("role", "root")),
		"not yet valid":    sign(t, jwt.SigningMethodEdDSA, curKey, "k2", with("nbf", e.clock.Now().Add(time.Hour).Unix())),
		"unknown kid":      sign(t, jwt.SigningMethodEdDSA, curKey, "k9", e.claims(u.ID)),
		"no kid":           sign(t, jwt.SigningMethodEdDSA, curKey, "", e.claims(u.ID)),
		"tampered":         tokens.AccessToken[:len(tokens.AccessToken)-4] + "AAAA",
	}
	for name, raw := range refused {
		_, err := e.svc.Authenticate(raw)
		de := requireKind(t, err, domain.KindUnauthorized, name)
		require.Equal(t, "the access token is not valid", de.Message, name)
	}

	// Within the leeway an expired token still passes; beyond it, it is refused as expired.
	e.clock.Advance(15*time.Minute + 10*time.Second)
	_, err = e.svc.Authenticate(tokens.AccessToken)
	require.NoError(t, err)
	e.clock.Advance(time.Minute)
	_, err = e.svc.Authenticate(tokens.AccessToken)
	de := requireKind(t, err, domain.KindUnauthorized)
	require.Equal(t, "the access token has expired", de.Message)
}

func TestRefreshRotationAndReuse(t *testing.T) {
	ctx := context.Background()
	e := setup(t)
	u := e.user(t, "ann@example.com", "password-1", domain.RolePatient)

	first, err := e.svc.Login(ctx, auth.LoginInput{Email: "ann@example.com", Password: "password-1"})
	require.NoError(t, err)
	// A second, independent login: its family must survive the first one's revocation.
	other, err := e.svc.Login(ctx, auth.LoginInput{Email: "ann@example.com", Password: "password-1"})
	require.NoError(t, err)

	second, err := e.svc.Refresh(ctx, first.RefreshToken)
	require.NoError(t, err)
	require.NotEqual(t, first.RefreshToken, second.RefreshToken)
	require.Equal(t, "Bearer", second.TokenType)
	p, err := e.svc.Authenticate(second.AccessToken)
	require.NoError(t, err)
	require.Equal(t, u.ID, p.UserID)
	require.Equal(t, domain.RolePatient, p.Role)

	// Reusing the spent token is refused and revokes the family, so the token the first
	// rotation handed out stops working too.
	_, err = e.svc.Refresh(ctx, first.RefreshToken)
	requireKind(t, err, domain.KindUnauthorized)
	_, err = e.svc.Refresh(ctx, second.RefreshToken)
	requireKind(t, err, domain.KindUnauthorized)

	_, err = e.svc.Refresh(ctx, other.RefreshToken)
	require.NoError(t, err, "another login's family is untouched")

	for _, bad := range []string{"", "unknown-token"} {
		_, err = e.svc.Refresh(ctx, bad)
		requireKind(t, err, domain.KindUnauthorized)
	}
}

func TestRefreshExpires(t *testing.T) {
	ctx := context.Background()
	e := setup(t)
	e.user(t, "ann@example.com", "password-1", domain.RolePatient)
	tokens, err := e.svc.Login(ctx, auth.LoginInput{Email: "ann@example.com", Password: "password-1"})
	require.NoError(t, err)

	e.clock.Advance(24*time.Hour + time.Second)
	_, err = e.svc.Refresh(ctx, tokens.RefreshToken)
	de := requireKind(t, err, domain.KindUnauthorized)
	require.Equal(t, "the refresh token has expired", de.Message)
}

func TestConcurrentRefreshSucceedsOnce(t *testing.T) {
	ctx := context.Background()
	e := setup(t)
	e.user(t, "ann@example.com", "password-1", domain.RolePatient)
	tokens, err := e.svc.Login(ctx, auth.LoginInput{Email: "ann@example.com", Password: "password-1"})
	require.NoError(t, err)

	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			_, errs[i] = e.svc.Refresh(ctx, tokens.RefreshToken)
		})
	}
	close(start)
	wg.Wait()

	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else {
			requireKind(t, err, domain.KindUnauthorized)
		}
	}
	require.Equal(t, 1, ok)
}

func TestLogoutRevokesTheSession(t *testing.T) {
	ctx := context.Background()
	e := setup(t)
	e.user(t, "ann@example.com", "password-1", domain.RolePatient)
	a, err := e.svc.Login(ctx, auth.LoginInput{Email: "ann@example.com", Password: "password-1"})
	require.NoError(t, err)
	b, err := e.svc.Login(ctx, auth.LoginInput{Email: "ann@example.com", Password: "password-1"})
	require.NoError(t, err)
	a2, err := e.svc.Refresh(ctx, a.RefreshToken)
	require.NoError(t, err)

	// Logging out with the current token ends that session: its whole family.
	require.NoError(t, e.svc.Logout(ctx, a2.RefreshToken))
	_, err = e.svc.Refresh(ctx, a2.RefreshToken)
	requireKind(t, err, domain.KindUnauthorized)

	_, err = e.svc.Refresh(ctx, b.RefreshToken)
	require.NoError(t, err, "the other session stays")

	// Idempotent: logging out again or with an unknown token is fine.
	require.NoError(t, e.svc.Logout(ctx, a2.RefreshToken))
	require.NoError(t, e.svc.Logout(ctx, "never-issued"))
	require.NoError(t, e.svc.Logout(ctx, ""))
}

func TestLoginThrottling(t *testing.T) {
	ctx := context.Background()
	e := setup(t)
	e.user(t, "ann@example.com", "password-1", domain.RolePatient)

	// Wrong password and unknown email get the same answer.
	_, err := e.svc.Login(ctx, auth.LoginInput{Email: "ann@example.com", Password: "wrong-password"})
	wrongPw := requireKind(t, err, domain.KindUnauthorized)
	_, err = e.svc.Login(ctx, auth.LoginInput{Email: "nobody@example.com", Password: "wrong-password"})
	unknown := requireKind(t, err, domain.KindUnauthorized)
	require.Equal(t, "email or password is wrong", wrongPw.Message)
	require.Equal(t, wrongPw.Message, unknown.Message)

	// Four failures and then a success: the success clears the count.
	for range 3 {
		_, err = e.svc.Login(ctx, auth.LoginInput{Email: "ann@example.com", Password: "wrong-password"})
		requireKind(t, err, domain.KindUnauthorized)
	}
	_, err = e.svc.Login(ctx, auth.LoginInput{Email: "ann@example.com", Password: "password-1"})
	require.NoError(t, err)

	// Five failures (the email's case does not matter) lock it; then even the right password
	// is refused, before it is looked at.
	for i := range 5 {
		_, err = e.svc.Login(ctx, auth.LoginInput{Email: []string{"ann@example.com", "ANN@example.com"}[i%2], Password: "wrong-password"})
		requireKind(t, err, domain.KindUnauthorized, "attempt %d", i+1)
	}
	_, err = e.svc.Login(ctx, auth.LoginInput{Email: "ann@example.com", Password: "password-1"})
	de := requireKind(t, err, domain.KindRateLimited)
	require.Greater(t, de.RetryAfterSeconds, 0)
	require.LessOrEqual(t, de.RetryAfterSeconds, 300)

	e.clock.Advance(2 * time.Minute)
	_, err = e.svc.Login(ctx, auth.LoginInput{Email: "ann@example.com", Password: "password-1"})
	de = requireKind(t, err, domain.KindRateLimited)
	require.InDelta(t, 180, de.RetryAfterSeconds, 1)

	// After the lock the right password works again.
	e.clock.Advance(3*time.Minute + time.Second)
	_, err = e.svc.Login(ctx, auth.LoginInput{Email: "ann@example.com", Password: "password-1"})
	require.NoError(t, err)

	// Unknown emails are throttled the same way, so the lock does not reveal accounts.
	for range 5 {
		_, err = e.svc.Login(ctx, auth.LoginInput{Email: "nobody2@example.com", Password: "guess"})
		requireKind(t, err, domain.KindUnauthorized)
	}
	_, err = e.svc.Login(ctx, auth.LoginInput{Email: "nobody2@example.com", Password: "guess"})
	requireKind(t, err, domain.KindRateLimited)

	// Failures spread out with gaps longer than the window never lock.
	for range 7 {
		_, err = e.svc.Login(ctx, auth.LoginInput{Email: "ann@example.com", Password: "wrong-password"})
		requireKind(t, err, domain.KindUnauthorized)
		e.clock.Advance(16 * time.Minute)
	}
}

func TestRegister(t *testing.T) {
	ctx := context.Background()
	e := setup(t)

	u, tokens, err := e.svc.Register(ctx, auth.RegisterInput{
		Email: " Ann@Example.com ", Password: "password-1", Name: " Ann Smith ", Phone: "+4915112345678",
	})
	require.NoError(t, err)
	require.Equal(t, "ann@example.com", u.Email)
	require.Equal(t, "Ann Smith", u.Name)
	require.Equal(t, domain.RolePatient, u.Role)
	require.NotEmpty(t, u.ID)
	require.NotEmpty(t, tokens.RefreshToken)
	p, err := e.svc.Authenticate(tokens.AccessToken)
	require.NoError(t, err)
	require.Equal(t, domain.Principal{UserID: u.ID, Role: domain.RolePatient}, p)

	me, err := e.svc.Me(ctx, u.ID)
	require.NoError(t, err)
	require.Equal(t, u.Email, me.Email)
	require.Equal(t, "+4915112345678", me.Phone)
	_, err = e.svc.Me(ctx, "gone")
	requireKind(t, err, domain.KindUnauthorized)

	// The same email in another case is the same account.
	_, _, err = e.svc.Register(ctx, auth.RegisterInput{Email: "ANN@example.COM", Password: "password-2", Name: "Ann", Phone: "+4915112345679"})
	requireKind(t, err, domain.KindConflict)

	// Every bad field is listed at once.
	_, _, err = e.svc.Register(ctx, auth.RegisterInput{Email: "Ann <ann2@example.com>", Password: "short", Name: "  ", Phone: "015112345678"})
	de := requireKind(t, err, domain.KindInvalid)
	require.ElementsMatch(t, []string{"email", "password", "name", "phone"}, fieldNames(de))

	_, _, err = e.svc.Register(ctx, auth.RegisterInput{})
	de = requireKind(t, err, domain.KindInvalid)
	require.ElementsMatch(t, []string{"email", "password", "name", "phone"}, fieldNames(de))

	_, _, err = e.svc.Register(ctx, auth.RegisterInput{Email: "not-an-email", Password: strings.Repeat("p", 129),
		Name: strings.Repeat("n", 201), Phone: "+0123456789"})
	de = requireKind(t, err, domain.KindInvalid)
	require.ElementsMatch(t, []string{"email", "password", "name", "phone"}, fieldNames(de))

	_, err = e.svc.CreateUser(ctx, "x@example.com", "password-1", "X", "", "root")
	de = requireKind(t, err, domain.KindInvalid)
	require.Equal(t, []string{"role"}, fieldNames(de))
}

func fieldNames(de *domain.Error) []string {
	var names []string
	for _, f := range de.Fields {
		names = append(names, f.Field)
	}
	return names
}

func TestEnsureAdmin(t *testing.T) {
	ctx := context.Background()
	e := setup(t)

	require.NoError(t, e.svc.EnsureAdmin(ctx, "admin@example.com", "admin-pass-1"))
	tokens, err := e.svc.Login(ctx, auth.LoginInput{Email: "admin@example.com", Password: "admin-pass-1"})
	require.NoError(t, err)
	p, err := e.svc.Authenticate(tokens.AccessToken)
	require.NoError(t, err)
	require.Equal(t, domain.RoleAdmin, p.Role)

	// Running again, even with another password, leaves the account as it is.
	require.NoError(t, e.svc.EnsureAdmin(ctx, "Admin@example.com", "another-pass"))
	_, err = e.svc.Login(ctx, auth.LoginInput{Email: "admin@example.com", Password: "admin-pass-1"})
	require.NoError(t, err)
	_, err = e.svc.Login(ctx, auth.LoginInput{Email: "admin@example.com", Password: "another-pass"})
	requireKind(t, err, domain.KindUnauthorized)

	require.Error(t, e.svc.EnsureAdmin(ctx, "new-admin@example.com", "short"))
}

// Whatever arrives as an email, login answers "wrong credentials", not a database error, and
// stores no throttle row for a string no account can have.
func TestLoginWithMalformedEmail(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	for _, email := range []string{strings.Repeat("a", 10000) + "@example.com", "not an email", "Ann <ann@example.com>", "a\x00@example.com"} {
		_, err := e.svc.Login(ctx, auth.LoginInput{Email: email, Password: "whatever-1"})
		requireKind(t, err, domain.KindUnauthorized, email[:min(len(email), 20)])
	}
}
