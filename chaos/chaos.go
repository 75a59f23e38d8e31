// Package chaos is `make chaos`: it starts a whole platform of its own (a private PostgreSQL,
// the Temporal dev server or the full server on that PostgreSQL, Mailpit, the Twilio sandbox,
// the worker and the API as child processes, in a temporary directory on free ports), drives a
// steady mixed load over HTTP, injects faults one after another with recovery between them
// (processes killed, Temporal and PostgreSQL restarted, Twilio and SMTP failing for a while,
// every worker down while timers fall due), waits for the platform to come to rest, and audits
// the invariants the platform promises from PostgreSQL, Temporal and the sandboxes.
package chaos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/api/enums/v1"
)

// Profile is how long and how hard a run is.
type Profile struct {
	Name string
	Load LoadProfile
	// Duration is how long the load runs at least; it runs until the faults are done.
	Duration time.Duration
	// Warmup is the load before the first fault; Settle the pause after each recovery.
	Warmup, Settle time.Duration
	// KillDown is how long a killed worker or API stays down; OutageDown Temporal and
	// PostgreSQL.
	KillDown, OutageDown time.Duration
	// SMSWindow is how long the sandbox answers each of 500, timeout and accept-timeout;
	// SMSHold how long it holds a request before dropping it.
	SMSWindow, SMSHold time.Duration
	SMTPDown           time.Duration
	// The worker-down fault: at least TimersLead from its planning, TimersDown long, starting
	// TimersBefore ahead of a planned booking's start.
	TimersLead, TimersBefore, TimersDown time.Duration
	// Quiesce bounds the wait for the platform to come to rest before the audit.
	Quiesce time.Duration
	// Repeat injects the process faults again while the load runs on.
	Repeat bool
}

// ShortProfile is the version `make test` runs: one fault of each kind, a small load, under
// four minutes.
var ShortProfile = Profile{
	Name:     "short",
	Load:     LoadProfile{Patients: 4, Think: 1500 * time.Millisecond, SoonMin: 75 * time.Second, SoonMax: 4 * time.Minute},
	Duration: 0, Warmup: 5 * time.Second, Settle: 3 * time.Second,
	KillDown: 2 * time.Second, OutageDown: 3 * time.Second,
	SMSWindow: 6 * time.Second, SMSHold: 5 * time.Second, SMTPDown: 12 * time.Second,
	TimersLead: 25 * time.Second, TimersBefore: 25 * time.Second, TimersDown: 40 * time.Second,
	Quiesce: 100 * time.Second,
}

// FullProfile is `make chaos`: a fault of each kind at full length (a minute of SMS and SMTP
// outage, a minute without workers), the process faults again while time remains, more load.
var FullProfile = Profile{
	Name:     "full",
	Load:     LoadProfile{Patients: 10, Think: time.Second, SoonMin: 75 * time.Second, SoonMax: 6 * time.Minute},
	Duration: 8 * time.Minute, Warmup: 20 * time.Second, Settle: 15 * time.Second,
	KillDown: 5 * time.Second, OutageDown: 10 * time.Second,
	SMSWindow: 20 * time.Second, SMSHold: 25 * time.Second, SMTPDown: time.Minute,
	TimersLead: 60 * time.Second, TimersBefore: 40 * time.Second, TimersDown: time.Minute,
	Quiesce: 3 * time.Minute, Repeat: true,
}

// Options are a run's settings.
type Options struct {
	// Root is the repository (./bin holds the binaries); found from the working directory
	// when empty.
	Root    string
	Profile Profile
	Seed    uint64
	// Keep leaves the data directory (databases, logs) in place.
	Keep bool
	// Temporal is the engine: TemporalDev (the default) or TemporalServer, the full server on
	// the stack's PostgreSQL.
	Temporal string
	// Out receives the report lines; Log the progress lines (nil: Out).
	Out, Log io.Writer
}

