package api

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/clinicbook/booking/auth"
	"github.com/clinicbook/booking/codec"
	"github.com/clinicbook/booking/config"
	"github.com/clinicbook/booking/domain"
)

// codecServer is the router with a codec and token checks, but no database or Temporal.
type codecServer struct {
	h        http.Handler
	key      ed25519.PrivateKey
	codec    *codec.Codec
	accounts *auth.Service
}

func newCodecServer(t *testing.T, opts ...func(*Server)) codecServer {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	jwtCfg := config.JWT{Issuer: "booking", Audience: "booking-api", AccessTTL: time.Minute,
		SigningKey: config.SigningKey{ID: "k1", Key: key},
		VerifyKeys: map[string]ed25519.PublicKey{"k1": key.Public().(ed25519.PublicKey)}}
	secret := make([]byte, codec.KeySize)
	_, err = rand.Read(secret)
	require.NoError(t, err)
	c, err := codec.New(codec.Key{ID: "k1", Secret: secret})
	require.NoError(t, err)
	s := &Server{Codec: c, Metrics: NewRegistry(nil),
		Accounts: auth.NewService(nil, jwtCfg, time.Now, auth.Options{}),
		Config:   config.Config{JWT: jwtCfg, Codec: config.Codec{UIOrigins: []string{"http://127.0.0.1:8233"}}}}
	for _, o := range opts {
		o(s)
	}
	return codecServer{h: s.Handler(), key: key, codec: c, accounts: s.Accounts}
}

// token signs an access token as auth does, for role.
func (cs codecServer) token(t *testing.T, role domain.Role) string {
	t.Helper()
	now := time.Now()
	claims := jwt.MapClaims{"role": string(role), "sub": "user-1", "iss": "booking", "aud": "booking-api",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Minute).Unix()}
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	tok.Header["kid"] = "k1"
	s, err := tok.SignedString(cs.key)
	require.NoError(t, err)
	return s
}

func (cs codecServer) post(t *testing.T, path, token, body string, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	cs.h.ServeHTTP(rec, req)
	return rec
}

func payloadsJSON(t *testing.T, ps ...*commonpb.Payload) string {
	t.Helper()
	b, err := protojson.Marshal(&commonpb.Payloads{Payloads: ps})
	require.NoError(t, err)
	return string(b)
}

func readPayloads(t *testing.T, rec *httptest.ResponseRecorder) []*commonpb.Payload {
	t.Helper()
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	var out commonpb.Payloads
	require.NoError(t, protojson.Unmarshal(rec.Body.Bytes(), &out))
	return out.Payloads
}

func TestCodecServerRoundTripForAdmins(t *testing.T) {
	quietLogs(t)
	cs := newCodecServer(t)
	admin := cs.token(t, domain.RoleAdmin)
	plain, err := converter.GetDefaultDataConverter().ToPayload(map[string]string{"notes": "persistent cough"})
	require.NoError(t, err)

	enc := readPayloads(t, cs.post(t, "/codec/encode", admin, payloadsJSON(t, plain), "X-Namespace", "default"))
	require.Len(t, enc, 1)
	require.Equal(t, codec.EncodingEncrypted, string(enc[0].Metadata["encoding"]))
	require.NotContains(t, string(enc[0].Data), "persistent cough")

	// What the platform's own workers encrypted decodes too, and unencrypted payloads (old
	// histories) come back as they were.
	mine, err := cs.codec.Encode([]*commonpb.Payload{plain})
	require.NoError(t, err)
	dec := readPayloads(t, cs.post(t, "/codec/decode", admin, payloadsJSON(t, enc[0], mine[0], plain)))
	require.Len(t, dec, 3)
	for _, p := range dec {
		var v map[string]string
		require.NoError(t, json.Unmarshal(p.Data, &v))
		require.Equal(t, "persistent cough", v["notes"])
	}
}

