package e2e

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/clinicbook/booking/activities"
	"github.com/clinicbook/booking/api"
	"github.com/clinicbook/booking/app"
	"github.com/clinicbook/booking/auth"
	"github.com/clinicbook/booking/codec"
	"github.com/clinicbook/booking/config"
	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/internal/temporaltest"
	"github.com/clinicbook/booking/notify/notifytest"
	"github.com/clinicbook/booking/store"
	"github.com/clinicbook/booking/store/storetest"
	"github.com/clinicbook/booking/twiliosandbox"
	"github.com/clinicbook/booking/worker"
)

var devServer *temporaltest.Server

func TestMain(m *testing.M) {
	// The API's access log, one line a request, would bury test and benchmark output.
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	srv, err := temporaltest.Start(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	devServer = srv
	code := m.Run()
	_ = srv.Stop()
	os.Exit(code)
}

// platform is one running platform: its own database, task queue, sandbox and Mailpit.
type platform struct {
	t        testing.TB
	url      string
	st       *store.Store
	cfg      config.Config
	temporal client.Client
	// codec encrypts the platform's payloads: cfg.Codec.Keys, the test key when none is set.
	codec    *codec.Codec
	worker   sdkworker.Worker
	server   *httptest.Server
	accounts *auth.Service
	sandbox  *twiliosandbox.Server
	sandboxU string
	mailAPI  string
	provider domain.Provider
	service  domain.Service
}

// newPlatform starts a platform; opts adjust its configuration (limits, say) before anything
// uses it.
func newPlatform(t testing.TB, opts ...func(*config.Config)) *platform {
	t.Helper()
	ctx := context.Background()
	pool := storetest.New(t)
	st := store.New(pool)

	_, key, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	cfg := config.Config{
		Temporal: config.Temporal{Namespace: "default", TaskQueue: "booking-" + uuid.NewString()[:8],
			HoldStart: config.HoldStartUpdateWithStart},
		HoldTTL:          10 * time.Minute,
		ReminderOffsets:  []time.Duration{24 * time.Hour, 2 * time.Hour},
		NoShowGrace:      15 * time.Minute,
		LateCancelWindow: 24 * time.Hour,
		// The booking limits as configured by default; sign-ups and logins are not limited
		// here (tests register many patients from one address) but in their own tests.
		Limits: config.Limits{MaxActiveBookings: 5, MaxReschedules: 3, BookingHorizon: 90 * 24 * time.Hour,
			PasswordHashMemory: 96 << 20},
		JWT: config.JWT{Issuer: "booking", Audience: "booking-api", AccessTTL: 15 * time.Minute, RefreshTTL: time.Hour,
			SigningKey: config.SigningKey{ID: "k1", Key: key},
			VerifyKeys: map[string]ed25519.PublicKey{"k1": key.Public().(ed25519.PublicKey)}},
	}

	for _, opt := range opts {
		opt(&cfg)
	}

	if len(cfg.Codec.Keys) == 0 {
		cfg.Codec.Keys = []config.CodecKey{config.CodecKey(temporaltest.Key())}
	}
	p := &platform{t: t, st: st, cfg: cfg, codec: newCodec(t, cfg.Codec.Keys)}
	p.sandbox, p.sandboxU = notifytest.StartSandbox(t, notifytest.SandboxConfig())
	smtpHost, smtpPort, mailAPI := notifytest.StartMailpit(t)
	p.mailAPI = mailAPI
	cfg.Twilio = notifytest.TwilioConfig(p.sandboxU)
	cfg.SMTP = config.SMTP{Host: smtpHost, Port: smtpPort, From: "Clinic <no-reply@clinic.test>", TLS: "none",
		LookupURL: mailAPI}

	// Production's client options (the codec on data and failures), on the shared dev server
	// and with a quiet logger.
	copts, shutdown, err := app.TemporalOptions(ctx, cfg, "booking-e2e", nil, p.codec)
	require.NoError(t, err)
	t.Cleanup(shutdown)
	copts.HostPort, copts.Namespace, copts.Logger = devServer.Address(), cfg.Temporal.Namespace, quiet{}
	c, err := client.Dial(copts)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	p.temporal = c
	p.accounts, err = app.NewAccounts(ctx, st, cfg)
	require.NoError(t, err)

	// The server is created before its handler so that PUBLIC_BASE_URL, where Twilio's
	// callbacks go, is known to the senders.
	ts := httptest.NewUnstartedServer(nil)
	ts.Start()
	t.Cleanup(ts.Close)
	cfg.PublicBaseURL = ts.URL
	p.url = ts.URL
	p.server = ts

	// From here on, the platform is wired as `booking api` wires itself: one registry for the
	// API's and the reconciler's metrics, a worker with the activities and the reconciler.
	metrics := api.NewRegistry(st.CountByStatus)
	w, err := app.NewWorker(c, st, cfg, metrics.Prometheus())
	require.NoError(t, err)
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)
	p.worker = w
	ts.Config.Handler = app.NewAPIServer(st, c, p.codec, p.accounts, cfg, metrics).Handler()
	p.cfg = cfg

	// A provider who works around the clock, so that every half hour from tomorrow is a slot.
	p.provider = domain.Provider{ID: uuid.NewString(), Name: "Dr. Test", Specialty: "General", TimeZone: "Europe/Berlin"}
	require.NoError(t, st.CreateProvider(ctx, p.provider))
	p.service = domain.Service{ID: uuid.NewString(), Name: "Consultation", DurationMinutes: 30}
	require.NoError(t, st.CreateService(ctx, p.service))
	var weekly []domain.WorkingHours
	for wd := time.Sunday; wd <= time.Saturday; wd++ {
		weekly = append(weekly, domain.WorkingHours{Weekday: wd, Start: 0, End: 24 * 60})
	}
	require.NoError(t, st.ReplaceSchedule(ctx, p.provider.ID, domain.Schedule{TimeZone: "Europe/Berlin", Weekly: weekly}))
	return p
}

