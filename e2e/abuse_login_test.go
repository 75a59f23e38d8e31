package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/clinicbook/booking/config"
	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/notify/notifytest"
	"github.com/clinicbook/booking/store/storetest"
)

const (
	// apiMemoryLimit is the API container's memory limit in deploy/base, and apiGoMemLimit the
	// GOMEMLIMIT the manifests give it.
	apiMemoryLimit = 512 << 20
	apiGoMemLimit  = "400MiB"
)

// A storm of logins for random emails (each one hashes a dummy password: argon2id, 19 MiB)
// must not take the API anywhere near its container's memory limit: hashing runs within its
// memory budget, and what does not fit is turned away with 503 and Retry-After.
func TestLoginStormStaysWithinMemory(t *testing.T) {
	t.Parallel()
	bin := buildBookingBinary(t)
	adminPassword := "storm-" + uuid.NewString()
	api := startAPIProcess(t, bin, map[string]string{
		"GOMEMLIMIT":     apiGoMemLimit,
		"ADMIN_EMAIL":    "admin@storm.test",
		"ADMIN_PASSWORD": adminPassword,
		// The attack comes from many addresses (a botnet), so the per-address login limit,
		// which would turn one address away after 30 attempts, is out of the way: what is
		// measured is the bound on hashing itself.
		"RATE_LIMIT_LOGIN": "1000000/1m",
	})
	before := api.memory(t)
	t.Logf("before the storm: VmRSS %d MiB, VmHWM %d MiB", before.rss>>20, before.hwm>>20)

	// Sample resident memory while the storm runs; VmHWM, the kernel's own high-water mark,
	// catches peaks between samples.
	stop := make(chan struct{})
	sampled := make(chan int64)
	go func() {
		var peak int64
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				sampled <- peak
				return
			case <-tick.C:
				if m, err := readMemory(api.pid()); err == nil {
					peak = max(peak, m.rss)
				}
			}
		}
	}()

	const total, concurrency = 240, 60
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: concurrency}}
	type answer struct {
		status     int
		retryAfter string
		err        error
	}
	answers := make([]answer, total)
	jobs := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for range concurrency {
		wg.Go(func() {
			for i := range jobs {
				status, h, _, err := postJSON(client, api.url+"/v1/auth/login", map[string]string{
					"email": fmt.Sprintf("%s@example.com", uuid.NewString()), "password": "Password123!",
				})
				answers[i] = answer{status: status, err: err}
				if h != nil {
					answers[i].retryAfter = h.Get("Retry-After")
				}
			}
		})
	}
	for i := range total {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	close(stop)
	peakSampled := <-sampled
	after := api.memory(t)

	counts := map[int]int{}
	for i, a := range answers {
		require.NoError(t, a.err, "request %d", i)
		counts[a.status]++
		switch a.status {
		case http.StatusUnauthorized, http.StatusTooManyRequests:
		case http.StatusServiceUnavailable:
			secs, err := strconv.Atoi(a.retryAfter)
			require.NoError(t, err, "a 503 says when to come back: Retry-After %q", a.retryAfter)
			require.Positive(t, secs)
		default:
			t.Fatalf("request %d answered %d; want 401, 429 or 503", i, a.status)
		}
	}
	t.Logf("%d logins at concurrency %d in %s: %v; peak VmRSS sampled %d MiB, VmHWM %d MiB, VmRSS after %d MiB",
		total, concurrency, elapsed.Round(time.Millisecond), counts, peakSampled>>20, after.hwm>>20, after.rss>>20)
	require.Less(t, after.hwm, int64(apiMemoryLimit/2),
		"peak resident memory %d MiB; half the container limit is %d MiB", after.hwm>>20, apiMemoryLimit>>21)
	require.Positive(t, counts[http.StatusUnauthorized], "logins were still answered, not only turned away")

	// Once the storm is over the API works as before: the admin logs in.
	status, _, body, err := postJSON(client, api.url+"/v1/auth/login", map[string]string{
		"email": "admin@storm.test", "password": adminPassword,
	})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status, "%s", body)
}

