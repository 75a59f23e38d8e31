package chaos

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/client"
)

// Timing is the lifecycle the stack's platform runs under: short, so that holds expire,
// reminders go out and no-shows are marked while the run lasts.
type Timing struct {
	HoldTTL           time.Duration
	ReminderOffsets   []time.Duration
	NoShowGrace       time.Duration
	ReconcileInterval time.Duration
}

// DefaultTiming is what `make chaos` configures.
var DefaultTiming = Timing{
	HoldTTL:           20 * time.Second,
	ReminderOffsets:   []time.Duration{60 * time.Second, 20 * time.Second},
	NoShowGrace:       10 * time.Second,
	ReconcileInterval: 10 * time.Second,
}

// The Temporal engines a stack can run.
const (
	// TemporalDev is the Temporal dev server with its state in a file, as `make dev` runs it.
	TemporalDev = "dev"
	// TemporalServer is the full Temporal server on the stack's PostgreSQL (databases temporal
	// and temporal_visibility), as `TEMPORAL=server make dev` runs it: scripts/temporal-server.sh.
	TemporalServer = "server"
)

// Stack is a whole platform started as `make dev` starts it, but in a data directory and on
// ports of its own: a private PostgreSQL cluster, Temporal (the dev server with its state in a
// file, or the full server on that cluster), Mailpit, the Twilio sandbox, the worker and the
// API, each a child process that can be killed and started again.
type Stack struct {
	Root   string // the repository: ./bin holds the binaries
	Dir    string // data directory: databases, logs
	Timing Timing
	Logf   func(format string, args ...any)
	// Temporal is the engine: TemporalDev (or "") or TemporalServer.
	Temporal string

	pgPort, temporalPort, temporalUIPort, smtpPort, mailUIPort, sandboxPort int
	apiPort, opsPort, workerPort                                            int

	AdminEmail, AdminPassword string

	env    []string // the booking processes' environment
	pgCred *syscall.Credential

	procs                                       []*proc
	pg, temporal, mailpit, sandbox, worker, api *proc

	superviseOnce sync.Once
	stopSupervise chan struct{}
	supervised    sync.WaitGroup
}

// URLs and addresses of the running stack.
func (s *Stack) APIURL() string       { return fmt.Sprintf("http://127.0.0.1:%d", s.apiPort) }
func (s *Stack) SandboxURL() string   { return fmt.Sprintf("http://127.0.0.1:%d", s.sandboxPort) }
func (s *Stack) MailpitURL() string   { return fmt.Sprintf("http://127.0.0.1:%d", s.mailUIPort) }
func (s *Stack) TemporalAddr() string { return fmt.Sprintf("127.0.0.1:%d", s.temporalPort) }
func (s *Stack) WorkerURL() string    { return fmt.Sprintf("http://127.0.0.1:%d", s.workerPort) }
func (s *Stack) DatabaseURL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/booking?sslmode=disable", s.pgPort)
}

// freePort asks the kernel for a free local port.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// pgBin finds PostgreSQL's server binaries: the newest /usr/lib/postgresql/*/bin, or initdb
// on the PATH.
func pgBin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi < vj
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			return dirs[i], nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("PostgreSQL's initdb is not installed (apt-get install postgresql)")
}

func (s *Stack) logf(format string, args ...any) {
	if s.Logf != nil {
		s.Logf(format, args...)
	}
}

func (s *Stack) logPath(name string) string { return filepath.Join(s.Dir, "logs", name+".log") }

