// Package notifytest starts the real collaborators of package notify for integration tests:
// the Twilio sandbox in-process and a Mailpit SMTP server as a child process, and reads back
// what they received. Any package's tests may use it.
package notifytest

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clinicbook/booking/config"
	"github.com/clinicbook/booking/twiliosandbox"
)

// Test credentials for the sandbox. twilio-go refuses non-alphanumeric credentials, so these
// have Twilio's shapes: "AC" + 32 hex digits and 32 hex digits.
const (
	AccountSID = "AC00000000000000000000000000000001"
	AuthToken  = "0123456789abcdef0123456789abcdef"
	FromNumber = "+15005550006"
)

// SandboxConfig is a sandbox configuration for tests: the test credentials and short delays,
// so status callbacks arrive within milliseconds.
func SandboxConfig() twiliosandbox.Config {
	return twiliosandbox.Config{
		AccountSID:       AccountSID,
		AuthToken:        AuthToken,
		FromNumber:       FromNumber,
		TimeoutHold:      10 * time.Second,
		StatusDelay:      10 * time.Millisecond,
		CallbackAttempts: 3,
		CallbackBackoff:  20 * time.Millisecond,
	}
}

// TwilioConfig is the platform configuration that talks to a sandbox at baseURL with the
// test credentials.
func TwilioConfig(baseURL string) config.Twilio {
	return config.Twilio{AccountSID: AccountSID, AuthToken: AuthToken, FromNumber: FromNumber, BaseURL: baseURL}
}

// StartSandbox serves a Twilio sandbox on a local port until the test ends. Empty credentials
// in cfg are filled from SandboxConfig.
func StartSandbox(t testing.TB, cfg twiliosandbox.Config) (*twiliosandbox.Server, string) {
	t.Helper()
	if cfg.AccountSID == "" && cfg.AuthToken == "" {
		def := SandboxConfig()
		cfg.AccountSID, cfg.AuthToken = def.AccountSID, def.AuthToken
		if cfg.FromNumber == "" {
			cfg.FromNumber = def.FromNumber
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(testLog{t}, nil))
	}
	srv := twiliosandbox.New(cfg)
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		// Close the sandbox first: it releases requests held by timeout faults, which
		// httptest.Server.Close would otherwise wait for.
		srv.Close()
		hs.Close()
	})
	return srv, hs.URL
}

// testLog sends the sandbox's log to the test's log, shown only for failing or -v tests.
// The sandbox stops logging before the test ends: its cleanup waits for background work.
type testLog struct{ t testing.TB }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// RepoRoot is the directory holding the module's go.mod, found by walking up from the
// working directory (a test's working directory is its package directory).
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("notifytest: working directory: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("notifytest: no go.mod above the working directory")
		}
		dir = parent
	}
}

// mailpitWait is how long to wait for a bin/mailpit that is still being built.
const mailpitWait = 2 * time.Minute

// MailpitBinary returns <repo root>/bin/mailpit, waiting a while for it to appear, and fails
// the test if it does not: integration tests must not pass by silently skipping.
func MailpitBinary(t testing.TB) string {
	t.Helper()
	path := filepath.Join(RepoRoot(t), "bin", "mailpit")
	deadline := time.Now().Add(mailpitWait)
	for {
		info, err := os.Stat(path)
		if err == nil && !info.IsDir() && info.Mode()&0o111 != 0 {
			return path
		}
		if time.Now().After(deadline) {
			t.Fatalf("notifytest: mailpit binary missing at %s (waited %v): build it with "+
				"`GOBIN=%s go install github.com/axllent/mailpit@v1.27.11`", path, mailpitWait, filepath.Dir(path))
		}
		time.Sleep(time.Second)
	}
}

// StartMailpit runs bin/mailpit on free local ports until the test ends and returns its SMTP
// address and its HTTP API base URL (GET apiURL+"/api/v1/messages"). extraArgs are passed
// on, e.g. "--smtp-allowed-recipients", `@example\.com$`.
func StartMailpit(t testing.TB, extraArgs ...string) (smtpHost string, smtpPort int, apiURL string) {
	t.Helper()
	bin := MailpitBinary(t)
	var lastErr error
	// Free ports are picked by binding and releasing them, so another process can take one
	// in between; a few attempts make that race harmless.
	for attempt := 0; attempt < 3; attempt++ {
		smtpPort, httpPort := freePort(t), freePort(t)
		host, port, api, err := startMailpit(t, bin, smtpPort, httpPort, extraArgs)
		if err == nil {
			return host, port, api
		}
		lastErr = err
	}
	t.Fatalf("notifytest: start mailpit: %v", lastErr)
	return "", 0, ""
}

func startMailpit(t testing.TB, bin string, smtpPort, httpPort int, extraArgs []string) (string, int, string, error) {
	const host = "127.0.0.1"
	args := append([]string{
		"--smtp", fmt.Sprintf("%s:%d", host, smtpPort),
		"--listen", fmt.Sprintf("%s:%d", host, httpPort),
		"--database", filepath.Join(t.TempDir(), "mailpit.db"),
		"--disable-version-check",
		"--smtp-disable-rdns",
	}, extraArgs...)
	cmd := exec.Command(bin, args...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return "", 0, "", fmt.Errorf("run %s: %w", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}

	apiURL := fmt.Sprintf("http://%s:%d", host, httpPort)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		if ready(ctx, apiURL, fmt.Sprintf("%s:%d", host, smtpPort)) {
			t.Cleanup(stop)
			return host, smtpPort, apiURL, nil
		}
		select {
		case err := <-exited:
			return "", 0, "", fmt.Errorf("mailpit exited (%v) before it was ready; output:\n%s", err, out.String())
		case <-ctx.Done():
			stop()
			return "", 0, "", fmt.Errorf("mailpit not ready after 20s; output:\n%s", out.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// ready reports whether both the API answers and the SMTP port accepts connections.
func ready(ctx context.Context, apiURL, smtpAddr string) bool {
	var info struct{ Version string }
	if err := getJSON(ctx, apiURL+"/api/v1/info", &info); err != nil {
		return false
	}
	conn, err := (&net.Dialer{Timeout: time.Second}).DialContext(ctx, "tcp", smtpAddr)
	if err != nil {
		return false
	}
	_ = conn.Close()
	return true
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("notifytest: find a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// syncBuffer collects a child's output, written from os/exec's copying goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
