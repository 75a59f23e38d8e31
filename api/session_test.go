package api_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clinicbook/booking/api"
	"github.com/clinicbook/booking/auth"
	"github.com/clinicbook/booking/config"
	"github.com/clinicbook/booking/store"
	"github.com/clinicbook/booking/store/storetest"
)

// apiEnv is the API over a fresh database, without Temporal: what these tests call only reads
// the database.
type apiEnv struct {
	ts       *httptest.Server
	st       *store.Store
	accounts *auth.Service
}

func newAPIEnv(t *testing.T, st *store.Store, adjust ...func(*config.Config)) *apiEnv {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	cfg := config.Config{JWT: config.JWT{
		Issuer: "booking", Audience: "booking-api", AccessTTL: 15 * time.Minute, RefreshTTL: time.Hour,
		SigningKey: config.SigningKey{ID: "k1", Key: key},
		VerifyKeys: map[string]ed25519.PublicKey{"k1": key.Public().(ed25519.PublicKey)},
	}}
	for _, f := range adjust {
		f(&cfg)
	}
	if st == nil {
		st = store.New(storetest.New(t))
	}
	accounts := auth.NewService(st, cfg.JWT, nil, auth.Options{})
	srv := &api.Server{Store: st, Accounts: accounts, Config: cfg, Metrics: api.NewRegistry(nil)}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &apiEnv{ts: ts, st: st, accounts: accounts}
}

type apiAnswer struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    []byte
}

// cookie is the value of the session cookie the answer sets, and the cookie itself.
func (a apiAnswer) cookie(t *testing.T) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: a.Header}).Cookies() {
		if c.Name == "booking_refresh" {
			return c
		}
	}
	t.Fatalf("no booking_refresh cookie in %q", a.Header.Values("Set-Cookie"))
	return nil
}

// call sends body as JSON (a string as is; no Content-Type when contentType is "-") with the
// session cookie when it is not empty.
func (e *apiEnv) call(t *testing.T, method, path, bearer, cookie string, body any, contentType ...string) apiAnswer {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, e.ts.URL+path, rd)
	require.NoError(t, err)
	ct := "application/json"
	if len(contentType) > 0 {
		ct = contentType[0]
	}
	if ct != "-" && body != nil {
		req.Header.Set("Content-Type", ct)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: "booking_refresh", Value: cookie})
	}
	resp, err := e.ts.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	out := apiAnswer{Status: resp.StatusCode, Header: resp.Header}
	out.Raw, err = io.ReadAll(resp.Body)
	require.NoError(t, err)
	if mt := resp.Header.Get("Content-Type"); strings.Contains(mt, "json") && len(out.Raw) > 0 {
		require.NoError(t, json.Unmarshal(out.Raw, &out.Body), "%s", out.Raw)
	}
	return out
}

// requireSessionCookie checks the attributes the browser session promises.
func requireSessionCookie(t *testing.T, a apiAnswer) string {
	t.Helper()
	c := a.cookie(t)
	require.NotEmpty(t, c.Value)
	require.Equal(t, "/v1/auth", c.Path)
	require.True(t, c.HttpOnly, "HttpOnly")
	require.True(t, c.Secure, "Secure")
	require.Equal(t, http.SameSiteStrictMode, c.SameSite)
	require.Equal(t, 3600, c.MaxAge, "the refresh token's lifetime")
	require.NotContains(t, a.Body, "refresh_token", "the body never carries the cookie's token")
	require.NotEmpty(t, a.Body["access_token"])
	require.Equal(t, "no-store", a.Header.Get("Cache-Control"))
	return c.Value
}

// requireCookieCleared checks that the answer tells the browser to drop the session cookie.
func requireCookieCleared(t *testing.T, a apiAnswer) {
	t.Helper()
	c := a.cookie(t)
	require.Empty(t, c.Value)
	require.Equal(t, "/v1/auth", c.Path, "the path must match the cookie's, or the browser keeps it")
	require.Less(t, c.MaxAge, 0, "Max-Age=0: %q", a.Header.Values("Set-Cookie"))
}

func requireFields(t *testing.T, a apiAnswer, want ...string) {
	t.Helper()
	require.Equal(t, http.StatusBadRequest, a.Status, "%s", a.Raw)
	var got []string
	for _, e := range a.Body["errors"].([]any) {
		got = append(got, e.(map[string]any)["field"].(string))
	}
	require.ElementsMatch(t, want, got)
}