func TestCodecServerIsForAdminsOnly(t *testing.T) {
	quietLogs(t)
	cs := newCodecServer(t)
	body := payloadsJSON(t)
	for _, path := range []string{"/codec/encode", "/codec/decode"} {
		rec := cs.post(t, path, "", body)
		require.Equal(t, http.StatusUnauthorized, rec.Code, path)
		require.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
		require.Equal(t, http.StatusUnauthorized, cs.post(t, path, "not-a-token", body).Code, path)
		for _, role := range []domain.Role{domain.RolePatient, domain.RoleProvider} {
			require.Equal(t, http.StatusForbidden, cs.post(t, path, cs.token(t, role), body).Code, "%s as %s", path, role)
		}
	}
}

func TestCodecServerRefusesBadInput(t *testing.T) {
	quietLogs(t)
	cs := newCodecServer(t)
	admin := cs.token(t, domain.RoleAdmin)
	for name, body := range map[string]string{
		"not JSON":      "payloads",
		"unknown field": `{"payloads": [], "extra": 1}`,
		"bad base64":    `{"payloads": [{"data": "%%%"}]}`,
		"tampered":      `{"payloads": [{"metadata": {"encoding": "YmluYXJ5L2VuY3J5cHRlZA==", "encryption-key-id": "azE="}, "data": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}]}`,
		"unknown key":   `{"payloads": [{"metadata": {"encoding": "YmluYXJ5L2VuY3J5cHRlZA==", "encryption-key-id": "b3RoZXI="}, "data": "AAAA"}]}`,
	} {
		rec := cs.post(t, "/codec/decode", admin, body)
		require.Equal(t, http.StatusBadRequest, rec.Code, "%s: %s", name, rec.Body.String())
		require.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"), name)
	}
	rec := cs.post(t, "/codec/decode", admin, "{}", "Content-Type", "text/plain")
	require.Equal(t, http.StatusBadRequest, rec.Code)
}

