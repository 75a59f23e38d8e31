package chaos

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// FaultResult is one injected fault: when, for how long the platform lacked the part, how
// long it took to be whole again, and what it touched.
type FaultResult struct {
	Name     string
	Start    time.Time
	Restored time.Time // the part came back (the process answers again)
	Down     time.Duration
	Recover  time.Duration // from the restart to ready
	Detail   string
	Err      error
	// Blackout is set for faults during which no timer could run (no worker, no Temporal, no
	// database): holds are not expected to expire on time inside it.
	Blackout *Window
	// Plan is the worker-down fault's timers.
	Plan *TimerPlan
}

// fault is one kind of fault the scheduler can inject.
type fault struct {
	name string
	// est is how long it takes, recovery included, for fitting it before a fixed moment.
	est time.Duration
	run func(ctx context.Context) FaultResult
}

// injector holds what the faults act on.
type injector struct {
	st      *Stack
	d       *Driver
	profile Profile
	logf    func(string, ...any)
}

// restartProcess kills (or stops) a part, leaves it down, and starts it again.
func (in *injector) restartProcess(ctx context.Context, name string, blackout bool, stop func() error, start func(context.Context) error, down time.Duration) FaultResult {
	r := FaultResult{Name: name, Start: time.Now()}
	if err := stop(); err != nil {
		r.Err = err
	}
	sleep(ctx, down)
	restart := time.Now()
	r.Down = restart.Sub(r.Start)
	if err := start(ctx); err != nil {
		r.Err = errors.Join(r.Err, err)
	}
	r.Restored = time.Now()
	r.Recover = r.Restored.Sub(restart)
	if blackout {
		r.Blackout = &Window{From: r.Start, To: r.Restored}
	}
	return r
}

func (in *injector) faults() map[string]fault {
	p := in.profile
	return map[string]fault{
		"worker-kill": {"worker-kill", p.KillDown + 10*time.Second, func(ctx context.Context) FaultResult {
			r := in.restartProcess(ctx, "worker-kill", true, in.st.KillWorker, in.st.StartWorker, p.KillDown)
			r.Detail = "SIGKILL booking worker, restarted"
			return r
		}},
		"api-kill": {"api-kill", p.KillDown + 10*time.Second, func(ctx context.Context) FaultResult {
			r := in.restartProcess(ctx, "api-kill", true, in.st.KillAPI, in.st.StartAPI, p.KillDown)
			r.Detail = "SIGKILL booking api (and the worker it hosts), restarted; clients retry with their keys"
			return r
		}},
		"temporal-restart": {"temporal-restart", p.OutageDown + 25*time.Second, func(ctx context.Context) FaultResult {
			r := in.restartProcess(ctx, "temporal-restart", true, in.st.StopTemporal, in.st.StartTemporal, p.OutageDown)
			r.Detail = "Temporal dev server stopped and started on its state file"
			if in.st.Temporal == TemporalServer {
				r.Detail = "Temporal server stopped and started on its PostgreSQL databases"
			}
			return r
		}},
		"postgres-restart": {"postgres-restart", p.OutageDown + 10*time.Second, func(ctx context.Context) FaultResult {
			r := in.restartProcess(ctx, "postgres-restart", true, in.st.StopPostgres, in.st.StartPostgres, p.OutageDown)
			r.Detail = "private PostgreSQL stopped in immediate mode (crash recovery) and started"
			if in.st.Temporal == TemporalServer {
				r.Detail += "; Temporal's persistence with it"
			}
			return r
		}},
		"sms-outage": {"sms-outage", 3*p.SMSWindow + 2*time.Second, func(ctx context.Context) FaultResult {
			r := FaultResult{Name: "sms-outage", Start: time.Now()}
			var modes []string
			for _, mode := range []string{"500", "timeout", "accept-timeout"} {
				body := map[string]string{"mode": mode, "for": p.SMSWindow.String()}
				if mode != "500" {
					body["hold"] = p.SMSHold.String()
				}
				if err := postJSON(ctx, in.st.SandboxURL()+"/api/fail", body); err != nil {
					r.Err = errors.Join(r.Err, err)
				}
				modes = append(modes, fmt.Sprintf("%s %v", mode, p.SMSWindow))
				sleep(ctx, p.SMSWindow)
			}
			r.Restored = time.Now()
			r.Down = r.Restored.Sub(r.Start)
			r.Detail = "Twilio sandbox failing every send: " + strings.Join(modes, ", then ") +
				fmt.Sprintf(" (held %v, then dropped)", p.SMSHold)
			return r
		}},
		"smtp-down": {"smtp-down", p.SMTPDown + 5*time.Second, func(ctx context.Context) FaultResult {
			r := in.restartProcess(ctx, "smtp-down", false, in.st.StopMailpit, in.st.StartMailpit, p.SMTPDown)
			r.Detail = "Mailpit (SMTP) stopped, started again on the same port and database"
			return r
		}},
	}
}