// Start brings the whole stack up. On an error the caller still calls Close.
func (s *Stack) Start(ctx context.Context) error {
	switch s.Temporal {
	case "", TemporalDev, TemporalServer:
	default:
		return fmt.Errorf("unknown Temporal engine %q: want %s or %s", s.Temporal, TemporalDev, TemporalServer)
	}
	server := s.Temporal == TemporalServer
	for _, bin := range []string{"booking", "twilio-sandbox", "temporal", "mailpit"} {
		if _, err := os.Stat(filepath.Join(s.Root, "bin", bin)); err != nil {
			return fmt.Errorf("bin/%s is missing: run `make tools build` (make chaos and make test do)", bin)
		}
	}
	if err := os.MkdirAll(filepath.Join(s.Dir, "logs"), 0o755); err != nil {
		return err
	}
	// PostgreSQL runs as its own user when we are root: it must be able to reach its files.
	if err := os.Chmod(s.Dir, 0o755); err != nil {
		return err
	}
	if server {
		// As `make dev` does, the first time: the server and its schema tool into ./bin.
		if err := s.installTemporalServer(); err != nil {
			return err
		}
	}
	ports := []*int{&s.pgPort, &s.temporalPort, &s.temporalUIPort, &s.smtpPort, &s.mailUIPort, &s.sandboxPort,
		&s.apiPort, &s.opsPort, &s.workerPort}
	// The full server listens on ports around its frontend's (temporal-server.sh moves them
	// all with it): that block is chosen first, and nothing else is put in it.
	taken := map[int]bool{}
	if server {
		port, err := serverPortBlock()
		if err != nil {
			return err
		}
		s.temporalPort = port
		for _, off := range serverPortOffsets {
			taken[port+off] = true
		}
		ports = slices.DeleteFunc(ports, func(p *int) bool { return p == &s.temporalPort })
	}
	for _, p := range ports {
		for {
			port, err := freePort()
			if err != nil {
				return err
			}
			if !taken[port] {
				taken[port] = true
				*p = port
				break
			}
		}
	}
	if s.AdminEmail == "" {
		s.AdminEmail, s.AdminPassword = "admin@chaos.test", "chaos-admin-pass-1"
	}
	s.stopSupervise = make(chan struct{})

	if err := s.startPostgres(ctx); err != nil {
		return err
	}
	if err := s.makeEnv(); err != nil {
		return err
	}
	bin := func(name string) string { return filepath.Join(s.Root, "bin", name) }
	if server {
		// temporal-server.sh run: creates and migrates the databases temporal and
		// temporal_visibility on the private cluster (when absent), writes the configuration
		// under the data directory and execs the server, so the process is the server's.
		s.logf("starting the Temporal server on the private PostgreSQL (scripts/temporal-server.sh run, port %d)", s.temporalPort)
		s.temporal = s.add(&proc{name: "temporal", path: s.temporalScript(), args: []string{"run"}, env: s.temporalServerEnv()})
	} else {
		s.temporal = s.add(&proc{name: "temporal", path: bin("temporal"), env: baseEnv(), args: []string{
			"server", "start-dev",
			"--db-filename", filepath.Join(s.Dir, "temporal.db"), "--ip", "127.0.0.1",
			"--port", strconv.Itoa(s.temporalPort), "--ui-port", strconv.Itoa(s.temporalUIPort), "--namespace", "default",
			"--ui-codec-endpoint", s.APIURL() + "/codec",
			"--search-attribute", "BookingStatus=Keyword", "--search-attribute", "ProviderId=Keyword",
			"--search-attribute", "PatientId=Keyword", "--search-attribute", "AppointmentStart=Datetime",
			"--dynamic-config-value", "matching.numTaskqueueReadPartitions=1",
			"--dynamic-config-value", "matching.numTaskqueueWritePartitions=1",
			"--log-level", "warn",
		}})
	}
	s.mailpit = s.add(&proc{name: "mailpit", path: bin("mailpit"), env: baseEnv(), args: []string{
		"--listen", fmt.Sprintf("127.0.0.1:%d", s.mailUIPort), "--smtp", fmt.Sprintf("127.0.0.1:%d", s.smtpPort),
		"--database", filepath.Join(s.Dir, "mailpit.db"),
		// Every message is kept for the audit (Mailpit drops all but the last 500 otherwise).
		"--max", "0",
	}})
	s.sandbox = s.add(&proc{name: "twilio-sandbox", path: bin("twilio-sandbox"), env: s.env})
	s.worker = s.add(&proc{name: "worker", path: bin("booking"), args: []string{"worker"}, env: s.env})
	s.api = s.add(&proc{name: "api", path: bin("booking"), args: []string{"api"}, env: s.env})

	for _, p := range []*proc{s.temporal, s.mailpit, s.sandbox} {
		if err := p.start(); err != nil {
			return err
		}
	}
	s.logf("migrating and seeding (booking seed)")
	if _, err := runOnce(s.logPath("seed"), nil, s.env, bin("booking"), "seed"); err != nil {
		return err
	}
	if err := s.waitTemporal(ctx); err != nil {
		return err
	}
	if server {
		s.logf("registering the namespace and search attributes (scripts/temporal-server.sh register)")
		if _, err := runOnce(s.logPath("temporal-register"), nil, s.temporalServerEnv(), s.temporalScript(), "register"); err != nil {
			return err
		}
	}
	if err := s.waitMailpit(ctx); err != nil {
		return err
	}
	if err := s.waitHTTP(ctx, s.sandbox, s.SandboxURL()+"/healthz"); err != nil {
		return err
	}
	if err := s.StartWorker(ctx); err != nil {
		return err
	}
	if err := s.StartAPI(ctx); err != nil {
		return err
	}
	s.supervise()
	return nil
}

