// Command bench measures the platform for `make bench` and writes bench/REPORT.md.
// scripts/bench.sh starts what it measures (a Temporal engine, `booking api` on a fresh
// database, a seeded database of a million bookings) and runs it:
//
//   - holds: POST /v1/bookings over HTTP against the real API process on distinct free slots,
//     at concurrency 10, 30 and 100, against no-op workflows of the hold's shape (an update
//     whose handler runs one local activity, then a timer) on the same Temporal server, started
//     with Update-with-Start (the ceiling) and with an eager start then the update;
//   - the rush: 1,000 POSTs for 10 slots at concurrency 100 against GET /v1/providers, and the
//     overlaps the database holds afterwards;
//   - reads at scale: availability and the booking lists on the seeded database, served by the
//     API's own handler in this process (no worker, so no reconciler; statements counted by a
//     pgx tracer), against GET /v1/providers on the same handler.
//
// Every figure is latency p50 / p99 and a rate, and a ratio to a baseline measured in the same
// run. Nothing is asserted: the report says what was measured.
package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/clinicbook/booking/api"
	"github.com/clinicbook/booking/auth"
	"github.com/clinicbook/booking/codec"
	"github.com/clinicbook/booking/config"
	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/store"
	"github.com/clinicbook/booking/workflows"
)

type options struct {
	apiURL, db, temporal, engine, out string
	scaleDB, scaleNote                string
	adminEmail, adminPassword         string
	holds, rush, rushSlots, rushConc  int
	scaleN, scaleConc                 int
	levels                            []int
	holdStart                         string
}

func main() {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if len(os.Args) == 3 && (os.Args[1] == "reset-db" || os.Args[1] == "seeded") {
		if err := dbTool(context.Background(), os.Args[1], os.Args[2]); err != nil {
			fatal(err)
		}
		return
	}
	var o options
	var levels string
	flag.StringVar(&o.apiURL, "api", "http://127.0.0.1:18080", "the booking API process to load (holds and the rush)")
	flag.StringVar(&o.db, "db", "", "its database (fresh; bench providers and patients are added)")
	flag.StringVar(&o.temporal, "temporal", "127.0.0.1:7243", "the Temporal frontend the API uses")
	flag.StringVar(&o.engine, "engine", "", "what the Temporal engine is, for the report")
	flag.StringVar(&o.holdStart, "hold-start", "", "the API's HOLD_START, for the report")
	flag.StringVar(&o.out, "out", "bench/REPORT.md", "where the report goes")
	flag.StringVar(&o.scaleDB, "scale-db", "", "a database seeded with `booking seed --bookings N` (skipped when empty)")
	flag.StringVar(&o.scaleNote, "scale-note", "", "how the seeded database came about, for the report")
	flag.StringVar(&o.adminEmail, "admin-email", "bench-admin@bench.test", "the API's ADMIN_EMAIL")
	flag.StringVar(&o.adminPassword, "admin-password", "bench-admin-pass-1", "the API's ADMIN_PASSWORD")
	flag.IntVar(&o.holds, "holds", 300, "holds per concurrency level and variant")
	flag.StringVar(&levels, "levels", "1,10,30,100", "hold concurrency levels (1: the latency of one hold alone)")
	flag.IntVar(&o.rush, "rush", 1000, "POSTs in the rush")
	flag.IntVar(&o.rushSlots, "rush-slots", 10, "slots the rush is for")
	flag.IntVar(&o.rushConc, "rush-concurrency", 100, "the rush's concurrency")
	flag.IntVar(&o.scaleN, "scale-requests", 1000, "requests per figure at scale")
	flag.IntVar(&o.scaleConc, "scale-concurrency", 4, "concurrency of the reads at scale")
	flag.Parse()
	for _, s := range strings.Split(levels, ",") {
		var n int
		if _, err := fmt.Sscan(s, &n); err != nil || n < 1 {
			fatal(fmt.Errorf("-levels: %q", s))
		}
		o.levels = append(o.levels, n)
	}
	ctx := context.Background()
	r := &report{}
	if err := run(ctx, o, r); err != nil {
		r.failed = err
	}
	text := r.markdown(o)
	if err := os.WriteFile(o.out, []byte(text), 0o644); err != nil {
		fatal(err)
	}
	fmt.Print(text)
	if r.failed != nil {
		fatal(r.failed)
	}
}