// newCodec is the payload codec of keys, as production builds it.
func newCodec(t testing.TB, keys []config.CodecKey) *codec.Codec {
	t.Helper()
	c, err := app.NewCodec(config.Codec{Keys: keys})
	require.NoError(t, err)
	return c
}

// The platform's API is wired by app as production's is: its /readyz asks PostgreSQL and
// Temporal, and answers 503 once the database is gone.
func TestReadyzAsksTheDatabaseAndTemporal(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	var out struct {
		Status string `json:"status"`
	}
	require.Equal(t, http.StatusOK, p.do("GET", "/readyz", "", nil, &out))
	require.Equal(t, "ready", out.Status)

	p.st.Pool().Close()
	require.Equal(t, http.StatusServiceUnavailable, p.do("GET", "/readyz", "", nil, &out))
	require.Equal(t, "unavailable", out.Status)
}

// startWorker runs one more worker for the platform's task queue.
func (p *platform) startWorker(acts *activities.Activities) sdkworker.Worker {
	w := worker.New(p.temporal, p.cfg.Temporal.TaskQueue, acts)
	require.NoError(p.t, w.Start())
	return w
}

// patient registers a patient with both channels verified (most tests are not about
// verification) and returns their id and access token.
func (p *platform) patient(email, phone string) (string, string) {
	p.t.Helper()
	id, token := p.unverifiedPatient(email, phone)
	for _, ch := range []string{domain.ChannelEmail, domain.ChannelSMS} {
		require.NoError(p.t, p.st.MarkVerified(context.Background(), id, ch, time.Now()))
	}
	return id, token
}

// unverifiedPatient registers a patient as the API leaves them: nothing verified.
func (p *platform) unverifiedPatient(email, phone string) (string, string) {
	p.t.Helper()
	var out struct {
		User        domain.User `json:"user"`
		AccessToken string      `json:"access_token"`
	}
	status := p.do("POST", "/v1/auth/register", "", map[string]any{
		"email": email, "password": "correct-horse-1", "name": "Pat " + email, "phone": phone,
	}, &out)
	require.Equal(p.t, http.StatusCreated, status)
	return out.User.ID, out.AccessToken
}

// tomorrowAt is a slot start tomorrow at hh:mm UTC.
func tomorrowAt(hh, mm int) time.Time {
	d := time.Now().UTC().Add(24 * time.Hour)
	return time.Date(d.Year(), d.Month(), d.Day(), hh, mm, 0, 0, time.UTC)
}

// do sends a JSON request and decodes the answer into out (when not nil); it returns the status.
func (p *platform) do(method, path, token string, body any, out any, headers ...string) int {
	p.t.Helper()
	status, raw := p.raw(method, path, token, body, headers...)
	if out != nil && len(raw) > 0 {
		require.NoError(p.t, json.Unmarshal(raw, out), "body: %s", raw)
	}
	return status
}

func (p *platform) raw(method, path, token string, body any, headers ...string) (int, []byte) {
	p.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(p.t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, p.url+path, rd)
	require.NoError(p.t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(p.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(p.t, err)
	return resp.StatusCode, raw
}

type quiet struct{}

func (quiet) Debug(string, ...interface{}) {}
func (quiet) Info(string, ...interface{})  {}
func (quiet) Warn(string, ...interface{})  {}
func (quiet) Error(msg string, kv ...interface{}) {
	fmt.Fprintln(os.Stderr, append([]interface{}{"temporal error:", msg}, kv...)...)
}