func (s *Stack) add(p *proc) *proc {
	if p.log == "" {
		p.log = s.logPath(p.name)
	}
	s.procs = append(s.procs, p)
	return p
}

// baseEnv is what every child inherits from ours: nothing of the platform's own settings, so
// that a DATABASE_URL in the caller's shell cannot point the stack elsewhere.
func baseEnv() []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "LANG", "TMPDIR", "TZ"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// serverPortOffsets are the full server's ports relative to its frontend's gRPC port, as
// scripts/temporal-server.sh moves them: 7233 (frontend), 7234 (history), 7235 (matching),
// 7239 (worker), 7243 (frontend HTTP), 6933-6939 (membership), 7936 (pprof), 8000 (metrics).
var serverPortOffsets = []int{0, 1, 2, 6, 10, -300, -299, -298, -294, 703, 767}

// serverPortBlock finds a frontend port whose whole block of server ports is free. The block
// lies below the kernel's ephemeral ports (32768 and up): the server records its membership
// ports in a SMALLINT column (cluster_membership.rpc_port), so they must stay under 32768.
func serverPortBlock() (int, error) {
	const lo, hi = 20000, 32767 - 767
	for range 200 {
		port := lo + rand.IntN(hi-lo)
		free := true
		for _, off := range serverPortOffsets {
			ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port+off))
			if err != nil {
				free = false
				break
			}
			ln.Close()
		}
		if free {
			return port, nil
		}
	}
	return 0, errors.New("no free block of ports for the Temporal server between 20000 and 32767")
}

func (s *Stack) temporalScript() string {
	return filepath.Join(s.Root, "scripts", "temporal-server.sh")
}

// temporalServerEnv is scripts/temporal-server.sh's environment: every setting it reads pointed
// at the private cluster, this stack's ports and data directory (its configuration and schema
// log go to Dir/temporal-server/temporal), and the Go settings its `go mod download` needs.
// Nothing else of the caller's: the machine's PostgreSQL is never touched.
func (s *Stack) temporalServerEnv() []string {
	env := baseEnv()
	for _, k := range []string{"GOPATH", "GOMODCACHE", "GOCACHE", "GOPROXY", "GOFLAGS", "GONOSUMDB", "GONOPROXY",
		"GOPRIVATE", "GOSUMDB", "GOINSECURE", "GOTOOLCHAIN", "GOROOT", "GOENV"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return append(env,
		fmt.Sprintf("TEMPORAL_PG_URL=postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.pgPort),
		"DATABASE_URL="+s.DatabaseURL(),
		"TEMPORAL_DB=temporal",
		"TEMPORAL_PORT="+strconv.Itoa(s.temporalPort),
		"TEMPORAL_UI_PORT="+strconv.Itoa(s.temporalUIPort),
		"TEMPORAL_UI_CODEC_ENDPOINT="+s.APIURL()+"/codec",
		"DEV_DATA_DIR="+s.Dir,
	)
}

// installTemporalServer builds the full server and its schema tool into ./bin when missing
// (scripts/temporal-server.sh install; minutes the first time).
func (s *Stack) installTemporalServer() error {
	missing := false
	for _, b := range []string{"temporal-server", "temporal-sql-tool", "temporal-ui-server"} {
		if _, err := os.Stat(filepath.Join(s.Root, "bin", b)); err != nil {
			missing = true
		}
	}
	if !missing {
		return nil
	}
	s.logf("building the Temporal server into ./bin (scripts/temporal-server.sh install; the first time takes minutes)")
	_, err := runOnce(s.logPath("temporal-install"), nil, s.temporalServerEnv(), s.temporalScript(), "install")
	return err
}

func durations(ds []time.Duration) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = d.String()
	}
	return strings.Join(parts, ",")
}