// dbTool is for scripts/bench.sh: `bench reset-db URL` drops URL's database (the API creates
// it afresh); `bench seeded URL` succeeds when URL's database holds a generated clinic group.
func dbTool(ctx context.Context, what, url string) error {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return err
	}
	name := cfg.Database
	if what == "seeded" {
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM providers WHERE id LIKE 'scale-p-%'`).Scan(&n); err != nil || n == 0 {
			return fmt.Errorf("%s holds no generated clinic group", name)
		}
		return nil
	}
	cfg.Database = "postgres"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `DROP DATABASE IF EXISTS `+pgx.Identifier{name}.Sanitize()+` WITH (FORCE)`)
	return err
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

func run(ctx context.Context, o options, r *report) error {
	r.began = time.Now()
	r.machine(ctx, o)
	if o.db != "" {
		if err := holdsAndRush(ctx, o, r); err != nil {
			return err
		}
	}
	if o.scaleDB != "" {
		if err := atScale(ctx, o, r); err != nil {
			return fmt.Errorf("at scale: %w", err)
		}
	}
	r.took = time.Since(r.began)
	return nil
}

// ---- measuring ----

// sample is one figure: latencies of n calls at a concurrency, and the wall time they took.
type sample struct {
	name string
	conc int
	lat  []time.Duration
	wall time.Duration
	errs int
	// firstErr explains errs.
	firstErr error
}

func (s sample) pct(p float64) time.Duration {
	if len(s.lat) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(s.lat)))) - 1
	return s.lat[max(0, min(i, len(s.lat)-1))]
}
func (s sample) p50() time.Duration { return s.pct(0.50) }
func (s sample) p99() time.Duration { return s.pct(0.99) }
func (s sample) rate() float64 {
	if s.wall <= 0 {
		return 0
	}
	return float64(len(s.lat)) / s.wall.Seconds()
}

// measure calls fn n times from conc goroutines. fn returns whether the call counts (a call
// that fails is counted apart and kept out of the latencies).
func measure(name string, n, conc int, fn func(i int) error) sample {
	s := sample{name: name, conc: conc}
	var next atomic.Int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	began := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t := time.Now()
				err := fn(i)
				d := time.Since(t)
				mu.Lock()
				if err != nil {
					s.errs++
					if s.firstErr == nil {
						s.firstErr = err
					}
				} else {
					s.lat = append(s.lat, d)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	s.wall = time.Since(began)
	sort.Slice(s.lat, func(i, j int) bool { return s.lat[i] < s.lat[j] })
	return s
}

// ---- HTTP ----

var httpc = &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
	MaxIdleConns: 400, MaxIdleConnsPerHost: 400, IdleConnTimeout: time.Minute,
	DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
}}

func call(method, url, token string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := httpc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

func expect(want int) func(int, []byte, error) error {
	return func(status int, body []byte, err error) error {
		if err != nil {
			return err
		}
		if status != want {
			return fmt.Errorf("status %d: %.200s", status, body)
		}
		return nil
	}
}

func login(base, email, password string) (string, error) {
	status, body, err := call("POST", base+"/v1/auth/login", "", map[string]string{"email": email, "password": password})
	if err != nil {
		return "", err
	}
	if status != 200 {
		return "", fmt.Errorf("login %s: %d %.200s", email, status, body)
	}
	var t auth.Tokens
	if err := json.Unmarshal(body, &t); err != nil {
		return "", err
	}
	return t.AccessToken, nil
}

// ---- holds and the rush ----

const (
	benchProviders = 40
	benchPatients  = 200
	benchService   = "bench-svc-30"
)

func holdsAndRush(ctx context.Context, o options, r *report) error {
	pool, err := pgxpool.New(ctx, o.db)
	if err != nil {
		return err
	}
	defer pool.Close()
	st := store.New(pool)
	// Providers in UTC who work around the clock every day, a 30-minute service, verified
	// patients: every hold is on a slot nobody else wants, and no cap refuses one.
	setup := []string{
		`INSERT INTO services (id, name, duration_minutes) VALUES ('` + benchService + `', 'Bench consultation', 30) ON CONFLICT DO NOTHING`,
		`INSERT INTO providers (id, name, specialty, time_zone) SELECT 'bench-p-' || i, 'Dr. Bench ' || i, 'General practice', 'UTC'
			FROM generate_series(1, ` + fmt.Sprint(benchProviders) + `) i ON CONFLICT DO NOTHING`,
		`INSERT INTO working_hours (provider_id, weekday, start_minute, end_minute) SELECT 'bench-p-' || i, wd, 0, 1440
			FROM generate_series(1, ` + fmt.Sprint(benchProviders) + `) i, generate_series(0, 6) wd ON CONFLICT DO NOTHING`,
		`INSERT INTO users (id, email, password_hash, name, phone, role) SELECT 'bench-u-' || i, 'bench-patient-' || i || '@bench.test',
			'!bench', 'Bench patient ' || i, '', 'patient' FROM generate_series(1, ` + fmt.Sprint(benchPatients) + `) i ON CONFLICT DO NOTHING`,
	}
	for _, q := range setup {
		if _, err := pool.Exec(ctx, q); err != nil {
			return fmt.Errorf("bench setup: %w", err)
		}
	}
	for i := 1; i <= benchPatients; i++ {
		if err := st.MarkVerified(ctx, fmt.Sprintf("bench-u-%d", i), domain.ChannelEmail, time.Now()); err != nil {
			return fmt.Errorf("verify: %w", err)
		}
	}
	admin, err := login(o.apiURL, o.adminEmail, o.adminPassword)
	if err != nil {
		return err
	}

	// Distinct free slots: the k-th is provider k mod P, at a half hour from tomorrow 00:00 UTC.
	base := time.Now().UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	var slotN atomic.Int64
	nextSlot := func() (string, time.Time) {
		k := int(slotN.Add(1)) - 1
		return fmt.Sprintf("bench-p-%d", k%benchProviders+1), base.Add(time.Duration(k/benchProviders) * 30 * time.Minute)
	}
	post := func(patient int, provider string, start time.Time) (int, []byte, error) {
		return call("POST", o.apiURL+"/v1/bookings", admin, map[string]any{
			"patient_id": fmt.Sprintf("bench-u-%d", patient%benchPatients+1), "provider_id": provider,
			"service_id": benchService, "start": start.Format(time.RFC3339)})
	}

	// The baselines' worker and starter: one client, so that an eager start is handed back.
	c, err := client.Dial(client.Options{HostPort: o.temporal, Logger: quietLogger{}})
	if err != nil {
		return fmt.Errorf("temporal: %w", err)
	}
	defer c.Close()
	queue := "bench-noop-" + uuid.NewString()[:8]
	w := sdkworker.New(c, queue, sdkworker.Options{})
	w.RegisterWorkflowWithOptions(noopHold, workflow.RegisterOptions{Name: noopWorkflow})
	if err := w.Start(); err != nil {
		return err
	}
	defer w.Stop()
	input := func() workflows.Input {
		provider, start := nextSlot()
		return workflows.Input{BookingID: uuid.NewString(), ProviderID: provider, ServiceID: benchService,
			PatientID: "bench-u-1", Start: start, Policy: workflows.Policy{HoldTTL: 10 * time.Minute}}
	}
	uws := func(int) error {
		in := input()
		op := c.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
			ID: "bench-" + in.BookingID, TaskQueue: queue,
			WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		}, noopWorkflow, in)
		h, err := c.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
			StartWorkflowOperation: op,
			UpdateOptions: client.UpdateWorkflowOptions{UpdateName: workflows.UpdateHold, UpdateID: workflows.HoldUpdateID,
				WaitForStage: client.WorkflowUpdateStageCompleted},
		})
		var b domain.Booking
		if err == nil {
			err = h.Get(ctx, &b)
		}
		return err
	}
	eager := func(int) error {
		in := input()
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "bench-" + in.BookingID, TaskQueue: queue,
			WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING, EnableEagerStart: true}, noopWorkflow, in)
		if err != nil {
			return err
		}
		h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: run.GetID(), RunID: run.GetRunID(),
			UpdateName: workflows.UpdateHold, UpdateID: workflows.HoldUpdateID, WaitForStage: client.WorkflowUpdateStageCompleted})
		if err != nil {
			return err
		}
		var b domain.Booking
		return h.Get(ctx, &b)
	}
	apiHold := func(i int) error {
		provider, start := nextSlot()
		return expect(201)(post(i, provider, start))
	}
	// A warm-up: connections, caches, the task queues.
	measure("warm-up", 40, 10, apiHold)
	measure("warm-up", 40, 10, uws)
	for _, conc := range o.levels {
		n := max(o.holds, 3*conc)
		row := holdRow{conc: conc}
		row.api = measure("api", n, conc, apiHold)
		row.uws = measure("update-with-start", n, conc, uws)
		row.eager = measure("eager start, update", n, conc, eager)
		r.holds = append(r.holds, row)
		fmt.Fprintf(os.Stderr, "holds at %d: api %.1f/s, update-with-start %.1f/s, eager %.1f/s\n", conc,
			row.api.rate(), row.uws.rate(), row.eager.rate())
	}

	// The rush: o.rush POSTs for o.rushSlots fresh slots, all at once.
	slots := make([]struct {
		provider string
		start    time.Time
	}, o.rushSlots)
	for i := range slots {
		slots[i].provider, slots[i].start = nextSlot()
	}
	var created, refused atomic.Int64
	var refusals []time.Duration
	var mu sync.Mutex
	rush := measure("rush", o.rush, o.rushConc, func(i int) error {
		s := slots[i%len(slots)]
		t := time.Now()
		status, body, err := post(i, s.provider, s.start)
		d := time.Since(t)
		switch {
		case err != nil:
			return err
		case status == 201:
			created.Add(1)
		case status == 409:
			refused.Add(1)
			mu.Lock()
			refusals = append(refusals, d)
			mu.Unlock()
		default:
			return fmt.Errorf("status %d: %.200s", status, body)
		}
		return nil
	})
	sort.Slice(refusals, func(i, j int) bool { return refusals[i] < refusals[j] })
	r.rush = rushFigures{all: rush, created: int(created.Load()), refused: int(refused.Load()),
		refusals: sample{name: "refusals", conc: o.rushConc, lat: refusals, wall: rush.wall}, requests: o.rush, slots: o.rushSlots}
	r.rush.providers = measure("GET /v1/providers", o.rush, o.rushConc, func(int) error {
		return expect(200)(call("GET", o.apiURL+"/v1/providers", "", nil))
	})
	// Overlapping live bookings anywhere in the bench's calendars, and live bookings per rushed slot.
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM bookings a JOIN bookings b
			ON a.provider_id = b.provider_id AND a.id < b.id AND a.start_at < b.end_at AND b.start_at < a.end_at
		WHERE a.provider_id LIKE 'bench-p-%'
		  AND (a.status IN ('confirmed', 'checked_in') OR (a.status = 'held' AND a.hold_expires_at > now()))
		  AND (b.status IN ('confirmed', 'checked_in') OR (b.status = 'held' AND b.hold_expires_at > now()))`).Scan(&r.rush.overlaps); err != nil {
		return fmt.Errorf("overlaps: %w", err)
	}
	for _, s := range slots {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM bookings WHERE provider_id = $1 AND start_at = $2
			AND (status IN ('confirmed', 'checked_in') OR (status = 'held' AND hold_expires_at > now()))`, s.provider, s.start).Scan(&n); err != nil {
			return err
		}
		if n == 1 {
			r.rush.slotsHeldOnce++
		}
	}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM bookings WHERE provider_id LIKE 'bench-p-%'`).Scan(&r.rush.bookingsInDB); err != nil {
		return err
	}
	return nil
}

