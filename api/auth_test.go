package api_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clinicbook/booking/api"
	"github.com/clinicbook/booking/auth"
	"github.com/clinicbook/booking/config"
	"github.com/clinicbook/booking/store"
	"github.com/clinicbook/booking/store/storetest"
)

// authTestServer is the API over a fresh database, without Temporal: the auth routes never
// reach it.
func authTestServer(t *testing.T) *httptest.Server {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	jwtCfg := config.JWT{
		Issuer: "booking", Audience: "booking-api", AccessTTL: 15 * time.Minute, RefreshTTL: time.Hour,
		SigningKey: config.SigningKey{ID: "k1", Key: key},
		VerifyKeys: map[string]ed25519.PublicKey{"k1": key.Public().(ed25519.PublicKey)},
	}
	st := store.New(storetest.New(t))
	srv := &api.Server{Store: st, Accounts: auth.NewService(st, jwtCfg, nil, auth.Options{}), Config: config.Config{JWT: jwtCfg}}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts
}

type authTestResponse struct {
	Status int
	Header http.Header
	Body   map[string]any
}

func authTestDo(t *testing.T, ts *httptest.Server, method, path, bearer string, body any) authTestResponse {
	t.Helper()
	var buf bytes.Buffer
	if s, ok := body.(string); ok {
		buf.WriteString(s)
	} else if body != nil {
		require.NoError(t, json.NewEncoder(&buf).Encode(body))
	}
	req, err := http.NewRequestWithContext(context.Background(), method, ts.URL+path, &buf)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := ts.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	out := authTestResponse{Status: resp.StatusCode, Header: resp.Header}
	if resp.StatusCode != http.StatusNoContent {
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&out.Body))
	}
	return out
}

func authTestFields(t *testing.T, r authTestResponse) []string {
	t.Helper()
	require.Equal(t, "https://clinicbook.dev/problems/invalid", r.Body["type"])
	var names []string
	for _, e := range r.Body["errors"].([]any) {
		names = append(names, e.(map[string]any)["field"].(string))
	}
	return names
}

func TestAuthRoutes(t *testing.T) {
	ts := authTestServer(t)

	reg := authTestDo(t, ts, "POST", "/v1/auth/register", "", map[string]string{
		"email": "Ann@Example.com", "password": "password-1", "name": "Ann", "phone": "+4915112345678",
	})
	require.Equal(t, http.StatusCreated, reg.Status, reg.Body)
	require.Equal(t, "no-store", reg.Header.Get("Cache-Control"))
	user := reg.Body["user"].(map[string]any)
	require.Equal(t, "ann@example.com", user["email"])
	require.Equal(t, "patient", user["role"])
	require.Equal(t, "+4915112345678", user["phone"])
	require.NotContains(t, user, "password_hash")
	require.Equal(t, "Bearer", reg.Body["token_type"])
	require.EqualValues(t, 900, reg.Body["expires_in"])
	access := reg.Body["access_token"].(string)

	me := authTestDo(t, ts, "GET", "/v1/me", access, nil)
	require.Equal(t, http.StatusOK, me.Status, me.Body)
	require.Equal(t, user, me.Body)
	require.Equal(t, http.StatusUnauthorized, authTestDo(t, ts, "GET", "/v1/me", "", nil).Status)
	require.Equal(t, http.StatusUnauthorized, authTestDo(t, ts, "GET", "/v1/me", "garbage", nil).Status)

	dup := authTestDo(t, ts, "POST", "/v1/auth/register", "", map[string]string{
		"email": "ann@example.COM", "password": "password-1", "name": "Ann", "phone": "+4915112345678",
	})
	require.Equal(t, http.StatusConflict, dup.Status)

	bad := authTestDo(t, ts, "POST", "/v1/auth/register", "", map[string]string{"email": "nope", "phone": "12"})
	require.Equal(t, http.StatusBadRequest, bad.Status)
	require.ElementsMatch(t, []string{"email", "password", "name", "phone"}, authTestFields(t, bad))

	unknown := authTestDo(t, ts, "POST", "/v1/auth/login", "", `{"email":"ann@example.com","password":"password-1","extra":1}`)
	require.Equal(t, http.StatusBadRequest, unknown.Status)
	missing := authTestDo(t, ts, "POST", "/v1/auth/login", "", map[string]string{})
	require.Equal(t, http.StatusBadRequest, missing.Status)
	require.ElementsMatch(t, []string{"email", "password"}, authTestFields(t, missing))

	login := authTestDo(t, ts, "POST", "/v1/auth/login", "", map[string]string{"email": "ann@example.com", "password": "password-1"})
	require.Equal(t, http.StatusOK, login.Status, login.Body)
	refreshToken := login.Body["refresh_token"].(string)
	require.Empty(t, login.Header.Values("Set-Cookie"), "a client that asked for no cookie gets none")

	refreshed := authTestDo(t, ts, "POST", "/v1/auth/refresh", "", map[string]string{"refresh_token": refreshToken})
	require.Equal(t, http.StatusOK, refreshed.Status, refreshed.Body)
	require.NotEmpty(t, refreshed.Body["refresh_token"])
	require.Empty(t, refreshed.Header.Values("Set-Cookie"))
	reused := authTestDo(t, ts, "POST", "/v1/auth/refresh", "", map[string]string{"refresh_token": refreshToken})
	require.Equal(t, http.StatusUnauthorized, reused.Status)
	// Neither a token in the body nor a session cookie: nothing to refresh.
	none := authTestDo(t, ts, "POST", "/v1/auth/refresh", "", map[string]string{})
	require.Equal(t, http.StatusUnauthorized, none.Status)
	require.Equal(t, "https://clinicbook.dev/problems/unauthorized", none.Body["type"])

	// Logging out the registration's session: 204, then its refresh token is dead.
	out := authTestDo(t, ts, "POST", "/v1/auth/logout", "", map[string]string{"refresh_token": reg.Body["refresh_token"].(string)})
	require.Equal(t, http.StatusNoContent, out.Status)
	again := authTestDo(t, ts, "POST", "/v1/auth/refresh", "", map[string]string{"refresh_token": reg.Body["refresh_token"].(string)})
	require.Equal(t, http.StatusUnauthorized, again.Status)

	// Throttling: 429 with Retry-After.
	for range 5 {
		r := authTestDo(t, ts, "POST", "/v1/auth/login", "", map[string]string{"email": "ann@example.com", "password": "wrong-password"})
		require.Equal(t, http.StatusUnauthorized, r.Status)
	}
	locked := authTestDo(t, ts, "POST", "/v1/auth/login", "", map[string]string{"email": "ann@example.com", "password": "password-1"})
	require.Equal(t, http.StatusTooManyRequests, locked.Status)
	require.NotEmpty(t, locked.Header.Get("Retry-After"))
	require.Equal(t, "application/problem+json", locked.Header.Get("Content-Type"))
}