// makeEnv is scripts/dev.sh's environment on this stack's ports, with keys of its own and the
// short lifecycle.
func (s *Stack) makeEnv() error {
	bin := filepath.Join(s.Root, "bin", "booking")
	jwt, err := runOnce(s.logPath("keygen"), nil, baseEnv(), bin, "keygen")
	if err != nil {
		return err
	}
	codecKey, err := runOnce(s.logPath("keygen"), nil, baseEnv(), bin, "keygen", "codec")
	if err != nil {
		return err
	}
	api := s.APIURL()
	vars := map[string]string{
		"DATABASE_URL":        s.DatabaseURL(),
		"TEMPORAL_ADDRESS":    s.TemporalAddr(),
		"TEMPORAL_NAMESPACE":  "default",
		"TEMPORAL_TASK_QUEUE": "booking",
		"HTTP_ADDR":           fmt.Sprintf("127.0.0.1:%d", s.apiPort),
		"OPS_HTTP_ADDR":       fmt.Sprintf("127.0.0.1:%d", s.opsPort),
		"WORKER_HTTP_ADDR":    fmt.Sprintf("127.0.0.1:%d", s.workerPort),
		"PUBLIC_BASE_URL":     api,
		"JWT_SIGNING_KEY":     strings.TrimSpace(jwt),
		"TEMPORAL_CODEC_KEYS": strings.TrimSpace(codecKey),
		"TWILIO_ACCOUNT_SID":  "ACdeadbeefdeadbeefdeadbeefdeadbeef",
		"TWILIO_AUTH_TOKEN":   "0123456789abcdef0123456789abcdef",
		"TWILIO_FROM_NUMBER":  "+15005550006",
		"TWILIO_API_BASE_URL": s.SandboxURL(),
		"SANDBOX_ADDR":        fmt.Sprintf("127.0.0.1:%d", s.sandboxPort),
		"SANDBOX_INBOUND_URL": api + "/v1/webhooks/twilio/inbound",
		"SMTP_HOST":           "127.0.0.1",
		"SMTP_PORT":           strconv.Itoa(s.smtpPort),
		"SMTP_FROM":           "Chaos Clinic <no-reply@clinic.test>",
		"SMTP_LOOKUP_URL":     s.MailpitURL(),
		"TEMPORAL_UI_URL":     fmt.Sprintf("http://127.0.0.1:%d", s.temporalUIPort),
		"TEMPORAL_UI_ORIGIN":  fmt.Sprintf("http://127.0.0.1:%d", s.temporalUIPort),
		"ADMIN_EMAIL":         s.AdminEmail,
		"ADMIN_PASSWORD":      s.AdminPassword,
		"HOLD_TTL":            s.Timing.HoldTTL.String(),
		"REMINDER_OFFSETS":    durations(s.Timing.ReminderOffsets),
		"NO_SHOW_GRACE":       s.Timing.NoShowGrace.String(),
		"RECONCILE_INTERVAL":  s.Timing.ReconcileInterval.String(),
		"ACCESS_TOKEN_TTL":    "2h", // longer than any run: the load never refreshes
		"RATE_LIMIT_REGISTER": "100000/1m",
		"RATE_LIMIT_LOGIN":    "100000/1m",
		"RATE_LIMIT_VERIFY":   "100000/1m",
		"MAX_ACTIVE_BOOKINGS": "10000",
		"DATABASE_MAX_CONNS":  "12",
	}
	if s.Temporal != TemporalServer {
		vars["HOLD_START"] = "eager" // as make dev on the dev server; on the full server its default
	}
	s.env = baseEnv()
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		s.env = append(s.env, k+"="+vars[k])
	}
	return os.WriteFile(filepath.Join(s.Dir, "chaos.env"), []byte(strings.Join(s.env, "\n")+"\n"), 0o600)
}

