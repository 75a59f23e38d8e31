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
	h     http.Handler
	key   ed25519.PrivateKey
	codec *codec.Codec
}

func newCodecServer(t *testing.T) codecServer {
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
	return codecServer{h: s.Handler(), key: key, codec: c}
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