func TestCodecCORSIsForTheWebUIOnly(t *testing.T) {
	quietLogs(t)
	cs := newCodecServer(t)
	preflight := func(origin string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodOptions, "/codec/decode", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization,content-type,x-namespace")
		rec := httptest.NewRecorder()
		cs.h.ServeHTTP(rec, req)
		return rec
	}
	rec := preflight("http://127.0.0.1:8233")
	require.Equal(t, http.StatusNoContent, rec.Code)
	require.Equal(t, "http://127.0.0.1:8233", rec.Header().Get("Access-Control-Allow-Origin"))
	require.Equal(t, "true", rec.Header().Get("Access-Control-Allow-Credentials"))
	allowed := strings.ToLower(rec.Header().Get("Access-Control-Allow-Headers"))
	for _, h := range []string{"authorization", "content-type", "x-namespace"} {
		require.Contains(t, allowed, h)
	}
	require.Contains(t, rec.Header().Get("Access-Control-Allow-Methods"), "POST")

	rec = preflight("https://evil.example")
	require.Equal(t, http.StatusForbidden, rec.Code)
	require.Empty(t, rec.Header().Get("Access-Control-Allow-Origin"))

	// The answer itself, even a refusal, carries the origin so the UI can show why.
	anon := cs.post(t, "/codec/decode", "", payloadsJSON(t), "Origin", "http://127.0.0.1:8233")
	require.Equal(t, http.StatusUnauthorized, anon.Code)
	require.Equal(t, "http://127.0.0.1:8233", anon.Header().Get("Access-Control-Allow-Origin"))
	other := cs.post(t, "/codec/decode", cs.token(t, domain.RoleAdmin), payloadsJSON(t), "Origin", "https://evil.example")
	require.Empty(t, other.Header().Get("Access-Control-Allow-Origin"))

	// The REST API keeps its open rule.
	req := httptest.NewRequest(http.MethodOptions, "/v1/bookings", nil)
	req.Header.Set("Origin", "https://app.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	rec = httptest.NewRecorder()
	cs.h.ServeHTTP(rec, req)
	require.Equal(t, "*", rec.Header().Get("Access-Control-Allow-Origin"))
}

// sign signs claims as auth does, with key (the server's own when nil).
func (cs codecServer) sign(t *testing.T, key ed25519.PrivateKey, claims jwt.MapClaims) string {
	t.Helper()
	if key == nil {
		key = cs.key
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	tok.Header["kid"] = "k1"
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

// sessionClaims are a codec session's claims for role, expiring at exp.
func sessionClaims(role domain.Role, exp time.Time) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{"role": string(role), "sub": "user-1", "iss": "booking", "aud": "booking-api#codec",
		"iat": now.Add(-10 * time.Hour).Unix(), "nbf": now.Add(-10 * time.Hour).Unix(), "exp": exp.Unix()}
}

func (cs codecServer) startSession(t *testing.T, token string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/codec/session", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	cs.h.ServeHTTP(rec, req)
	return rec
}

func sessionCookie(t *testing.T, rec *httptest.ResponseRecorder) *http.Cookie {
	t.Helper()
	for _, c := range rec.Result().Cookies() {
		if c.Name == codecCookie {
			return c
		}
	}
	return nil
}

func TestCodecSessionCookie(t *testing.T) {
	quietLogs(t)
	cs := newCodecServer(t)

	rec := cs.startSession(t, cs.token(t, domain.RoleAdmin))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	var body struct {
		ExpiresAt time.Time `json:"expires_at"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
	require.WithinDuration(t, time.Now().Add(8*time.Hour), body.ExpiresAt, time.Minute)
	c := sessionCookie(t, rec)
	require.NotNil(t, c, "no %s cookie in %v", codecCookie, rec.Header().Values("Set-Cookie"))
	require.True(t, c.HttpOnly)
	require.Equal(t, http.SameSiteStrictMode, c.SameSite)
	require.Equal(t, "/codec", c.Path)
	require.Empty(t, c.Domain, "host-only")
	require.False(t, c.Secure, "PUBLIC_BASE_URL is not https")
	require.InDelta(t, (8 * time.Hour).Seconds(), c.MaxAge, 60)
	require.WithinDuration(t, body.ExpiresAt, c.Expires, time.Second)
	// The cookie's value is no access token: the REST API refuses it.
	_, err := cs.accounts.Authenticate(c.Value)
	require.Error(t, err)

	// Patients, providers and anonymous callers get no session; nor does a session itself.
	for _, role := range []domain.Role{domain.RolePatient, domain.RoleProvider} {
		rec := cs.startSession(t, cs.token(t, role))
		require.Equal(t, http.StatusForbidden, rec.Code, role)
		require.Nil(t, sessionCookie(t, rec), role)
	}
	require.Equal(t, http.StatusUnauthorized, cs.startSession(t, "").Code)
	require.Equal(t, http.StatusUnauthorized, cs.startSession(t, c.Value).Code)

	// Ending it clears the cookie, with the same path.
	req := httptest.NewRequest(http.MethodDelete, "/codec/session", nil)
	del := httptest.NewRecorder()
	cs.h.ServeHTTP(del, req)
	require.Equal(t, http.StatusNoContent, del.Code)
	gone := sessionCookie(t, del)
	require.NotNil(t, gone)
	require.Equal(t, "/codec", gone.Path)
	require.Empty(t, gone.Value)
	require.Less(t, gone.MaxAge, 0)

	// Behind https the cookie is Secure.
	secure := newCodecServer(t, func(s *Server) { s.Config.PublicBaseURL = "https://api.clinic.example" })
	c = sessionCookie(t, secure.startSession(t, secure.token(t, domain.RoleAdmin)))
	require.NotNil(t, c)
	require.True(t, c.Secure)
}

func TestCodecServerTakesTheSessionCookie(t *testing.T) {
	quietLogs(t)
	cs := newCodecServer(t)
	plain, err := converter.GetDefaultDataConverter().ToPayload("persistent cough")
	require.NoError(t, err)
	enc, err := cs.codec.Encode([]*commonpb.Payload{plain})
	require.NoError(t, err)
	body := payloadsJSON(t, enc...)
	withCookie := func(value string) *httptest.ResponseRecorder {
		return cs.post(t, "/codec/decode", "", body, "Cookie", codecCookie+"="+value, "Origin", "http://127.0.0.1:8233")
	}

	admin := sessionCookie(t, cs.startSession(t, cs.token(t, domain.RoleAdmin)))
	require.NotNil(t, admin)
	rec := withCookie(admin.Value)
	dec := readPayloads(t, rec)
	require.Len(t, dec, 1)
	require.Contains(t, string(dec[0].Data), "persistent cough")
	require.Equal(t, "http://127.0.0.1:8233", rec.Header().Get("Access-Control-Allow-Origin"))
	require.Equal(t, "true", rec.Header().Get("Access-Control-Allow-Credentials"))
	require.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	// Encode too.
	require.Equal(t, http.StatusOK, cs.post(t, "/codec/encode", "", payloadsJSON(t, plain), "Cookie", codecCookie+"="+admin.Value).Code)

	// A session whose role is not admin (signed by us, but never issued so) is forbidden.
	patient := cs.sign(t, nil, sessionClaims(domain.RolePatient, time.Now().Add(time.Hour)))
	require.Equal(t, http.StatusForbidden, withCookie(patient).Code)

	for name, value := range map[string]string{
		"expired":         cs.sign(t, nil, sessionClaims(domain.RoleAdmin, time.Now().Add(-time.Hour))),
		"forged":          cs.sign(t, otherKey(t), sessionClaims(domain.RoleAdmin, time.Now().Add(time.Hour))),
		"an access token": cs.token(t, domain.RoleAdmin),
		"garbage":         "not-a-session",
	} {
		rec := withCookie(value)
		require.Equal(t, http.StatusUnauthorized, rec.Code, "%s: %s", name, rec.Body.String())
		require.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"), name)
		require.Equal(t, "http://127.0.0.1:8233", rec.Header().Get("Access-Control-Allow-Origin"), name)
	}
	require.Contains(t, withCookie(cs.sign(t, nil, sessionClaims(domain.RoleAdmin, time.Now().Add(-time.Hour)))).Body.String(), "expired")

	// A bearer header decides on its own: a bad one is not rescued by the cookie.
	rec = cs.post(t, "/codec/decode", "not-a-token", body, "Cookie", codecCookie+"="+admin.Value)
	require.Equal(t, http.StatusUnauthorized, rec.Code)

	// The Web UI's preflight, as the browser sends it for a credentialed call.
	req := httptest.NewRequest(http.MethodOptions, "/codec/decode", nil)
	req.Header.Set("Origin", "http://127.0.0.1:8233")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type,x-namespace")
	pre := httptest.NewRecorder()
	cs.h.ServeHTTP(pre, req)
	require.Equal(t, http.StatusNoContent, pre.Code)
	require.Equal(t, "http://127.0.0.1:8233", pre.Header().Get("Access-Control-Allow-Origin"))
	require.Equal(t, "true", pre.Header().Get("Access-Control-Allow-Credentials"))
}

func TestCodecLoginPage(t *testing.T) {
	quietLogs(t)
	cs := newCodecServer(t)
	rec := httptest.NewRecorder()
	cs.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/codec", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, "text/html; charset=utf-8", rec.Header().Get("Content-Type"))
	csp := rec.Header().Get("Content-Security-Policy")
	require.Contains(t, csp, "default-src 'none'")
	require.Contains(t, csp, "script-src 'sha256-")
	require.Contains(t, csp, "frame-ancestors 'none'")
	page := rec.Body.String()
	require.Contains(t, page, "http://127.0.0.1:8080/codec")
	require.Contains(t, page, `href="http://127.0.0.1:8233"`)
	require.Contains(t, page, "Include cross-origin")
	require.NotContains(t, page, "https://", "nothing from elsewhere")
	// The CSP hashes are of what the page really holds.
	require.Contains(t, page, "<script>"+codecLoginScript+"</script>")
	require.Contains(t, page, "<style>"+codecLoginStyle+"</style>")

	// Opened at localhost, it points at the UI on localhost: the cookie is for that site only.
	both := newCodecServer(t, func(s *Server) {
		s.Config.Codec.UIOrigins = []string{"http://127.0.0.1:8233", "http://localhost:8233"}
	})
	req := httptest.NewRequest(http.MethodGet, "/codec", nil)
	req.Host = "localhost:8080"
	rec = httptest.NewRecorder()
	both.h.ServeHTTP(rec, req)
	require.Contains(t, rec.Body.String(), `href="http://localhost:8233"`)
}

func otherKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	return key
}
