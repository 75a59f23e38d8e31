package chaos

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"syscall"
	"time"
)

// proc is one child process of the stack: how to start it, and the running one if any. It can
// be killed and started again with the same command, environment and log (appended to).
type proc struct {
	name string
	path string
	args []string
	env  []string
	log  string
	// cred runs it as another user (PostgreSQL refuses to run as root).
	cred *syscall.Credential

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	// expected is set while the supervisor stops the process on purpose, so that its exit
	// is not counted as a crash.
	expected bool
	// crashes counts exits nobody asked for.
	crashes int
}

// spawner starts every child from one goroutine locked to its OS thread for the life of the
// program: Pdeathsig is tied to the thread that forked, so the children are killed when the
// supervisor dies, even by SIGKILL or a test timeout, and not when some other thread exits.
type spawner struct {
	once sync.Once
	reqs chan spawnReq
}

type spawnReq struct {
	cmd *exec.Cmd
	err chan error
}

var theSpawner spawner

func (s *spawner) start(cmd *exec.Cmd) error {
	s.once.Do(func() {
		s.reqs = make(chan spawnReq)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread lives as long as the program
			for r := range s.reqs {
				r.err <- r.cmd.Start()
			}
		}()
	})
	r := spawnReq{cmd: cmd, err: make(chan error, 1)}
	s.reqs <- r
	return <-r.err
}

// start runs the process; it must not be running.
func (p *proc) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.running() {
		return fmt.Errorf("%s is running already", p.name)
	}
	f, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(f, "\n=== chaos: starting %s at %s\n", p.name, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(p.path, p.args...)
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Credential: p.cred}
	if err := theSpawner.start(cmd); err != nil {
		f.Close()
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	done := make(chan struct{})
	p.cmd, p.done, p.err, p.expected = cmd, done, nil, false
	go func() {
		err := cmd.Wait()
		f.Close()
		p.mu.Lock()
		p.err = err
		if !p.expected {
			p.crashes++
		}
		p.mu.Unlock()
		close(done)
	}()
	return nil
}

// running must be called with p.mu held.
func (p *proc) running() bool {
	if p.done == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Running reports whether the process is up.
func (p *proc) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.running()
}

// Crashes is how many times the process exited without being asked to.
func (p *proc) Crashes() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.crashes
}

// stop sends sig to the process group and waits up to wait for the exit, then kills it.
func (p *proc) stop(sig syscall.Signal, wait time.Duration) error {
	p.mu.Lock()
	if !p.running() {
		p.mu.Unlock()
		return nil
	}
	p.expected = true
	pid, done := p.cmd.Process.Pid, p.done
	p.mu.Unlock()
	// The whole group: a child of the child (none today) goes too.
	_ = syscall.Kill(-pid, sig)
	select {
	case <-done:
		return nil
	case <-time.After(wait):
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	select {
	case <-done:
		return fmt.Errorf("%s did not stop on %v within %v; killed", p.name, sig, wait)
	case <-time.After(10 * time.Second):
		return fmt.Errorf("%s did not die", p.name)
	}
}

// tail returns the last n lines of the process's log.
func (p *proc) tail(n int) string {
	return tailFile(p.log, n)
}

func tailFile(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	const max = 64 << 10
	if st, err := f.Stat(); err == nil && st.Size() > max {
		_, _ = f.Seek(st.Size()-max, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// runOnce runs a short command (initdb, keygen, seed) to its end, its output into log, and
// returns its standard output.
func runOnce(log string, cred *syscall.Credential, env []string, path string, args ...string) (string, error) {
	f, err := os.OpenFile(log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var out bytes.Buffer
	cmd := exec.Command(path, args...)
	cmd.Env = env
	cmd.Stdout = io.MultiWriter(&out, f)
	cmd.Stderr = f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Credential: cred}
	if err := theSpawner.start(cmd); err != nil {
		return "", err
	}
	if err := cmd.Wait(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return out.String(), fmt.Errorf("%s %v: %w; last lines of %s:\n%s", path, args, err, log, tailFile(log, 15))
		}
		return out.String(), err
	}
	return out.String(), nil
}
