// Package config reads the platform's configuration from the environment, once, at start-up.
package config

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"net/mail"
	"net/netip"
	"net/url"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/clinicbook/booking/domain"
)

// Config is everything the API, the worker and the tools read from the environment.
type Config struct {
	DatabaseURL string
	// DatabaseMaxConns is the size of each process's PostgreSQL pool.
	DatabaseMaxConns int

	Temporal Temporal

	HTTPAddr string
	// OpsHTTPAddr is where the API serves /metrics (and its own /healthz and /readyz): an
	// operations address kept off the public port.
	OpsHTTPAddr string
	// WorkerHTTPAddr is where the worker serves /healthz, /readyz and /metrics.
	WorkerHTTPAddr string
	PublicBaseURL  string

	JWT JWT

	Twilio Twilio
	SMTP   SMTP

	HoldTTL          time.Duration
	ReminderOffsets  []time.Duration
	NoShowGrace      time.Duration
	LateCancelWindow time.Duration
	// ReconcileInterval is how often the reconciler's Temporal Schedule runs: it expires
	// lapsed holds and restarts the workflows of live bookings whose workflow is gone.
	ReconcileInterval time.Duration

	AdminEmail    string
	AdminPassword string

	Limits Limits

	// Codec encrypts what the platform stores in Temporal.
	Codec Codec

	// OTLPEndpoint turns tracing on when set.
	OTLPEndpoint string
}

// Temporal says how to reach the Temporal cluster.
type Temporal struct {
	Address   string
	Namespace string
	TaskQueue string
	// TLS: a client certificate and key for mTLS (Temporal Cloud or a self-hosted cluster),
	// an optional CA to trust, and an optional server name.
	TLSCertFile   string
	TLSKeyFile    string
	TLSCAFile     string
	TLSServerName string
	TLS           bool
	// APIKey authenticates to Temporal Cloud instead of mTLS; it implies TLS.
	APIKey string
	// HoldStart is how POST /v1/bookings starts a booking's workflow and asks for the hold:
	// HoldStartUpdateWithStart (one Update-with-Start call, one round trip to Temporal: the
	// default, for a Temporal cluster or Cloud) or HoldStartEager (an eager start, then the
	// hold update: faster on the local dev server, which `make dev` sets it for). README,
	// Performance, has the figures.
	HoldStart string
	// UIURL is the Temporal Web UI's address, without a trailing slash: admins' booking
	// answers link to each booking's workflow there. Empty: no links.
	UIURL string
}

// The values of HOLD_START.
const (
	HoldStartEager           = "eager"
	HoldStartUpdateWithStart = "update-with-start"
)

// JWT holds the token keys: the current one signs, every listed one verifies, so a key can be
// rotated without logging everybody out.
type JWT struct {
	Issuer     string
	Audience   string
	AccessTTL  time.Duration
	RefreshTTL time.Duration
	SigningKey SigningKey
	// VerifyKeys holds the public keys accepted by kid, the signing key's included.
	VerifyKeys map[string]ed25519.PublicKey
}

// SigningKey is an Ed25519 private key with its key id.
type SigningKey struct {
	ID  string
	Key ed25519.PrivateKey
}

// Codec holds the keys of the Temporal payload codec and who may call its codec server from a
// browser.
type Codec struct {
	// Keys: the first encrypts, every one decrypts, so a key is rotated by putting a new one
	// first and dropping the old one once no history in retention needs it.
	Keys []CodecKey
	// UIOrigins are the Temporal Web UI origins whose pages may call /codec/encode and
	// /codec/decode.
	UIOrigins []string
}

// CodecKey is one AES-256 key of the payload codec and the id stored with what it encrypts.
type CodecKey struct {
	ID     string
	Secret []byte
}

// Twilio is the SMS provider's account; BaseURL points the client at the local sandbox in dev.
type Twilio struct {
	AccountSID string
	AuthToken  string
	FromNumber string
	BaseURL    string
}