// startPostgres creates and starts the private cluster: initdb (as the postgres user when we
// are root, which initdb refuses to be), then postgres in the foreground as a child, its
// socket in the data directory. The machine's own PostgreSQL is never touched.
func (s *Stack) startPostgres(ctx context.Context) error {
	binDir, err := pgBin()
	if err != nil {
		return err
	}
	data := filepath.Join(s.Dir, "postgres")
	sock := filepath.Join(s.Dir, "pgsock")
	for _, d := range []string{data, sock} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return fmt.Errorf("running as root, PostgreSQL needs the postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		s.pgCred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		for _, d := range []string{data, sock} {
			if err := os.Chown(d, uid, gid); err != nil {
				return err
			}
		}
	}
	s.logf("creating a private PostgreSQL cluster on port %d", s.pgPort)
	if _, err := runOnce(s.logPath("initdb"), s.pgCred, baseEnv(), filepath.Join(binDir, "initdb"),
		"-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"); err != nil {
		return err
	}
	// fsync off: a crash of the server (the fault injected) keeps what the kernel has; only
	// an OS crash would lose it. Commits stay synchronous, so an acknowledged write survives.
	s.pg = s.add(&proc{name: "postgres", path: filepath.Join(binDir, "postgres"), env: baseEnv(), cred: s.pgCred, args: []string{
		"-D", data, "-p", strconv.Itoa(s.pgPort), "-k", sock,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "full_page_writes=off",
		"-c", "max_connections=200",
	}})
	if err := s.pg.start(); err != nil {
		return err
	}
	return s.waitPostgres(ctx)
}

func (s *Stack) waitPostgres(ctx context.Context) error {
	url := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.pgPort)
	return s.waitFor(ctx, s.pg, 60*time.Second, func(ctx context.Context) error {
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		return conn.Ping(ctx)
	})
}