func TestCookieSession(t *testing.T) {
	e := newAPIEnv(t, nil)
	creds := map[string]any{"email": "ann@example.com", "password": "password-1", "name": "Ann", "phone": "+4915112345678"}
	with := func(m map[string]any, k string, v any) map[string]any {
		out := map[string]any{}
		for mk, mv := range m {
			out[mk] = mv
		}
		out[k] = v
		return out
	}

	// Only "cookie" is a session mode; a refused sign-up leaves no account behind.
	for _, bad := range []any{"bearer", "", "COOKIE", 1} {
		requireFields(t, e.call(t, "POST", "/v1/auth/register", "", "", with(creds, "session", bad)), "session")
	}
	// A cookie session is refused to a body that does not say it is JSON (see requireJSONBody).
	noType := e.call(t, "POST", "/v1/auth/register", "", "", with(creds, "session", "cookie"), "-")
	require.Equal(t, http.StatusBadRequest, noType.Status, "%s", noType.Raw)
	require.Empty(t, noType.Header.Values("Set-Cookie"))

	reg := e.call(t, "POST", "/v1/auth/register", "", "", with(creds, "session", "cookie"))
	require.Equal(t, http.StatusCreated, reg.Status, "%s", reg.Raw)
	require.Equal(t, "ann@example.com", reg.Body["user"].(map[string]any)["email"])
	regCookie := requireSessionCookie(t, reg)

	login := map[string]any{"email": "ann@example.com", "password": "password-1"}
	requireFields(t, e.call(t, "POST", "/v1/auth/login", "", "", with(login, "session", "jar")), "session")
	requireFields(t, e.call(t, "POST", "/v1/auth/login", "", "", map[string]any{"session": "jar"}), "email", "password", "session")

	in := e.call(t, "POST", "/v1/auth/login", "", "", with(login, "session", "cookie"))
	require.Equal(t, http.StatusOK, in.Status, "%s", in.Raw)
	first := requireSessionCookie(t, in)
	require.NotEqual(t, regCookie, first, "each login is a session of its own")

	// Refresh from the cookie: a new access token, and the rotated refresh token as the new
	// cookie, never in the body.
	r1 := e.call(t, "POST", "/v1/auth/refresh", "", first, map[string]any{})
	require.Equal(t, http.StatusOK, r1.Status, "%s", r1.Raw)
	second := requireSessionCookie(t, r1)
	require.NotEqual(t, first, second)
	me := e.call(t, "GET", "/v1/me", r1.Body["access_token"].(string), "", nil)
	require.Equal(t, http.StatusOK, me.Status)
	require.Equal(t, "ann@example.com", me.Body["email"])

	// The cookie needs a JSON body: a cross-origin "simple" request cannot use it.
	plain := e.call(t, "POST", "/v1/auth/refresh", "", second, "{}", "text/plain")
	require.Equal(t, http.StatusBadRequest, plain.Status)
	noType = e.call(t, "POST", "/v1/auth/refresh", "", second, "{}", "-")
	require.Equal(t, http.StatusBadRequest, noType.Status)
	require.Empty(t, noType.Header.Values("Set-Cookie"))

	// A token in the body is used as today, whatever cookie comes along, and no cookie is set.
	other := e.call(t, "POST", "/v1/auth/login", "", "", login)
	require.Equal(t, http.StatusOK, other.Status)
	bodyRefresh := e.call(t, "POST", "/v1/auth/refresh", "", second, map[string]any{"refresh_token": other.Body["refresh_token"]})
	require.Equal(t, http.StatusOK, bodyRefresh.Status)
	require.NotEmpty(t, bodyRefresh.Body["refresh_token"])
	require.Empty(t, bodyRefresh.Header.Values("Set-Cookie"))

	// Replaying the spent cookie is a reuse: refused, and the whole family is revoked, so the
	// cookie the rotation handed out stops working too. Each refusal clears the cookie.
	reuse := e.call(t, "POST", "/v1/auth/refresh", "", first, map[string]any{})
	require.Equal(t, http.StatusUnauthorized, reuse.Status, "%s", reuse.Raw)
	require.Equal(t, "application/problem+json", reuse.Header.Get("Content-Type"))
	requireCookieCleared(t, reuse)
	revoked := e.call(t, "POST", "/v1/auth/refresh", "", second, map[string]any{})
	require.Equal(t, http.StatusUnauthorized, revoked.Status)
	requireCookieCleared(t, revoked)

	// No token in the body and no cookie, whatever the body says it is.
	for _, ct := range []string{"application/json", "-"} {
		none := e.call(t, "POST", "/v1/auth/refresh", "", "", map[string]any{"refresh_token": ""}, ct)
		require.Equal(t, http.StatusUnauthorized, none.Status, ct)
		require.Equal(t, "application/problem+json", none.Header.Get("Content-Type"))
		require.Empty(t, none.Header.Values("Set-Cookie"), "no cookie to clear")
	}

	// Logout from the cookie ends the registration's session and clears the cookie.
	out := e.call(t, "POST", "/v1/auth/logout", "", regCookie, map[string]any{})
	require.Equal(t, http.StatusNoContent, out.Status, "%s", out.Raw)
	requireCookieCleared(t, out)
	after := e.call(t, "POST", "/v1/auth/refresh", "", regCookie, map[string]any{})
	require.Equal(t, http.StatusUnauthorized, after.Status)
	// Logging out again, or with no session at all, is fine: there is nothing left to end.
	require.Equal(t, http.StatusNoContent, e.call(t, "POST", "/v1/auth/logout", "", regCookie, map[string]any{}).Status)
	again := e.call(t, "POST", "/v1/auth/logout", "", "", map[string]any{})
	require.Equal(t, http.StatusNoContent, again.Status)
	requireCookieCleared(t, again)

	// The body-token session of the other login is untouched by all of this.
	require.Equal(t, http.StatusOK, e.call(t, "POST", "/v1/auth/refresh", "", "", map[string]any{"refresh_token": bodyRefresh.Body["refresh_token"]}).Status)
}