// Sandbox reports whether a local stand-in takes Twilio's place: a base URL is set and it is
// not one of Twilio's own hosts (a regional edge such as api.dublin.ie1.twilio.com is real).
func (t Twilio) Sandbox() bool {
	if t.BaseURL == "" {
		return false
	}
	u, err := url.Parse(t.BaseURL)
	if err != nil {
		return false
	}
	host := strings.ToLower(u.Hostname())
	return host != "twilio.com" && !strings.HasSuffix(host, ".twilio.com")
}

// SMTP is the mail relay.
type SMTP struct {
	Host     string
	Port     int
	Username string
	Password string
	From     string
	// TLS: "none", "starttls" or "tls".
	TLS string
	// LookupURL is the relay's HTTP API (Mailpit's), asked whether an email whose send was
	// never acknowledged got through; empty when the relay has none.
	LookupURL string
}

// Limits bound what one client or one account can make the platform do.
type Limits struct {
	// Register, Login and Verify are per client address: sign-ups, failed logins across
	// accounts, and requests for verification codes (each one an SMS or email we pay for).
	Register Rate
	Login    Rate
	Verify   Rate
	// TrustedProxies are the peers whose X-Forwarded-For is believed; from anyone else the
	// client address is the TCP peer.
	TrustedProxies []netip.Prefix
	// PasswordHashMemory bounds the memory that password hashing may use at once, in bytes;
	// it sets how many hashes run together.
	PasswordHashMemory int64
	// MaxActiveBookings is how many future held or confirmed bookings one patient may have.
	MaxActiveBookings int
	// MaxReschedules is how many times one booking may be moved.
	MaxReschedules int
	// BookingHorizon is how far ahead a booking may be made.
	BookingHorizon time.Duration
}

// Rate is N events per Per; the zero Rate does not limit.
type Rate struct {
	N   int
	Per time.Duration
}

// Unlimited reports whether r limits nothing.
func (r Rate) Unlimited() bool { return r.N <= 0 || r.Per <= 0 }

func (r Rate) String() string { return fmt.Sprintf("%d/%s", r.N, r.Per) }

// Defaults used when a variable is unset.
const (
	DefaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/booking?sslmode=disable"
	DefaultTaskQueue   = "booking"
)

// defaultPasswordHashMemory is PASSWORD_HASH_MEMORY's default, read by both loaders.
const defaultPasswordHashMemory = "96MiB"

// DefaultDatabaseMaxConns sizes the pool for a request mix that waits on PostgreSQL more than
// it computes: four connections per CPU, and never fewer than ten, so that a few slow
// queries cannot take every connection from the fast ones (pgx alone would keep four on a
// two-core machine).
func DefaultDatabaseMaxConns() int {
	return max(10, 4*runtime.GOMAXPROCS(0))
}

// Load reads the configuration through getenv (a map in tests and tools). A variable set to
// the empty string reads as unset; LoadLookup tells the two apart. Every problem is reported
// in one line naming the variables.
func Load(getenv func(string) string) (Config, error) {
	return LoadLookup(func(name string) (string, bool) {
		v := getenv(name)
		return v, v != ""
	})
}