// Guessing the admin's password from one address locks that address out, not the admin at
// theirs; spraying one password over many accounts from one address runs into that address's
// limit.
func TestLoginLockoutIsPerAddress(t *testing.T) {
	t.Parallel()
	p := newPlatform(t, func(c *config.Config) {
		// The test's own address is a proxy, so X-Forwarded-For lets it pose as many clients.
		c.Limits.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		c.Limits.Login = config.Rate{N: 10, Per: 15 * time.Minute}
	})
	ctx := context.Background()
	const email, password = "admin@clinic.test", "admin-password-1"
	require.NoError(t, p.accounts.EnsureAdmin(ctx, email, password))

	const attacker, owner, sprayer = "203.0.113.66", "198.51.100.7", "192.0.2.99"
	login := func(from, email, password string) (int, http.Header) {
		status, h, body, err := postJSON(http.DefaultClient, p.url+"/v1/auth/login",
			map[string]string{"email": email, "password": password}, "X-Forwarded-For", from)
		require.NoError(t, err)
		require.NotEqual(t, http.StatusInternalServerError, status, "%s", body)
		return status, h
	}

	for i := range 5 {
		status, _ := login(attacker, email, "guess-"+strconv.Itoa(i))
		require.Equal(t, http.StatusUnauthorized, status, "guess %d", i+1)
	}
	status, h := login(attacker, email, "guess-6")
	require.Equal(t, http.StatusTooManyRequests, status)
	require.NotEmpty(t, h.Get("Retry-After"))
	status, _ = login(attacker, email, password)
	require.Equal(t, http.StatusTooManyRequests, status, "locked out even with the right password")

	status, _ = login(owner, email, password)
	require.Equal(t, http.StatusOK, status, "the owner, at another address, logs in at once")

	// Spraying: one password over many accounts from one address. The per-address limit (10
	// failed logins) stops it though no single account saw more than one guess.
	var refused int
	for i := range 15 {
		status, h := login(sprayer, fmt.Sprintf("user%d@clinic.test", i), "Summer2025!")
		switch status {
		case http.StatusUnauthorized:
			require.Zero(t, refused, "once refused, the address stays refused for the window")
		case http.StatusTooManyRequests:
			require.NotEmpty(t, h.Get("Retry-After"))
			refused++
		default:
			t.Fatalf("spray login %d answered %d", i, status)
		}
	}
	require.Equal(t, 5, refused, "10 failures allowed, the next 5 refused")
	status, _ = login(sprayer, email, password)
	require.Equal(t, http.StatusTooManyRequests, status, "the spraying address is refused even for a right password")
	status, _ = login(owner, email, password)
	require.Equal(t, http.StatusOK, status, "the owner is untouched")
}

// Sign-ups are limited per client address, before any password is hashed.
func TestSignupRateLimitPerAddress(t *testing.T) {
	t.Parallel()
	const limit = 3
	p := newPlatform(t, func(c *config.Config) {
		c.Limits.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		c.Limits.Register = config.Rate{N: limit, Per: time.Hour}
	})
	register := func(from, email string) (int, http.Header, []byte) {
		status, h, body, err := postJSON(http.DefaultClient, p.url+"/v1/auth/register", map[string]string{
			"email": email, "password": "correct-horse-1", "name": "Pat", "phone": "+15550301001",
		}, "X-Forwarded-For", from)
		require.NoError(t, err)
		return status, h, body
	}

	for i := range limit {
		status, _, body := register("203.0.113.5", fmt.Sprintf("farm%d@example.com", i))
		require.Equal(t, http.StatusCreated, status, "%s", body)
	}
	status, h, body := register("203.0.113.5", "farm-last@example.com")
	require.Equal(t, http.StatusTooManyRequests, status, "%s", body)
	secs, err := strconv.Atoi(h.Get("Retry-After"))
	require.NoError(t, err)
	require.InDelta(t, 3600, secs, 5)
	var prob struct{ Type string }
	require.NoError(t, json.Unmarshal(body, &prob))
	require.True(t, strings.HasSuffix(prob.Type, "/"+string(domain.KindRateLimited)), prob.Type)
	_, err = p.st.GetUserByEmail(context.Background(), "farm-last@example.com")
	require.True(t, domain.IsKind(err, domain.KindNotFound), "no account was made")

	status, _, body = register("198.51.100.20", "neighbour@example.com")
	require.Equal(t, http.StatusCreated, status, "another address still signs up: %s", body)
}