// Report is a run's outcome.
type Report struct {
	Dir    string
	Faults []FaultResult
	Checks []Check
	Stats  LedgerStats
	// Failed is how many checks (faults included) failed.
	Passed, Failed int
	// Tails holds the end of each process's log when something failed.
	Tails string
}

// FindRoot walks up from the working directory to go.mod.
func FindRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Run runs the chaos test and reports. An error means the run itself could not be made (the
// stack did not start); violations are in the report.
func Run(ctx context.Context, opts Options) (rep *Report, err error) {
	if opts.Out == nil {
		opts.Out = os.Stdout
	}
	if opts.Log == nil {
		opts.Log = opts.Out
	}
	if opts.Root == "" {
		if opts.Root, err = FindRoot(); err != nil {
			return nil, err
		}
	}
	p := opts.Profile
	var outMu sync.Mutex
	started := time.Now()
	logf := func(format string, args ...any) {
		outMu.Lock()
		defer outMu.Unlock()
		fmt.Fprintf(opts.Log, "chaos %6.1fs  %s\n", time.Since(started).Seconds(), fmt.Sprintf(format, args...))
	}
	line := func(format string, args ...any) {
		outMu.Lock()
		defer outMu.Unlock()
		fmt.Fprintf(opts.Out, format+"\n", args...)
	}

	dir, err := os.MkdirTemp("", "chaos-")
	if err != nil {
		return nil, err
	}
	rep = &Report{Dir: dir}
	if opts.Temporal == "" {
		opts.Temporal = TemporalDev
	}
	st := &Stack{Root: opts.Root, Dir: dir, Timing: DefaultTiming, Logf: logf, Temporal: opts.Temporal}
	defer func() {
		keep := opts.Keep
		if (err != nil && ctx.Err() == nil) || (rep != nil && rep.Failed > 0) {
			rep.Tails = st.Tails(25)
			keep = true // the logs a failed run points at stay to be read
		}
		if cerr := st.Close(keep); cerr != nil {
			logf("stopping the stack: %v", cerr)
		}
		if keep {
			logf("data and logs kept in %s", dir)
		}
	}()
	logf("profile %s, Temporal %s, seed %d, data in %s", p.Name, opts.Temporal, opts.Seed, dir)
	if err := st.Start(ctx); err != nil {
		return rep, fmt.Errorf("start the stack: %w", err)
	}
	logf("stack up: API %s, Temporal %s, PostgreSQL %s, Mailpit %s, sandbox %s", st.APIURL(), st.TemporalAddr(),
		st.DatabaseURL(), st.MailpitURL(), st.SandboxURL())

	d := newDriver(st, p.Load, opts.Seed, logf)
	if err := d.Setup(ctx); err != nil {
		return rep, fmt.Errorf("set up the load: %w", err)
	}
	logf("load: %d patients (both contacts verified), %d doctors, a %d-minute service", len(d.patients),
		len(d.general)+len(d.reserved), serviceMinutes)
	var providers, patientIDs []string
	for _, doc := range append(append([]doctor(nil), d.general...), d.reserved...) {
		providers = append(providers, doc.ID)
	}
	for _, pt := range d.patients {
		patientIDs = append(patientIDs, pt.ID)
	}

	pool, err := pgxpool.New(ctx, st.DatabaseURL())
	if err != nil {
		return rep, err
	}
	defer pool.Close()
	mon := &holdMonitor{pool: pool}
	monCtx, stopMon := context.WithCancel(ctx)
	var monDone sync.WaitGroup
	monDone.Add(1)
	go func() {
		defer monDone.Done()
		mon.run(monCtx, providers)
	}()
	defer func() { stopMon(); monDone.Wait() }()

	loadCtx, stopLoad := context.WithCancel(ctx)
	followCtx, stopFollow := context.WithCancel(ctx)
	defer stopFollow()
	loadEnd := time.Now().Add(p.Duration)
	var loadDone sync.WaitGroup
	loadDone.Add(1)
	go func() {
		defer loadDone.Done()
		d.Run(loadCtx, followCtx)
	}()

	in := &injector{st: st, d: d, profile: p, logf: logf}
	rep.Faults = in.schedule(ctx, loadEnd, func(r FaultResult) {
		if ctx.Err() != nil {
			return // interrupted: what the fault did is beside the point
		}
		status := "ok"
		if r.Err != nil {
			status = "FAILED: " + r.Err.Error()
		}
		line("fault %-17s %s; down %v, ready %v after restart; %s", r.Name, r.Detail, r.Down.Round(100*time.Millisecond),
			r.Recover.Round(100*time.Millisecond), status)
	})
	sleep(ctx, time.Until(loadEnd))
	logf("faults done; stopping the load")
	stopLoad()
	loadDone.Wait()
	stopFollow()
	d.WaitFollowUps()
	if ctx.Err() != nil {
		return rep, ctx.Err()
	}

	// Rest: the worker catches up with everything due, messages settle.
	tc, err := st.TemporalClient(ctx)
	if err != nil {
		return rep, err
	}
	defer tc.Close()
	records := d.ledger.Records()
	acked := map[string]bool{}
	for _, r := range records {
		if r.LastAck() != nil {
			acked[r.ID] = true
		}
	}
	// The audit reads PostgreSQL, then the sandbox and Mailpit, then PostgreSQL again, and
	// uses what it read only when nothing moved in between and the platform was at rest:
	// a message sent while the auditor read would otherwise look lost or unrecorded.
	quiesceStart := time.Now()
	var snap *snapshot
	var sms []SMS
	var mails []Mail
	var restless string
	for {
		first, err := readDB(ctx, pool, providers, patientIDs)
		if err != nil {
			return rep, err
		}
		restless = quiet(ctx, first, tc, st.Timing, acked)
		if restless == "" || time.Since(quiesceStart) > p.Quiesce {
			if sms, err = listSMS(ctx, st.SandboxURL()); err != nil {
				return rep, fmt.Errorf("list SMS: %w", err)
			}
			if mails, err = listMail(ctx, st.MailpitURL()); err != nil {
				return rep, fmt.Errorf("list mail: %w", err)
			}
			if snap, err = readDB(ctx, pool, providers, patientIDs); err != nil {
				return rep, err
			}
			if restless == "" {
				if restless = quiet(ctx, snap, nil, st.Timing, acked); restless == "" && !sameMessages(first, snap) {
					restless = "messages moved while they were read"
				}
			}
			if restless == "" || time.Since(quiesceStart) > p.Quiesce {
				break
			}
		}
		sleep(ctx, 3*time.Second)
	}
	stopMon()
	monDone.Wait()

	quiesce := Check{Name: "quiescence", Summary: fmt.Sprintf("at rest %v after the load stopped (bound %v)",
		time.Since(quiesceStart).Round(time.Second), p.Quiesce)}
	if restless != "" {
		quiesce.Violations = append([]string{"not at rest: " + restless}, explainRestless(ctx, tc, restless)...)
	}
	logf("auditing")
	execs, err := listExecutions(ctx, tc)
	if err != nil {
		return rep, fmt.Errorf("list workflows: %w", err)
	}
	sightings, looks := mon.sightings()
	var blackouts []Window
	var plans []*TimerPlan
	for _, f := range rep.Faults {
		if f.Blackout != nil {
			blackouts = append(blackouts, *f.Blackout)
		}
		if f.Plan != nil {
			plans = append(plans, f.Plan)
		}
	}
	checks := audit(auditInput{
		snap: snap, execs: execs, sms: sms, mails: mails, records: records, sightings: sightings, holdChecks: looks,
		blackouts: blackouts, plans: plans, timing: st.Timing,
		describe: func(id string) (enums.WorkflowExecutionStatus, error) {
			desc, err := tc.DescribeWorkflowExecution(ctx, id, "")
			if err != nil {
				return 0, err
			}
			return desc.GetWorkflowExecutionInfo().GetStatus(), nil
		},
	})
	checks = append(checks, quiesce)

	// The faults count as checks too: each must have been injected and recovered from.
	stats := d.ledger.Stats()
	rep.Stats = stats
	for _, f := range rep.Faults {
		if f.Err != nil {
			rep.Failed++
		} else {
			rep.Passed++
		}
	}
	crashes := st.Crashes()
	var crashList []string
	for name, n := range crashes {
		if name == "worker" || name == "api" || name == "twilio-sandbox" {
			crashList = append(crashList, fmt.Sprintf("%s exited on its own %d times (restarted)", name, n))
		}
	}
	sort.Strings(crashList)
	checks = append(checks, Check{Name: "no-crashes", Violations: crashList,
		Summary: "no platform process exited unless the run killed it"})
	rep.Checks = checks

	line("load  %d scenarios by %d patients: %d holds tried, %d acknowledged (201), %d refused, %d unanswered; %d confirmed a few minutes ahead; commands %s; %d requests, %d retried, %d given up",
		d.scenarios.Load(), len(d.patients), stats.HoldsTried, stats.HoldsAcked, stats.HoldsRefused, stats.HoldsUnknown,
		d.soon.Load(), commandCounts(stats), d.api.requests.Load(), d.api.retries.Load(), d.api.gaveUp.Load())
	line("load  bookings now: %s", statusCounts(snap))
	if n := d.errorsSeen.Load(); n > 0 {
		line("load  %d unexpected answers, such as: %s", n, strings.Join(d.ErrorSamples(), " | "))
	}
	for _, c := range checks {
		verdict := "PASS"
		if !c.Passed() {
			verdict = "FAIL"
			rep.Failed++
		} else {
			rep.Passed++
		}
		summary := c.Summary
		if c.Err != nil {
			summary += "; " + c.Err.Error()
		}
		line("%s  %-18s %s; violations: %d", verdict, c.Name, summary, len(c.Violations))
		for i, v := range c.Violations {
			if i == 20 {
				line("      ... and %d more", len(c.Violations)-20)
				break
			}
			line("      %s", v)
		}
	}
	line("%d passed, %d failed (%s profile, Temporal %s, seed %d, %v)", rep.Passed, rep.Failed, p.Name, opts.Temporal, opts.Seed,
		time.Since(started).Round(time.Second))
	return rep, nil
}

func commandCounts(s LedgerStats) string {
	var parts []string
	for _, name := range []string{CmdConfirm, CmdCancel, CmdReschedule, CmdCheckIn} {
		m := s.ByName[name]
		parts = append(parts, fmt.Sprintf("%s %d/%d/%d", name, m[Acked], m[Refused], m[Unknown]))
	}
	return strings.Join(parts, ", ") + " (acked/refused/unanswered)"
}

// statusCounts is how many of the run's bookings are in each status, and how many messages of
// each kind went out.
func statusCounts(s *snapshot) string {
	by := map[string]int{}
	for _, b := range s.bookings {
		by[string(b.Status)]++
	}
	kinds := map[string]int{}
	for _, n := range s.notifs {
		if sentStatuses[n.Status] {
			kinds[n.Kind]++
		}
	}
	var parts []string
	for _, st := range []string{"held", "confirmed", "checked_in", "completed", "expired", "cancelled", "no_show"} {
		parts = append(parts, fmt.Sprintf("%s %d", st, by[st]))
	}
	var sent []string
	for _, k := range []string{"confirmation", "reminder", "reschedule", "cancellation", "no_show", "hold_expired"} {
		sent = append(sent, fmt.Sprintf("%s %d", k, kinds[k]))
	}
	return strings.Join(parts, ", ") + "; messages sent by kind (both channels): " + strings.Join(sent, ", ")
}