// LoadLookup reads the configuration through lookup (os.LookupEnv in production), which
// reports whether a variable is set at all: TEMPORAL_UI_URL set to the empty string turns the
// Web UI links off, while unset it takes its default.
func LoadLookup(lookup func(string) (string, bool)) (Config, error) {
	r := newReader(lookup)
	c := Config{
		DatabaseURL:      r.str("DATABASE_URL", DefaultDatabaseURL),
		DatabaseMaxConns: r.positiveInt("DATABASE_MAX_CONNS", DefaultDatabaseMaxConns()),
		Temporal: Temporal{
			Address:       r.str("TEMPORAL_ADDRESS", "127.0.0.1:7233"),
			Namespace:     r.str("TEMPORAL_NAMESPACE", "default"),
			TaskQueue:     r.str("TEMPORAL_TASK_QUEUE", DefaultTaskQueue),
			TLSCertFile:   r.str("TEMPORAL_TLS_CERT", ""),
			TLSKeyFile:    r.str("TEMPORAL_TLS_KEY", ""),
			TLSCAFile:     r.str("TEMPORAL_TLS_CA", ""),
			TLSServerName: r.str("TEMPORAL_TLS_SERVER_NAME", ""),
			TLS:           r.boolean("TEMPORAL_TLS", false),
			APIKey:        r.str("TEMPORAL_API_KEY", ""),
			HoldStart:     r.oneOf("HOLD_START", HoldStartUpdateWithStart, HoldStartUpdateWithStart, HoldStartEager),
		},
		HTTPAddr:       r.str("HTTP_ADDR", ":8080"),
		OpsHTTPAddr:    r.str("OPS_HTTP_ADDR", ":8082"),
		WorkerHTTPAddr: r.str("WORKER_HTTP_ADDR", ":8081"),
		PublicBaseURL:  r.url("PUBLIC_BASE_URL", ""),
		JWT: JWT{
			Issuer:     r.str("JWT_ISSUER", "booking"),
			Audience:   r.str("JWT_AUDIENCE", "booking-api"),
			AccessTTL:  r.duration("ACCESS_TOKEN_TTL", "15m"),
			RefreshTTL: r.duration("REFRESH_TOKEN_TTL", "720h"),
		},
		Twilio: Twilio{
			AccountSID: r.required("TWILIO_ACCOUNT_SID"),
			AuthToken:  r.required("TWILIO_AUTH_TOKEN"),
			FromNumber: r.required("TWILIO_FROM_NUMBER"),
			BaseURL:    r.url("TWILIO_API_BASE_URL", ""),
		},
		SMTP: SMTP{
			Host:      r.str("SMTP_HOST", "127.0.0.1"),
			Port:      r.port("SMTP_PORT", 1025),
			Username:  r.str("SMTP_USERNAME", ""),
			Password:  r.str("SMTP_PASSWORD", ""),
			From:      r.email("SMTP_FROM", "Clinic <no-reply@clinic.localhost>"),
			TLS:       r.oneOf("SMTP_TLS", "none", "none", "starttls", "tls"),
			LookupURL: r.url("SMTP_LOOKUP_URL", ""),
		},
		HoldTTL:           r.duration("HOLD_TTL", "10m"),
		ReminderOffsets:   r.durations("REMINDER_OFFSETS", "24h,2h"),
		NoShowGrace:       r.duration("NO_SHOW_GRACE", "15m"),
		LateCancelWindow:  r.duration("LATE_CANCEL_WINDOW", "24h"),
		ReconcileInterval: r.duration("RECONCILE_INTERVAL", "1m"),
		AdminEmail:        r.str("ADMIN_EMAIL", ""),
		AdminPassword:     r.str("ADMIN_PASSWORD", ""),
		OTLPEndpoint:      r.str("OTEL_EXPORTER_OTLP_ENDPOINT", ""),
		Limits: Limits{
			Register:           r.rate("RATE_LIMIT_REGISTER", "10/1h"),
			Login:              r.rate("RATE_LIMIT_LOGIN", "30/15m"),
			Verify:             r.rate("RATE_LIMIT_VERIFY", "10/1h"),
			TrustedProxies:     r.prefixes("TRUSTED_PROXIES"),
			PasswordHashMemory: r.bytes("PASSWORD_HASH_MEMORY", defaultPasswordHashMemory),
			MaxActiveBookings:  r.positiveInt("MAX_ACTIVE_BOOKINGS", 5),
			MaxReschedules:     r.nonNegativeInt("MAX_RESCHEDULES", 3),
			BookingHorizon:     r.days("BOOKING_HORIZON", "90d"),
		},
	}
	c.JWT.SigningKey, c.JWT.VerifyKeys = r.jwtKeys()
	c.Codec = Codec{
		Keys:      r.codecKeys("TEMPORAL_CODEC_KEYS"),
		UIOrigins: r.origins("TEMPORAL_UI_ORIGIN", "http://127.0.0.1:8233,http://localhost:8233"),
	}
	// The UI admins are sent to is, unless said otherwise, the one allowed to call the codec
	// server: the same UI that can then show the workflow decoded.
	uiURL := "http://127.0.0.1:8233"
	if len(c.Codec.UIOrigins) > 0 {
		uiURL = c.Codec.UIOrigins[0]
	}
	c.Temporal.UIURL = r.optionalURL("TEMPORAL_UI_URL", uiURL)
	// Without a key, patients' notes would sit in Temporal in plain text: only the local
	// sandbox set-up may run so.
	if len(c.Codec.Keys) == 0 && !c.Twilio.Sandbox() && r.getenv("TEMPORAL_CODEC_KEYS") == "" {
		r.bad("TEMPORAL_CODEC_KEYS", "is required outside the dev sandbox (`booking keygen` prints a key)")
	}
	r.admin(c.AdminEmail, c.AdminPassword)
	// Twilio must reach the webhooks, and their signatures are checked against this URL: the
	// local default only makes sense with the local sandbox.
	if c.PublicBaseURL == "" {
		if c.Twilio.BaseURL == "" {
			r.bad("PUBLIC_BASE_URL", "is required with the real Twilio (set it to where Twilio reaches this API)")
		}
		c.PublicBaseURL = "http://127.0.0.1:8080"
	}
	// twilio-go refuses credentials with other characters at every call; say so at start-up.
	if c.Twilio.AccountSID != "" && !alphanumeric.MatchString(c.Twilio.AccountSID) {
		r.bad("TWILIO_ACCOUNT_SID", "must be letters and digits only, such as AC followed by 32 hex digits")
	}
	if c.Twilio.AuthToken != "" && !alphanumeric.MatchString(c.Twilio.AuthToken) {
		r.bad("TWILIO_AUTH_TOKEN", "must be letters and digits only")
	}
	if c.Twilio.FromNumber != "" && !domain.IsE164(c.Twilio.FromNumber) {
		r.bad("TWILIO_FROM_NUMBER", "must be an E.164 number such as +15005550006 (got %q)", c.Twilio.FromNumber)
	}
	if !c.Twilio.Sandbox() {
		r.placeholders(secretVars...)
	}
	if (c.Temporal.TLSCertFile == "") != (c.Temporal.TLSKeyFile == "") {
		r.bad("TEMPORAL_TLS_CERT", "and TEMPORAL_TLS_KEY must be set together")
	}
	return r.result(c)
}