// workersDown takes every worker away (the worker and the API, which hosts one) for the
// plan's window, in which holds expire, reminders and no-shows fall due; they must fire when
// the workers return, late but once.
func (in *injector) workersDown(ctx context.Context, plan *TimerPlan) FaultResult {
	holds := make(chan struct{})
	go func() {
		defer close(holds)
		in.d.PlanHolds(ctx, plan, 2)
	}()
	sleep(ctx, time.Until(plan.Down.From))
	<-holds
	in.logf("worker-down window %s-%s; %d timers planned inside it", plan.Down.From.Format(time.TimeOnly),
		plan.Down.To.Format(time.TimeOnly), len(plan.Due))
	r := FaultResult{Name: "workers-down", Start: time.Now(), Plan: plan}
	r.Err = errors.Join(in.st.KillWorker(), in.st.KillAPI())
	sleep(ctx, time.Until(plan.Down.To))
	restart := time.Now()
	r.Down = restart.Sub(r.Start)
	r.Err = errors.Join(r.Err, in.st.StartWorker(ctx), in.st.StartAPI(ctx))
	r.Restored = time.Now()
	r.Recover = r.Restored.Sub(restart)
	r.Blackout = &Window{From: r.Start, To: r.Restored}
	counts := map[string]int{}
	for _, t := range plan.Due {
		counts[t.Kind]++
	}
	r.Detail = fmt.Sprintf("SIGKILL worker and api, down while %d hold expiries, %d reminders, %d no-shows fell due",
		counts["expiry"], counts["reminder"], counts["no-show"])
	return r
}

// schedule runs the faults one after another, with the stack whole again and a settling
// pause between them. The worker-down fault happens at a moment fixed by the bookings it
// plans around; the others fill the time before and after it.
func (in *injector) schedule(ctx context.Context, loadEnd time.Time, report func(FaultResult)) []FaultResult {
	p := in.profile
	all := in.faults()
	var results []FaultResult
	// settle waits for every part to answer again, then lets the platform catch up: a fault
	// the stack does not recover from fails.
	settle := func(r FaultResult) FaultResult {
		if err := in.st.waitAllReady(ctx); err != nil && r.Err == nil && ctx.Err() == nil {
			r.Err = fmt.Errorf("not recovered: %w", err)
		}
		sleep(ctx, p.Settle)
		return r
	}
	do := func(f fault) {
		if ctx.Err() != nil {
			return
		}
		in.logf("injecting %s", f.name)
		r := settle(f.run(ctx))
		results = append(results, r)
		report(r)
	}
	order := []string{"worker-kill", "api-kill", "postgres-restart", "temporal-restart", "sms-outage", "smtp-down"}
	sleep(ctx, p.Warmup)
	plan, err := in.d.PlanTimers(ctx, p.TimersLead, p.TimersBefore, p.TimersDown)
	if err != nil {
		r := FaultResult{Name: "workers-down", Start: time.Now(), Err: err}
		results = append(results, r)
		report(r)
	}
	for _, name := range order {
		if ctx.Err() != nil {
			return results
		}
		f := all[name]
		// Does it fit before the worker-down window (whose holds are made 8 s ahead)?
		if plan != nil && time.Now().Add(f.est+p.Settle).After(plan.holdsAt.Add(-5*time.Second)) && ctx.Err() == nil {
			r := settle(in.workersDown(ctx, in.fresh(ctx, plan)))
			results = append(results, r)
			report(r)
			plan = nil
		}
		do(f)
	}
	if plan != nil && ctx.Err() == nil {
		r := settle(in.workersDown(ctx, in.fresh(ctx, plan)))
		results = append(results, r)
		report(r)
	}
	// Time left: the process faults again, while they fit.
	if p.Repeat {
		for i := 0; ctx.Err() == nil; i++ {
			f := all[order[i%4]]
			if time.Now().Add(f.est + p.Settle).After(loadEnd) {
				break
			}
			do(f)
		}
	}
	return results
}

// fresh replans the worker-down fault when a fault before it ran late and its moment passed.
func (in *injector) fresh(ctx context.Context, plan *TimerPlan) *TimerPlan {
	if time.Now().Before(plan.holdsAt.Add(-2 * time.Second)) {
		return plan
	}
	p := in.profile
	in.logf("the worker-down window passed while another fault ran; planning it again")
	if again, err := in.d.PlanTimers(ctx, p.TimersLead, p.TimersBefore, p.TimersDown); err == nil {
		return again
	}
	return plan
}

// waitAllReady waits until every part of the stack answers.
func (s *Stack) waitAllReady(ctx context.Context) error {
	return errors.Join(
		s.waitPostgres(ctx),
		s.waitTemporal(ctx),
		s.waitMailpit(ctx),
		s.waitHTTP(ctx, s.worker, s.WorkerURL()+"/readyz"),
		s.waitHTTP(ctx, s.api, s.APIURL()+"/readyz"),
	)
}