const noopWorkflow = "BenchNoopHold"

// noopHold has the hold's shape without its work: the hold update's handler runs one local
// activity (which does nothing), then the workflow waits on a timer as a held booking does.
func noopHold(ctx workflow.Context, in workflows.Input) error {
	held := false
	err := workflow.SetUpdateHandler(ctx, workflows.UpdateHold, func(ctx workflow.Context) (domain.Booking, error) {
		ctx = workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 10 * time.Second})
		if err := workflow.ExecuteLocalActivity(ctx, noop).Get(ctx, nil); err != nil {
			return domain.Booking{}, err
		}
		held = true
		return domain.Booking{ID: in.BookingID, Status: domain.StatusHeld, ProviderID: in.ProviderID, Start: in.Start}, nil
	})
	if err != nil {
		return err
	}
	if err := workflow.Await(ctx, func() bool { return held }); err != nil {
		return err
	}
	return workflow.Sleep(ctx, in.Policy.HoldTTL)
}

func noop(context.Context) error { return nil }

type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(string, ...any) {}

// ---- reads at scale ----

// counter counts the statements the pool sends.
type counter struct{ n atomic.Int64 }

func (c *counter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}
func (c *counter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (c *counter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	c.n.Add(1)
	return ctx
}
func (c *counter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (c *counter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

func atScale(ctx context.Context, o options, r *report) error {
	pcfg, err := pgxpool.ParseConfig(o.scaleDB)
	if err != nil {
		return err
	}
	cnt := &counter{}
	pcfg.ConnConfig.Tracer = cnt
	pcfg.MaxConns = int32(config.DefaultDatabaseMaxConns())
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := store.Migrate(ctx, pool); err != nil {
		return err
	}
	st := store.New(pool)
	_, seed, _ := ed25519.GenerateKey(rand.Reader)
	env := map[string]string{
		"DATABASE_URL": o.scaleDB, "JWT_SIGNING_KEY": "key-bench:" + base64.StdEncoding.EncodeToString(seed.Seed()),
		"TWILIO_ACCOUNT_SID": "ACdeadbeefdeadbeefdeadbeefdeadbeef", "TWILIO_AUTH_TOKEN": "0123456789abcdef0123456789abcdef",
		"TWILIO_FROM_NUMBER": "+15005550006", "TWILIO_API_BASE_URL": "http://127.0.0.1:9", "PUBLIC_BASE_URL": "http://127.0.0.1:8080",
		"ADMIN_EMAIL": o.adminEmail, "ADMIN_PASSWORD": o.adminPassword, "BOOKING_HORIZON": "90d",
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		return err
	}
	accounts := auth.NewService(st, cfg.JWT, time.Now, auth.Options{Limits: cfg.Limits})
	if err := accounts.EnsureAdmin(ctx, cfg.AdminEmail, cfg.AdminPassword); err != nil {
		return err
	}
	// One generated patient gets a password, to read the patient's own list as the patient.
	const patientEmail, patientPassword = "bench-patient@scale.test", "bench-patient-pass-1"
	if _, err := accounts.CreateUser(ctx, patientEmail, patientPassword, "Bench patient", "", domain.RolePatient); err != nil && !domain.IsKind(err, domain.KindConflict) {
		return fmt.Errorf("bench patient: %w", err)
	}
	var patientLogin string
	if err := pool.QueryRow(ctx, `UPDATE users SET password_hash = (SELECT password_hash FROM users WHERE lower(email) = $1)
		WHERE id = (SELECT patient_id FROM bookings WHERE provider_id LIKE 'scale-p-%' GROUP BY patient_id ORDER BY count(*) DESC, patient_id LIMIT 1)
		RETURNING email`, patientEmail).Scan(&patientLogin); err != nil {
		return fmt.Errorf("bench patient: %w", err)
	}
	pc, err := codec.New()
	if err != nil {
		return err
	}
	srv := &api.Server{Store: st, Codec: pc, Accounts: accounts, Config: cfg, Now: time.Now,
		Ready: func(context.Context) error { return nil }}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	base := "http://" + ln.Addr().String()

	sc := &r.scale
	sc.note = o.scaleNote
	if err := pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE status IN ('completed', 'no_show', 'checked_in', 'confirmed', 'held')),
			(SELECT count(*) FROM providers WHERE id LIKE 'scale-p-%'), (SELECT count(DISTINCT patient_id) FROM bookings),
			min(start_at), max(start_at), pg_size_pretty(pg_total_relation_size('bookings'))
		FROM bookings`).Scan(&sc.bookings, &sc.occupying, &sc.providers, &sc.patients, &sc.from, &sc.to, &sc.size); err != nil {
		return err
	}
	var providers []string
	rows, err := pool.Query(ctx, `SELECT id FROM providers WHERE id LIKE 'scale-p-%' ORDER BY id`)
	if err != nil {
		return err
	}
	if providers, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return err
	}
	if len(providers) == 0 {
		return errors.New("the database has no generated clinic group (booking seed --bookings N)")
	}
	var service string
	if err := pool.QueryRow(ctx, `SELECT id FROM services WHERE duration_minutes = 30 ORDER BY id LIMIT 1`).Scan(&service); err != nil {
		return err
	}
	admin, err := login(base, o.adminEmail, o.adminPassword)
	if err != nil {
		return err
	}
	patient, err := login(base, patientLogin, patientPassword)
	if err != nil {
		return err
	}

	today := time.Now().UTC().Truncate(24 * time.Hour)
	window := func(days int) func(i int) (string, string) {
		return func(i int) (string, string) {
			rng := mrand.New(mrand.NewPCG(uint64(i), uint64(days)))
			from := today.Add(time.Duration(1+rng.IntN(45)) * 24 * time.Hour)
			u := fmt.Sprintf("%s/v1/providers/%s/availability?service_id=%s&from=%s&to=%s", base, providers[rng.IntN(len(providers))],
				service, from.Format(time.RFC3339), from.Add(time.Duration(days)*24*time.Hour).Format(time.RFC3339))
			return u, ""
		}
	}
	pick := func(i int) string { return providers[mrand.New(mrand.NewPCG(uint64(i), 7)).IntN(len(providers))] }
	figures := []struct {
		name string
		req  func(i int) (string, string)
	}{
		{"GET /v1/providers (baseline)", func(int) (string, string) { return base + "/v1/providers", "" }},
		{"availability, a day", window(1)},
		{"availability, a week", window(7)},
		{"availability, a month (31 days)", window(31)},
		{"list: the patient's bookings", func(int) (string, string) { return base + "/v1/bookings", patient }},
		{"list: a provider's bookings (admin, provider_id)", func(i int) (string, string) {
			return base + "/v1/bookings?provider_id=" + pick(i), admin
		}},
		{"list: admin, status=confirmed", func(int) (string, string) { return base + "/v1/bookings?status=confirmed", admin }},
		{"list: admin, status=held", func(int) (string, string) { return base + "/v1/bookings?status=held", admin }},
		{"list: admin, status=no_show", func(int) (string, string) { return base + "/v1/bookings?status=no_show", admin }},
	}
	get := func(req func(int) (string, string)) func(int) error {
		return func(i int) error {
			u, tok := req(i)
			return expect(200)(call("GET", u, tok, nil))
		}
	}
	for _, f := range figures {
		// Statements per request, counted on 50 requests one at a time (they warm the cache too).
		before := cnt.n.Load()
		measure(f.name, 50, 1, get(f.req))
		stmts := float64(cnt.n.Load()-before) / 50
		s := measure(f.name, o.scaleN, o.scaleConc, get(f.req))
		sc.rows = append(sc.rows, scaleRow{s: s, statements: stmts})
		fmt.Fprintf(os.Stderr, "%s: p50 %s p99 %s\n", f.name, s.p50(), s.p99())
	}
	return nil
}

// ---- the report ----

type holdRow struct {
	conc            int
	api, uws, eager sample
}

type rushFigures struct {
	all, refusals, providers       sample
	created, refused, requests     int
	slots, slotsHeldOnce, overlaps int
	bookingsInDB                   int
}

type scaleRow struct {
	s          sample
	statements float64
}

type report struct {
	began time.Time
	facts []string
	took  time.Duration
	holds []holdRow
	rush  rushFigures
	scale struct {
		note                                     string
		bookings, occupying, providers, patients int
		from, to                                 time.Time
		size                                     string
		rows                                     []scaleRow
	}
	failed error
}

func (r *report) machine(ctx context.Context, o options) {
	model, mem := "", ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				model = strings.TrimSpace(strings.SplitN(l, ":", 2)[1])
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "MemTotal:") {
				fmt.Sscan(strings.Fields(l)[1], &kb)
			}
		}
		mem = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
	}
	load := ""
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	pg := "unknown"
	for _, u := range []string{o.db, o.scaleDB} {
		if u == "" {
			continue
		}
		if conn, err := pgx.Connect(ctx, u); err == nil {
			var v, sb string
			if conn.QueryRow(ctx, `SELECT current_setting('server_version'), current_setting('shared_buffers')`).Scan(&v, &sb) == nil {
				pg = "PostgreSQL " + v + " (shared_buffers " + sb + ")"
			}
			conn.Close(ctx)
			break
		}
	}
	r.facts = []string{
		fmt.Sprintf("CPUs (nproc): %d (%s)", runtime.NumCPU(), model),
		"Memory: " + mem,
		"Load average when the run began: " + load + " (the machine is shared)",
		"Go: " + runtime.Version(),
		"Database: " + pg,
		"Temporal engine: " + o.engine,
	}
	if o.holdStart != "" {
		r.facts = append(r.facts, "The API's hold path (HOLD_START): "+o.holdStart)
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/1e6) }

func ratio(a, b float64) string {
	if b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", a/b)
}

func errNote(s sample) string {
	if s.errs == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d failed: %v)", s.errs, s.firstErr)
}

func (r *report) markdown(o options) string {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("# Benchmark report\n\n")
	p("Written by `make bench` (scripts/bench.sh, cmd/bench) on %s. Timings on a shared machine vary from run to run:\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	p("each figure is set against a baseline measured in the same run, and the ratio is the figure to read.\n\n")
	p("## Machine\n\n")
	for _, f := range r.facts {
		p("- %s\n", f)
	}
	if r.took > 0 {
		p("- The measurements took %s (without starting the engine or seeding).\n", r.took.Round(time.Second))
	}
	if r.failed != nil {
		p("\n**The run did not finish:** %v\n", r.failed)
	}
	if len(r.holds) > 0 {
		p("\n## Holds on distinct free slots\n\n")
		p("`POST /v1/bookings` over HTTP against the API process (`booking api`: its own worker, the hold path of HOLD_START, the hold as a\n")
		p("local activity in the update's handler, payloads encrypted), each on a slot nobody else asks for, by an admin for verified patients. The ceiling is a\n")
		p("no-op workflow of the same shape on the same Temporal server (the `hold` update's handler runs one local activity that does nothing,\n")
		p("then a timer), started with Update-with-Start from this process; the same no-op workflow started eagerly then sent the update is\n")
		p("the other path the API could take. At least %d holds per row, after a warm-up.\n\n", o.holds)
		p("| concurrency | path | holds/s | p50 | p99 | holds/s ÷ ceiling | p50 ÷ ceiling p50 |\n|---|---|---|---|---|---|---|\n")
		for _, h := range r.holds {
			for _, s := range []sample{h.api, h.uws, h.eager} {
				label := s.name
				if s.name == "api" {
					label = "**API, POST /v1/bookings**"
				} else if s.name == "update-with-start" {
					label = "no-op Update-with-Start (ceiling)"
				} else {
					label = "no-op eager start, then update"
				}
				p("| %d | %s%s | %.1f | %s | %s | %s | %s |\n", h.conc, label, errNote(s), s.rate(), ms(s.p50()), ms(s.p99()),
					ratio(s.rate(), h.uws.rate()), ratio(float64(s.p50()), float64(h.uws.p50())))
			}
		}
	}
	if r.rush.requests > 0 {
		rs := r.rush
		p("\n## The rush\n\n")
		p("%d POSTs for %d slots (a request for slot i mod %d) at concurrency %d, then `GET /v1/providers` %d times at the same concurrency\n",
			rs.requests, rs.slots, rs.slots, rs.all.conc, rs.requests)
		p("as the baseline. Refusals per second are the refusals over the rush's wall time.\n\n")
		p("- Answers: %d created (201), %d refused (409)%s; wall time %s.\n", rs.created, rs.refused, errNote(rs.all), rs.all.wall.Round(time.Millisecond))
		p("- **Overlapping live bookings in the database: %d**; rushed slots with exactly one live booking: %d of %d.\n", rs.overlaps, rs.slotsHeldOnce, rs.slots)
		p("\n| figure | p50 | p99 | per second |\n|---|---|---|---|\n")
		p("| refusals (409) | %s | %s | %.0f |\n", ms(rs.refusals.p50()), ms(rs.refusals.p99()), float64(rs.refused)/rs.all.wall.Seconds())
		p("| every rush request | %s | %s | %.0f |\n", ms(rs.all.p50()), ms(rs.all.p99()), rs.all.rate())
		p("| GET /v1/providers (baseline)%s | %s | %s | %.0f |\n", errNote(rs.providers), ms(rs.providers.p50()), ms(rs.providers.p99()), rs.providers.rate())
		p("\n**Refusal p99 ÷ baseline p99: %s** (target at most 3); refusal p50 ÷ baseline p50: %s; refusals per second ÷ baseline reads per second: %s.\n",
			ratio(float64(rs.refusals.p99()), float64(rs.providers.p99())), ratio(float64(rs.refusals.p50()), float64(rs.providers.p50())),
			ratio(float64(rs.refused)/rs.all.wall.Seconds(), rs.providers.rate()))
	}
	if len(r.scale.rows) > 0 {
		sc := r.scale
		p("\n## Reads at %d bookings\n\n", sc.bookings)
		p("The database: %d bookings (%d occupying time: completed, no-show, checked in, confirmed, held), %d generated doctors in Berlin and\n", sc.bookings, sc.occupying, sc.providers)
		p("New York, %d patients with bookings, starts from %s to %s; the bookings table with its indexes is %s. %s\n\n",
			sc.patients, sc.from.Format(time.DateOnly), sc.to.Format(time.DateOnly), sc.size, sc.note)
		p("Served by the API's own handler (`api.Server`) in the bench process over HTTP on loopback, with no worker (the seeded bookings have\n")
		p("no workflows, and a worker's reconciler would start one for each). Availability is for a random generated doctor, a 30-minute\n")
		p("service, a window starting at midnight UTC 1 to 45 days ahead. The patient's list is the generated patient with the most bookings\n")
		p("(given a password for the run); a provider's list is the admin's list with `provider_id` (the same query a doctor's own list makes).\n")
		p("First 50 requests one at a time, counting the statements the pool sends (a pgx tracer) and warming the cache, then %d at\n", o.scaleN)
		p("concurrency %d (the pool has %d connections).\n\n", o.scaleConc, config.DefaultDatabaseMaxConns())
		bl := sc.rows[0].s
		p("| request | statements | p50 | p99 | per second | p50 ÷ baseline | p99 ÷ baseline |\n|---|---|---|---|---|---|---|\n")
		for _, row := range sc.rows {
			s := row.s
			p("| %s%s | %.1f | %s | %s | %.0f | %s | %s |\n", s.name, errNote(s), row.statements, ms(s.p50()), ms(s.p99()), s.rate(),
				ratio(float64(s.p50()), float64(bl.p50())), ratio(float64(s.p99()), float64(bl.p99())))
		}
	}
	p("\n## How to reproduce\n\n")
	p("`make bench` (the dev server) or `TEMPORAL=server make bench` (the full Temporal server on PostgreSQL). See README, Performance.\n")
	return b.String()
}