// LoadDatabase reads what `booking migrate` and `booking seed` use, and nothing more: the
// database (DATABASE_URL, DATABASE_MAX_CONNS), the bootstrap admin that seed creates
// (ADMIN_EMAIL, ADMIN_PASSWORD) and PASSWORD_HASH_MEMORY, which bounds seed's password
// hashing. A migration job then needs no Twilio account, JWT key or codec key; the other
// fields are left zero. The values are read and checked as LoadLookup reads them, placeholder
// secrets included; TWILIO_API_BASE_URL is read only to tell the dev sandbox, whose
// development secrets are accepted, from a real deployment.
func LoadDatabase(lookup func(string) (string, bool)) (Config, error) {
	r := newReader(lookup)
	c := Config{
		DatabaseURL:      r.str("DATABASE_URL", DefaultDatabaseURL),
		DatabaseMaxConns: r.positiveInt("DATABASE_MAX_CONNS", DefaultDatabaseMaxConns()),
		AdminEmail:       r.str("ADMIN_EMAIL", ""),
		AdminPassword:    r.str("ADMIN_PASSWORD", ""),
		Limits:           Limits{PasswordHashMemory: r.bytes("PASSWORD_HASH_MEMORY", defaultPasswordHashMemory)},
	}
	r.admin(c.AdminEmail, c.AdminPassword)
	if !(Twilio{BaseURL: r.url("TWILIO_API_BASE_URL", "")}).Sandbox() {
		r.placeholders("DATABASE_URL", "ADMIN_PASSWORD")
	}
	return r.result(c)
}