// waitFor polls check until it succeeds, the process exits, or the time is up.
func (s *Stack) waitFor(ctx context.Context, p *proc, limit time.Duration, check func(context.Context) error) error {
	deadline := time.Now().Add(limit)
	var last error
	for {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		last = check(cctx)
		cancel()
		if last == nil {
			return nil
		}
		if p != nil && !p.Running() {
			return fmt.Errorf("%s exited; last lines of %s:\n%s", p.name, p.log, p.tail(20))
		}
		if time.Now().After(deadline) {
			name := "?"
			if p != nil {
				name = p.name
			}
			return fmt.Errorf("%s not ready after %v: %v", name, limit, last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func (s *Stack) waitHTTP(ctx context.Context, p *proc, url string) error {
	return s.waitFor(ctx, p, 3*time.Minute, func(ctx context.Context) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: %s", url, resp.Status)
		}
		return nil
	})
}

func (s *Stack) waitTemporal(ctx context.Context) error {
	return s.waitFor(ctx, s.temporal, 3*time.Minute, func(ctx context.Context) error {
		c, err := s.TemporalClient(ctx)
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.CheckHealth(ctx, &client.CheckHealthRequest{})
		return err
	})
}

// TemporalClient dials the stack's Temporal. It reads only what is stored unencrypted
// (statuses, search attributes), so it needs no codec.
func (s *Stack) TemporalClient(ctx context.Context) (client.Client, error) {
	return client.DialContext(ctx, client.Options{HostPort: s.TemporalAddr(), Namespace: "default", Logger: quietLogger{}})
}

func (s *Stack) waitMailpit(ctx context.Context) error {
	return s.waitFor(ctx, s.mailpit, time.Minute, func(ctx context.Context) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.MailpitURL()+"/api/v1/info", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", fmt.Sprintf("127.0.0.1:%d", s.smtpPort))
		if err != nil {
			return err
		}
		return conn.Close()
	})
}

// StartWorker starts `booking worker` and waits for its /readyz.
func (s *Stack) StartWorker(ctx context.Context) error {
	if err := s.worker.start(); err != nil {
		return err
	}
	return s.waitHTTP(ctx, s.worker, s.WorkerURL()+"/readyz")
}

// StartAPI starts `booking api` (which hosts a worker too) and waits for its /readyz.
func (s *Stack) StartAPI(ctx context.Context) error {
	if err := s.api.start(); err != nil {
		return err
	}
	return s.waitHTTP(ctx, s.api, s.APIURL()+"/readyz")
}

// KillWorker and KillAPI SIGKILL the process: nothing finishes, nothing is flushed.
func (s *Stack) KillWorker() error { return s.worker.stop(syscall.SIGKILL, 10*time.Second) }
func (s *Stack) KillAPI() error    { return s.api.stop(syscall.SIGKILL, 10*time.Second) }

// StopTemporal stops Temporal (SIGTERM): the dev server's state stays in temporal.db, the full
// server's in its PostgreSQL databases.
func (s *Stack) StopTemporal() error { return s.temporal.stop(syscall.SIGTERM, 30*time.Second) }

// StartTemporal starts Temporal again on the same ports and state (the full server through
// temporal-server.sh run again, whose schema steps find the databases current).
func (s *Stack) StartTemporal(ctx context.Context) error {
	if err := s.temporal.start(); err != nil {
		return err
	}
	return s.waitTemporal(ctx)
}

// StopPostgres shuts PostgreSQL down in immediate mode (SIGQUIT): no checkpoint, crash
// recovery at the next start, connections cut.
func (s *Stack) StopPostgres() error { return s.pg.stop(syscall.SIGQUIT, 30*time.Second) }

// StartPostgres starts the cluster again.
func (s *Stack) StartPostgres(ctx context.Context) error {
	if err := s.pg.start(); err != nil {
		return err
	}
	return s.waitPostgres(ctx)
}

// StopMailpit takes the SMTP server away (SIGTERM); StartMailpit brings it back on the same
// ports with the same database.
func (s *Stack) StopMailpit() error { return s.mailpit.stop(syscall.SIGTERM, 15*time.Second) }
func (s *Stack) StartMailpit(ctx context.Context) error {
	if err := s.mailpit.start(); err != nil {
		return err
	}
	return s.waitMailpit(ctx)
}

// supervise restarts a platform process that exits without being asked to, as a process
// manager would, and counts it: the faults are what the chaos run injects, not the stack
// falling over around them.
func (s *Stack) supervise() {
	s.superviseOnce.Do(func() {
		s.supervised.Add(1)
		go func() {
			defer s.supervised.Done()
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				select {
				case <-s.stopSupervise:
					return
				case <-t.C:
				}
				for _, p := range []*proc{s.worker, s.api, s.sandbox} {
					p.mu.Lock()
					crashed := p.done != nil && !p.running() && !p.expected
					p.mu.Unlock()
					if !crashed {
						continue
					}
					s.logf("%s exited on its own (%v); restarting it; last lines:\n%s", p.name, p.err, p.tail(10))
					_ = p.start()
				}
			}
		}()
	})
}

// Crashes counts, per process, the exits nobody asked for.
func (s *Stack) Crashes() map[string]int {
	out := map[string]int{}
	for _, p := range s.procs {
		if n := p.Crashes(); n > 0 {
			out[p.name] = n
		}
	}
	return out
}

// Tails is the end of every process's log, for a failed run.
func (s *Stack) Tails(n int) string {
	var b strings.Builder
	for _, p := range s.procs {
		fmt.Fprintf(&b, "--- %s (%s)\n%s\n", p.name, p.log, p.tail(n))
	}
	return b.String()
}

// Close stops everything, newest first (the API and the worker while Temporal and PostgreSQL
// are still there), and removes the data directory unless keep.
func (s *Stack) Close(keep bool) error {
	if s.stopSupervise != nil {
		close(s.stopSupervise)
		s.supervised.Wait()
	}
	var errs []error
	for i := len(s.procs) - 1; i >= 0; i-- {
		p := s.procs[i]
		sig := syscall.SIGTERM
		if p == s.pg {
			sig = syscall.SIGINT // fast shutdown: PostgreSQL's SIGTERM waits for clients
		}
		if err := p.stop(sig, 20*time.Second); err != nil {
			errs = append(errs, err)
		}
	}
	if !keep && s.Dir != "" {
		if err := os.RemoveAll(s.Dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// quietLogger drops the Temporal SDK's log lines.
type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(string, ...any) {}