// postJSON posts body as JSON with the header pairs given, and returns the answer.
func postJSON(c *http.Client, url string, body any, headers ...string) (int, http.Header, []byte, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return 0, nil, nil, err
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, raw, err
}

// apiProcess is a `booking api` running as a child process.
type apiProcess struct {
	url  string
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
}

func (a *apiProcess) pid() int { return a.cmd.Process.Pid }

func (a *apiProcess) memory(t *testing.T) memory {
	t.Helper()
	m, err := readMemory(a.pid())
	require.NoError(t, err)
	return m
}

// startAPIProcess runs `booking api` on a free port with a fresh database, the dev server, a
// task queue of its own and the Twilio sandbox, configured through its environment as in
// production (extra adds to or overrides that), and waits until it answers /healthz. It is
// stopped at cleanup.
func startAPIProcess(t *testing.T, bin string, extra map[string]string) *apiProcess {
	t.Helper()
	_, sandboxURL := notifytest.StartSandbox(t, notifytest.SandboxConfig())
	tw := notifytest.TwilioConfig(sandboxURL)
	seed := make([]byte, 32)
	_, _ = rand.Read(seed)
	httpAddr, opsAddr := freeAddr(t), freeAddr(t)
	env := map[string]string{
		"PATH":                os.Getenv("PATH"),
		"DATABASE_URL":        storetest.NewURL(t),
		"TEMPORAL_ADDRESS":    devServer.Address(),
		"TEMPORAL_NAMESPACE":  "default",
		"TEMPORAL_TASK_QUEUE": "booking-" + uuid.NewString()[:8],
		"TWILIO_ACCOUNT_SID":  tw.AccountSID,
		"TWILIO_AUTH_TOKEN":   tw.AuthToken,
		"TWILIO_FROM_NUMBER":  tw.FromNumber,
		"TWILIO_API_BASE_URL": tw.BaseURL,
		"PUBLIC_BASE_URL":     "http://" + httpAddr,
		"JWT_SIGNING_KEY":     "k1:" + base64.StdEncoding.EncodeToString(seed),
		"HTTP_ADDR":           httpAddr,
		"OPS_HTTP_ADDR":       opsAddr,
	}
	for k, v := range extra {
		env[k] = v
	}
	cmd := exec.Command(bin, "api")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	a := &apiProcess{url: "http://" + httpAddr, cmd: cmd, out: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = a.out, a.out
	require.NoError(t, cmd.Start())
	go func() {
		_ = cmd.Wait()
		close(a.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-a.done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-a.done
		}
		if t.Failed() {
			t.Logf("booking api output:\n%s", a.out.String())
		}
	})

	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, err := http.Get(a.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return a
			}
		}
		select {
		case <-a.done:
			t.Fatalf("booking api exited:\n%s", a.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("booking api did not come up:\n%s", a.out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

// memory is a process's resident memory now (VmRSS) and at its highest so far (VmHWM), in bytes.
type memory struct{ rss, hwm int64 }

func readMemory(pid int) (memory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memory{}, err
	}
	defer f.Close()
	var m memory
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			return memory{}, fmt.Errorf("%s: %w", name, err)
		}
		if name == "VmRSS" {
			m.rss = kb << 10
		} else {
			m.hwm = kb << 10
		}
	}
	if err := sc.Err(); err != nil {
		return memory{}, err
	}
	if m.hwm == 0 {
		return memory{}, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
	}
	return m, nil
}