// secretVars are the variables holding secrets, checked for placeholders.
var secretVars = []string{"DATABASE_URL", "JWT_SIGNING_KEY", "JWT_VERIFY_KEYS", "TWILIO_AUTH_TOKEN", "SMTP_PASSWORD",
	"TEMPORAL_API_KEY", "ADMIN_PASSWORD", "TEMPORAL_CODEC_KEYS"}

// demoSecrets are the values the development set-ups (make dev, docker-compose.yml) use:
// public, so never acceptable outside the sandbox.
var demoSecrets = map[string]bool{
	"dev-1:397a91ekXSnYPAYkOoiSWWYIS+sxzXG73olRrqN07zw=": true, // docker-compose.yml's JWT key
	"admin-pass-1":                                           true, // make dev's admin
	"dev-admin-password":                                     true, // docker-compose.yml's admin
	"devsandboxauthtoken0123456789abcd":                      true, // the sandbox's Twilio token
	"0123456789abcdef0123456789abcdef":                       true,
	"dev-codec:IGivfYe97xBpBn+mMhYmTt0ZmfaDRdJEatdi1Xh1DXQ=": true, // docker-compose.yml's codec key
}

var alphanumeric = regexp.MustCompile(`^[A-Za-z0-9]+$`)

type reader struct {
	getenv   func(string) string
	lookup   func(string) (string, bool)
	problems []string
}

func newReader(lookup func(string) (string, bool)) *reader {
	return &reader{getenv: func(name string) string {
		v, _ := lookup(name)
		return v
	}, lookup: lookup}
}

// result is c, or every problem found on one line.
func (r *reader) result(c Config) (Config, error) {
	if len(r.problems) > 0 {
		return Config{}, fmt.Errorf("configuration: %s", strings.Join(r.problems, "; "))
	}
	return c, nil
}

// admin checks the bootstrap admin: none, or a bare email address and a password of 8 to 128
// characters.
func (r *reader) admin(email, password string) {
	if email == "" && password == "" {
		return
	}
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email {
		r.bad("ADMIN_EMAIL", "must be a bare email address such as admin@clinic.example")
	}
	if n := utf8.RuneCountInString(password); n < 8 || n > 128 {
		r.bad("ADMIN_PASSWORD", "must be 8 to 128 characters")
	}
}

// placeholders refuses the named secrets when they hold a template's placeholder or a
// development value. Only outside the sandbox: there it is a real deployment, and a secret
// copied from a template or from the development set-up would be known to anyone who read them.
func (r *reader) placeholders(names ...string) {
	for _, name := range names {
		v := r.getenv(name)
		if strings.Contains(v, "REPLACE_ME") || demoSecrets[strings.TrimSpace(v)] {
			r.bad(name, "holds a placeholder or development value; set a real secret")
		}
	}
}

func (r *reader) bad(name, format string, args ...any) {
	r.problems = append(r.problems, name+" "+fmt.Sprintf(format, args...))
}

func (r *reader) str(name, def string) string {
	if v := strings.TrimSpace(r.getenv(name)); v != "" {
		return v
	}
	return def
}

func (r *reader) required(name string) string {
	v := strings.TrimSpace(r.getenv(name))
	if v == "" {
		r.bad(name, "is required")
	}
	return v
}

