package config

import (
	"crypto/ed25519"
	"encoding/base64"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func validEnv() map[string]string {
	seed := make([]byte, ed25519.SeedSize)
	return map[string]string{
		"JWT_SIGNING_KEY":     "k1:" + base64.StdEncoding.EncodeToString(seed),
		"TWILIO_ACCOUNT_SID":  "AC0123456789abcdef0123456789abcdef",
		"TWILIO_AUTH_TOKEN":   "f3a9c1d2e4b5a6978877665544332211",
		"TWILIO_FROM_NUMBER":  "+15005550006",
		"PUBLIC_BASE_URL":     "https://booking.example.com",
		"TEMPORAL_CODEC_KEYS": "c1:" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef")),
	}
}

func TestDefaults(t *testing.T) {
	c, err := Load(env(validEnv()))
	require.NoError(t, err)
	require.Equal(t, DefaultDatabaseURL, c.DatabaseURL)
	require.GreaterOrEqual(t, c.DatabaseMaxConns, 10)
	require.Equal(t, "127.0.0.1:7233", c.Temporal.Address)
	require.Equal(t, "default", c.Temporal.Namespace)
	require.Equal(t, "booking", c.Temporal.TaskQueue)
	require.Equal(t, ":8080", c.HTTPAddr)
	require.Equal(t, 10*time.Minute, c.HoldTTL)
	require.Equal(t, []time.Duration{24 * time.Hour, 2 * time.Hour}, c.ReminderOffsets)
	require.Equal(t, 15*time.Minute, c.NoShowGrace)
	require.Equal(t, time.Minute, c.ReconcileInterval)
	require.Equal(t, "k1", c.JWT.SigningKey.ID)
	require.Contains(t, c.JWT.VerifyKeys, "k1")
	require.Empty(t, c.SMTP.LookupURL, "no relay lookup unless one is named")
}

func TestReminderOffsetsAreSortedFurthestFirst(t *testing.T) {
	e := validEnv()
	e["REMINDER_OFFSETS"] = "2h, 48h,30m"
	c, err := Load(env(e))
	require.NoError(t, err)
	require.Equal(t, []time.Duration{48 * time.Hour, 2 * time.Hour, 30 * time.Minute}, c.ReminderOffsets)
}

// Every bad value is named, on one line.
func TestBadValuesAreNamedOnOneLine(t *testing.T) {
	e := validEnv()
	delete(e, "TWILIO_AUTH_TOKEN")
	e["HOLD_TTL"] = "ten minutes"
	e["REMINDER_OFFSETS"] = "24h,-2h"
	e["SMTP_PORT"] = "70000"
	e["JWT_SIGNING_KEY"] = "nokid"
	e["TWILIO_ACCOUNT_SID"] = "AC-dev"
	e["TWILIO_FROM_NUMBER"] = "+1 500 555 0006"
	e["PUBLIC_BASE_URL"] = "ftp://x"
	e["ADMIN_EMAIL"] = "Ann <ann@example.com>"
	e["ADMIN_PASSWORD"] = "short"
	e["RECONCILE_INTERVAL"] = "0s"
	e["DATABASE_MAX_CONNS"] = "0"
	e["SMTP_LOOKUP_URL"] = "mailpit:8025"
	_, err := Load(env(e))
	require.Error(t, err)
	msg := err.Error()
	require.NotContains(t, msg, "\n")
	for _, name := range []string{"TWILIO_AUTH_TOKEN is required", "HOLD_TTL", "REMINDER_OFFSETS", "SMTP_PORT", "JWT_SIGNING_KEY", "TWILIO_ACCOUNT_SID", "TWILIO_FROM_NUMBER", "PUBLIC_BASE_URL", "ADMIN_EMAIL", "ADMIN_PASSWORD", "RECONCILE_INTERVAL", "DATABASE_MAX_CONNS", "SMTP_LOOKUP_URL"} {
		require.True(t, strings.Contains(msg, name), "%q does not name %s", msg, name)
	}
}

func TestVerifyKeysForRotation(t *testing.T) {
	e := validEnv()
	pub, _, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	e["JWT_VERIFY_KEYS"] = "old:" + base64.StdEncoding.EncodeToString(pub)
	c, err := Load(env(e))
	require.NoError(t, err)
	require.Equal(t, ed25519.PublicKey(pub), c.JWT.VerifyKeys["old"])
	require.Len(t, c.JWT.VerifyKeys, 2)
}

func TestPublicBaseURLIsRequiredWithTheRealTwilio(t *testing.T) {
	e := validEnv()
	delete(e, "PUBLIC_BASE_URL")
	_, err := Load(env(e))
	require.ErrorContains(t, err, "PUBLIC_BASE_URL is required")

	// With the sandbox, the local address is the default.
	e["TWILIO_API_BASE_URL"] = "http://127.0.0.1:8090"
	c, err := Load(env(e))
	require.NoError(t, err)
	require.Equal(t, "http://127.0.0.1:8080", c.PublicBaseURL)
}

// Outside the sandbox, secrets copied from a template or a development set-up stop start-up.
func TestPlaceholderSecretsAreRefusedOutsideTheSandbox(t *testing.T) {
	e := validEnv()
	e["TWILIO_AUTH_TOKEN"] = "REPLACE_ME"
	e["ADMIN_EMAIL"] = "admin@clinic.example"
	e["ADMIN_PASSWORD"] = "admin-pass-1"
	e["DATABASE_URL"] = "postgres://booking:REPLACE_ME@db:5432/booking"
	_, err := Load(env(e))
	require.Error(t, err)
	for _, name := range []string{"TWILIO_AUTH_TOKEN", "ADMIN_PASSWORD", "DATABASE_URL"} {
		require.Contains(t, err.Error(), name+" holds a placeholder")
	}

	// With the sandbox standing in for Twilio (make dev, compose, tests) they are fine.
	e["TWILIO_AUTH_TOKEN"] = "0123456789abcdef0123456789abcdef"
	e["DATABASE_URL"] = DefaultDatabaseURL
	e["TWILIO_API_BASE_URL"] = "http://127.0.0.1:8090"
	_, err = Load(env(e))
	require.NoError(t, err)
}

func TestLimits(t *testing.T) {
	c, err := Load(env(validEnv()))
	require.NoError(t, err)
	require.Equal(t, Rate{N: 10, Per: time.Hour}, c.Limits.Register)
	require.Equal(t, 5, c.Limits.MaxActiveBookings)
	require.Equal(t, 3, c.Limits.MaxReschedules)
	require.Equal(t, 90*24*time.Hour, c.Limits.BookingHorizon)
	require.Equal(t, int64(96<<20), c.Limits.PasswordHashMemory)
	require.Equal(t, ":8082", c.OpsHTTPAddr)

	e := validEnv()
	e["RATE_LIMIT_LOGIN"] = "5/10m"
	e["TRUSTED_PROXIES"] = "10.0.0.0/8, 192.168.1.7"
	e["BOOKING_HORIZON"] = "30d"
	e["MAX_RESCHEDULES"] = "0"
	c, err = Load(env(e))
	require.NoError(t, err)
	require.Equal(t, Rate{N: 5, Per: 10 * time.Minute}, c.Limits.Login)
	require.Len(t, c.Limits.TrustedProxies, 2)
	require.True(t, c.Limits.TrustedProxies[1].Contains(netip.MustParseAddr("192.168.1.7")))
	require.Equal(t, 30*24*time.Hour, c.Limits.BookingHorizon)
	require.Equal(t, 0, c.Limits.MaxReschedules)

	for name, bad := range map[string]string{
		"RATE_LIMIT_REGISTER": "ten", "RATE_LIMIT_LOGIN": "0/1m", "TRUSTED_PROXIES": "10.0.0.0/33",
		"MAX_ACTIVE_BOOKINGS": "0", "MAX_RESCHEDULES": "-1", "BOOKING_HORIZON": "soon", "PASSWORD_HASH_MEMORY": "lots",
	} {
		e := validEnv()
		e[name] = bad
		_, err := Load(env(e))
		require.ErrorContains(t, err, name, "%s=%s", name, bad)
	}
}

// A base URL on one of Twilio's own hosts (a regional edge) is the real Twilio: the
// placeholder check stays on.
func TestTwilioEdgeIsNotTheSandbox(t *testing.T) {
	e := validEnv()
	e["TWILIO_API_BASE_URL"] = "https://api.dublin.ie1.twilio.com"
	e["ADMIN_EMAIL"] = "admin@clinic.example"
	e["ADMIN_PASSWORD"] = "dev-admin-password"
	_, err := Load(env(e))
	require.ErrorContains(t, err, "ADMIN_PASSWORD holds a placeholder")
}

// `booking migrate` runs with the database alone: no Twilio account, JWT key or codec key.
func TestLoadDatabaseNeedsOnlyTheDatabase(t *testing.T) {
	e := map[string]string{"DATABASE_URL": "postgres://postgres@db:5432/booking?sslmode=disable"}
	c, err := LoadDatabase(lookupEnv(e))
	require.NoError(t, err)
	require.Equal(t, e["DATABASE_URL"], c.DatabaseURL)
	require.Equal(t, DefaultDatabaseMaxConns(), c.DatabaseMaxConns)
	require.Equal(t, int64(96<<20), c.Limits.PasswordHashMemory)
	require.Empty(t, c.AdminEmail)

	// The full configuration would have refused it.
	_, err = LoadLookup(lookupEnv(e))
	require.ErrorContains(t, err, "JWT_SIGNING_KEY is required")
}

func TestLoadDatabaseNamesBadValuesOnOneLine(t *testing.T) {
	e := map[string]string{"DATABASE_MAX_CONNS": "none", "ADMIN_EMAIL": "Ann <ann@example.com>",
		"ADMIN_PASSWORD": "short", "PASSWORD_HASH_MEMORY": "lots"}
	_, err := LoadDatabase(lookupEnv(e))
	require.Error(t, err)
	require.NotContains(t, err.Error(), "\n")
	for _, name := range []string{"DATABASE_MAX_CONNS", "ADMIN_EMAIL", "ADMIN_PASSWORD", "PASSWORD_HASH_MEMORY"} {
		require.ErrorContains(t, err, name)
	}
}

// What both loaders read, they read alike: migrate and seed see the database the API sees.
func TestLoadDatabaseReadsAsLoadLookup(t *testing.T) {
	e := validEnv()
	e["DATABASE_URL"] = "postgres://booking@db:5432/clinic"
	e["DATABASE_MAX_CONNS"] = "7"
	e["ADMIN_EMAIL"] = "admin@clinic.example"
	e["ADMIN_PASSWORD"] = "a real secret"
	e["PASSWORD_HASH_MEMORY"] = "64MiB"
	full, err := LoadLookup(lookupEnv(e))
	require.NoError(t, err)
	db, err := LoadDatabase(lookupEnv(e))
	require.NoError(t, err)
	require.Equal(t, Config{DatabaseURL: full.DatabaseURL, DatabaseMaxConns: full.DatabaseMaxConns,
		AdminEmail: full.AdminEmail, AdminPassword: full.AdminPassword,
		Limits: Limits{PasswordHashMemory: full.Limits.PasswordHashMemory}}, db)
	require.Equal(t, 7, db.DatabaseMaxConns)
}

// Seeding a real deployment with a development admin password would publish the admin login.
func TestLoadDatabaseRefusesPlaceholdersOutsideTheSandbox(t *testing.T) {
	e := map[string]string{"ADMIN_EMAIL": "admin@clinic.example", "ADMIN_PASSWORD": "dev-admin-password",
		"DATABASE_URL": "postgres://booking:REPLACE_ME@db:5432/booking"}
	_, err := LoadDatabase(lookupEnv(e))
	for _, name := range []string{"ADMIN_PASSWORD", "DATABASE_URL"} {
		require.ErrorContains(t, err, name+" holds a placeholder")
	}

	e["TWILIO_API_BASE_URL"] = "http://twilio-sandbox:8090"
	_, err = LoadDatabase(lookupEnv(e))
	require.NoError(t, err)
}