func (r *reader) duration(name, def string) time.Duration {
	s := r.str(name, def)
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		r.bad(name, "must be a positive duration such as 10m (got %q)", s)
	}
	return d
}

func (r *reader) durations(name, def string) []time.Duration {
	s := r.str(name, def)
	var out []time.Duration
	for _, part := range strings.Split(s, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(part))
		if err != nil || d <= 0 {
			r.bad(name, "must be a comma-separated list of positive durations such as 24h,2h (got %q)", s)
			return nil
		}
		out = append(out, d)
	}
	// Furthest first: the workflow plans reminders in time order.
	sort.Slice(out, func(i, j int) bool { return out[i] > out[j] })
	return out
}

func (r *reader) port(name string, def int) int {
	s := r.str(name, strconv.Itoa(def))
	p, err := strconv.Atoi(s)
	if err != nil || p < 1 || p > 65535 {
		r.bad(name, "must be a port number (got %q)", s)
	}
	return p
}

func (r *reader) boolean(name string, def bool) bool {
	s := r.str(name, strconv.FormatBool(def))
	b, err := strconv.ParseBool(s)
	if err != nil {
		r.bad(name, "must be true or false (got %q)", s)
	}
	return b
}

func (r *reader) url(name, def string) string {
	s := r.str(name, def)
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		r.bad(name, "must be an http(s) URL (got %q)", s)
	}
	return strings.TrimRight(s, "/")
}

// optionalURL reads an absolute http(s) URL, def when unset; set to the empty string it is
// off (""). A query or fragment is refused: paths are appended to it.
func (r *reader) optionalURL(name, def string) string {
	s, set := r.lookup(name)
	s = strings.TrimSpace(s)
	switch {
	case !set:
		s = def
	case s == "":
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(s, "?#") {
		r.bad(name, "must be an absolute http(s) URL such as https://temporal-ui.example.com, or empty for none (got %q)", s)
		return ""
	}
	return strings.TrimRight(s, "/")
}

func (r *reader) email(name, def string) string {
	s := r.str(name, def)
	if _, err := mail.ParseAddress(s); err != nil {
		r.bad(name, "must be an email address (got %q)", s)
	}
	return s
}

func (r *reader) oneOf(name, def string, allowed ...string) string {
	s := r.str(name, def)
	for _, a := range allowed {
		if s == a {
			return s
		}
	}
	r.bad(name, "must be one of %s (got %q)", strings.Join(allowed, ", "), s)
	return s
}

// jwtKeys reads JWT_SIGNING_KEY ("kid:base64 Ed25519 seed") and JWT_VERIFY_KEYS
// ("kid:base64 Ed25519 public key,..."), the keys of earlier signing keys still accepted.
func (r *reader) jwtKeys() (SigningKey, map[string]ed25519.PublicKey) {
	verify := map[string]ed25519.PublicKey{}
	kid, raw, ok := strings.Cut(r.required("JWT_SIGNING_KEY"), ":")
	if raw == "" && kid == "" {
		return SigningKey{}, verify
	}
	seed, err := base64.StdEncoding.DecodeString(raw)
	if !ok || kid == "" || err != nil || len(seed) != ed25519.SeedSize {
		r.bad("JWT_SIGNING_KEY", "must be kid:base64 of a 32-byte Ed25519 seed (see `booking keygen`)")
		return SigningKey{}, verify
	}
	key := SigningKey{ID: kid, Key: ed25519.NewKeyFromSeed(seed)}
	verify[kid] = key.Key.Public().(ed25519.PublicKey)
	for _, item := range strings.Split(r.str("JWT_VERIFY_KEYS", ""), ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		id, raw, ok := strings.Cut(item, ":")
		pub, err := base64.StdEncoding.DecodeString(raw)
		if !ok || id == "" || err != nil || len(pub) != ed25519.PublicKeySize {
			r.bad("JWT_VERIFY_KEYS", "must be a comma-separated list of kid:base64 Ed25519 public keys")
			continue
		}
		verify[id] = ed25519.PublicKey(pub)
	}
	return key, verify
}

// codecKeys reads "id:base64 of 32 bytes,...": the payload codec's keys, the first encrypting.
func (r *reader) codecKeys(name string) []CodecKey {
	var keys []CodecKey
	seen := map[string]bool{}
	for _, item := range strings.Split(r.str(name, ""), ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		id, raw, ok := strings.Cut(item, ":")
		secret, err := base64.StdEncoding.DecodeString(raw)
		if !ok || id == "" || err != nil || len(secret) != 32 {
			r.bad(name, "must be a comma-separated list of id:base64 of 32 random bytes, the first encrypting (see `booking keygen`)")
			return nil
		}
		if seen[id] {
			r.bad(name, "names key id %q twice", id)
			return nil
		}
		seen[id] = true
		keys = append(keys, CodecKey{ID: id, Secret: secret})
	}
	return keys
}

// origins reads a comma-separated list of browser origins such as https://ui.example.com.
func (r *reader) origins(name, def string) []string {
	var out []string
	for _, part := range strings.Split(r.str(name, def), ",") {
		part = strings.TrimRight(strings.TrimSpace(part), "/")
		if part == "" {
			continue
		}
		u, err := url.Parse(part)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" {
			r.bad(name, "must be a comma-separated list of origins such as https://temporal-ui.example.com (got %q)", part)
			return nil
		}
		out = append(out, part)
	}
	return out
}

// rate reads "N/duration", such as 10/1h: N events per duration.
func (r *reader) rate(name, def string) Rate {
	s := r.str(name, def)
	n, per, ok := strings.Cut(s, "/")
	count, err := strconv.Atoi(strings.TrimSpace(n))
	d, derr := time.ParseDuration(strings.TrimSpace(per))
	if !ok || err != nil || derr != nil || count < 1 || d <= 0 {
		r.bad(name, "must be N/duration such as 10/1h (got %q)", s)
		return Rate{}
	}
	return Rate{N: count, Per: d}
}

// prefixes reads a comma-separated list of IP addresses and CIDR prefixes.
func (r *reader) prefixes(name string) []netip.Prefix {
	s := r.str(name, "")
	var out []netip.Prefix
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if p, err := netip.ParsePrefix(part); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(part)
		if err != nil {
			r.bad(name, "must be a comma-separated list of IP addresses or CIDR prefixes such as 10.0.0.0/8 (got %q)", part)
			return nil
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out
}

// bytes reads a size such as 96MiB, 512KiB or 1GiB (or a plain number of bytes).
func (r *reader) bytes(name, def string) int64 {
	s := r.str(name, def)
	units := []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}, {"", 1}}
	for _, u := range units {
		num, ok := strings.CutSuffix(s, u.suffix)
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
		if err != nil || n <= 0 {
			break
		}
		return n * u.mult
	}
	r.bad(name, "must be a size such as 96MiB (got %q)", s)
	return 0
}

func (r *reader) positiveInt(name string, def int) int {
	s := r.str(name, strconv.Itoa(def))
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		r.bad(name, "must be a whole number of at least 1 (got %q)", s)
	}
	return n
}

func (r *reader) nonNegativeInt(name string, def int) int {
	s := r.str(name, strconv.Itoa(def))
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		r.bad(name, "must be a whole number of at least 0 (got %q)", s)
	}
	return n
}

// days reads a duration that may also be given in days, such as 90d.
func (r *reader) days(name, def string) time.Duration {
	s := r.str(name, def)
	if n, ok := strings.CutSuffix(s, "d"); ok {
		if d, err := strconv.Atoi(n); err == nil && d > 0 {
			return time.Duration(d) * 24 * time.Hour
		}
	} else if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d
	}
	r.bad(name, "must be a positive number of days such as 90d, or a duration such as 720h (got %q)", s)
	return 0
}
