package chaos

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/clinicbook/booking/domain"
)

// snapshot is what PostgreSQL holds about the run's bookings.
type snapshot struct {
	at       time.Time
	bookings map[string]Booking
	events   map[string][]Event
	notifs   []Notification
	phones   map[string]bool
	emails   map[string]bool
}

// readDB reads the bookings of the run's doctors, their timelines and notifications, and the
// patients' addresses.
func readDB(ctx context.Context, pool *pgxpool.Pool, providers []string, patients []string) (*snapshot, error) {
	s := &snapshot{at: time.Now(), bookings: map[string]Booking{}, events: map[string][]Event{},
		phones: map[string]bool{}, emails: map[string]bool{}}
	rows, err := pool.Query(ctx, `SELECT id, provider_id, patient_id, status, start_at, end_at, hold_expires_at, revision
		FROM bookings WHERE provider_id = ANY($1)`, providers)
	if err != nil {
		return nil, fmt.Errorf("read bookings: %w", err)
	}
	for rows.Next() {
		var b Booking
		var status string
		if err := rows.Scan(&b.ID, &b.ProviderID, &b.PatientID, &status, &b.Start, &b.End, &b.HoldExpiresAt, &b.Revision); err != nil {
			rows.Close()
			return nil, err
		}
		b.Status = domain.Status(status)
		s.bookings[b.ID] = b
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = pool.Query(ctx, `SELECT e.booking_id, e.key, e.type, e.at, e.detail FROM booking_events e
		JOIN bookings b ON b.id = e.booking_id WHERE b.provider_id = ANY($1) ORDER BY e.id`, providers)
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	for rows.Next() {
		var e Event
		if err := rows.Scan(&e.BookingID, &e.Key, &e.Type, &e.At, &e.Detail); err != nil {
			rows.Close()
			return nil, err
		}
		s.events[e.BookingID] = append(s.events[e.BookingID], e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = pool.Query(ctx, `SELECT n.id, n.booking_id, n.kind, n.variant, n.channel, n.revision, n.status,
			coalesce(n.provider_message_id, ''), n.error, n.created_at, n.updated_at
		FROM notifications n JOIN bookings b ON b.id = n.booking_id WHERE b.provider_id = ANY($1)`, providers)
	if err != nil {
		return nil, fmt.Errorf("read notifications: %w", err)
	}
	for rows.Next() {
		var n Notification
		if err := rows.Scan(&n.ID, &n.BookingID, &n.Kind, &n.Variant, &n.Channel, &n.Revision, &n.Status,
			&n.ProviderMessageID, &n.Error, &n.CreatedAt, &n.UpdatedAt); err != nil {
			rows.Close()
			return nil, err
		}
		s.notifs = append(s.notifs, n)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = pool.Query(ctx, `SELECT lower(email), phone FROM users WHERE id = ANY($1)`, patients)
	if err != nil {
		return nil, fmt.Errorf("read users: %w", err)
	}
	for rows.Next() {
		var email, phone string
		if err := rows.Scan(&email, &phone); err != nil {
			rows.Close()
			return nil, err
		}
		s.emails[email], s.phones[phone] = true, true
	}
	return s, rows.Err()
}

// holdMonitor watches, while the run lasts, for holds still held after their expiry.
type holdMonitor struct {
	pool *pgxpool.Pool
	mu   sync.Mutex
	seen []HoldSighting
	// checks counts the looks taken; holds the distinct holds seen past their expiry.
	checks int
	errors int
}

func (m *holdMonitor) run(ctx context.Context, providers []string) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		m.look(ctx, providers)
	}
}

func (m *holdMonitor) look(ctx context.Context, providers []string) {
	qctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	now := time.Now()
	rows, err := m.pool.Query(qctx, `SELECT id, hold_expires_at FROM bookings
		WHERE status = 'held' AND hold_expires_at < $2 AND provider_id = ANY($1)`, providers, now)
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		m.errors++ // PostgreSQL restarting: a look missed
		return
	}
	defer rows.Close()
	for rows.Next() {
		var s HoldSighting
		if err := rows.Scan(&s.BookingID, &s.Expiry); err != nil {
			m.errors++
			return
		}
		s.At = now
		m.seen = append(m.seen, s)
	}
	if rows.Err() != nil {
		m.errors++
		return
	}
	m.checks++
}

func (m *holdMonitor) sightings() ([]HoldSighting, int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]HoldSighting(nil), m.seen...), m.checks
}

// quiet reports what still keeps the platform from being at rest: messages in flight,
// timers due and not fired, closed bookings whose workflow still runs. "" means at rest.
func quiet(ctx context.Context, s *snapshot, tc client.Client, t Timing, acked map[string]bool) string {
	var pending []string
	const slack = 3 * time.Second
	now := s.at
	for _, n := range s.notifs {
		if n.Status == "pending" || n.Status == "sending" {
			pending = append(pending, "message "+n.Kind+" "+n.Channel+" of "+n.BookingID+" "+n.Status)
		}
	}
	rowKeys := map[NotifKey]bool{}
	for _, n := range s.notifs {
		rowKeys[NotifKey{n.BookingID, n.Kind, n.Variant, n.Revision, n.Channel}] = true
	}
	for _, b := range s.bookings {
		if b.Status == domain.StatusHeld && b.HoldExpiresAt != nil && now.After(b.HoldExpiresAt.Add(slack)) {
			pending = append(pending, "hold "+b.ID+" past its expiry")
		}
		if why := OverdueTimer(b, t, slack, now); why != "" {
			pending = append(pending, "booking "+b.ID+" "+why)
		}
		for _, k := range ExpectedMessages(b, s.events[b.ID], acked[b.ID], now.Add(-slack)) {
			if !rowKeys[k] {
				pending = append(pending, "message "+k.String()+" not started")
			}
		}
	}
	if tc != nil {
		q := `WorkflowType = 'BookingWorkflow' AND ExecutionStatus = 'Running' AND BookingStatus IN ('expired', 'cancelled', 'no_show', 'completed')`
		resp, err := tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: q, PageSize: 50})
		if err != nil {
			pending = append(pending, "Temporal: "+err.Error())
		} else {
			for _, e := range resp.Executions {
				pending = append(pending, "workflow "+e.GetExecution().GetWorkflowId()+" still running for a closed booking")
			}
		}
	}
	sort.Strings(pending)
	if len(pending) == 0 {
		return ""
	}
	if len(pending) > 5 {
		return fmt.Sprintf("%s and %d more", strings.Join(pending[:5], "; "), len(pending)-5)
	}
	return strings.Join(pending, "; ")
}

// sameMessages reports whether two reads found the same notification rows in the same states.
func sameMessages(a, b *snapshot) bool {
	if len(a.notifs) != len(b.notifs) {
		return false
	}
	seen := make(map[string]Notification, len(a.notifs))
	for _, n := range a.notifs {
		seen[n.ID] = n
	}
	for _, n := range b.notifs {
		if o, ok := seen[n.ID]; !ok || o.Status != n.Status || o.ProviderMessageID != n.ProviderMessageID {
			return false
		}
	}
	return true
}

// execution is one workflow run as Temporal's visibility lists it.
type execution struct {
	ID, RunID, Type string
	Status          enums.WorkflowExecutionStatus
}

// listExecutions lists every workflow execution in the namespace: id, type and status.
func listExecutions(ctx context.Context, tc client.Client) ([]execution, error) {
	var out []execution
	var token []byte
	for {
		resp, err := tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{PageSize: 1000, NextPageToken: token})
		if err != nil {
			return nil, err
		}
		for _, e := range resp.Executions {
			out = append(out, execution{ID: e.GetExecution().GetWorkflowId(), RunID: e.GetExecution().GetRunId(),
				Type: e.GetType().GetName(), Status: e.GetStatus()})
		}
		token = resp.NextPageToken
		if len(token) == 0 {
			return out, nil
		}
	}
}

// Check is one invariant's (or fault's) outcome, as printed.
type Check struct {
	Name       string
	Summary    string
	Violations []string
	// Err is a check that could not be made: a failure too.
	Err error
}

// Passed reports whether the check holds.
func (c Check) Passed() bool { return c.Err == nil && len(c.Violations) == 0 }

// auditInput is what the auditor looks at.
type auditInput struct {
	snap       *snapshot
	execs      []execution
	sms        []SMS
	mails      []Mail
	records    []Record
	sightings  []HoldSighting
	holdChecks int
	blackouts  []Window
	plans      []*TimerPlan
	timing     Timing
	// describe double-checks, from Temporal itself rather than its visibility store, a
	// live booking's workflow that the listing did not show running; nil skips it.
	describe func(workflowID string) (enums.WorkflowExecutionStatus, error)
}

// audit checks every invariant.
func audit(in auditInput) []Check {
	now := in.snap.at
	acked := map[string]bool{}
	for _, r := range in.records {
		if r.LastAck() != nil {
			acked[r.ID] = true
		}
	}
	var checks []Check

	// Every acknowledged booking is in the database, in a state its commands and timers
	// explain, and no timer due is left unfired.
	c := Check{Name: "acknowledged-state"}
	n := 0
	for _, r := range in.records {
		if !acked[r.ID] {
			continue
		}
		n++
		var db *Booking
		if b, ok := in.snap.bookings[r.ID]; ok {
			db = &b
		}
		if why := StateCheck(r, db, in.timing, now); why != "" {
			c.Violations = append(c.Violations, r.ID+": "+why)
		}
	}
	overdue := 0
	for _, b := range in.snap.bookings {
		if why := OverdueTimer(b, in.timing, 15*time.Second, now); why != "" {
			overdue++
			c.Violations = append(c.Violations, b.ID+": "+why)
		}
	}
	c.Summary = fmt.Sprintf("%d acknowledged bookings checked against %d in the database; %d lost or in a wrong state, %d timers overdue",
		n, len(in.snap.bookings), len(c.Violations)-overdue, overdue)
	checks = append(checks, c)

	// No two live bookings overlap for one doctor.
	c = Check{Name: "no-overlap"}
	var all []Booking
	live := 0
	for _, b := range in.snap.bookings {
		all = append(all, b)
		if b.Status.Occupies() {
			live++
		}
	}
	for _, pair := range Overlaps(all) {
		c.Violations = append(c.Violations, pair[0]+" overlaps "+pair[1])
	}
	c.Summary = fmt.Sprintf("%d live bookings (held, confirmed, checked in) of %d, %d overlaps", live, len(all), len(c.Violations))
	checks = append(checks, c)

	// Exactly one message per needed kind and channel.
	var needed []NotifKey
	for _, b := range in.snap.bookings {
		needed = append(needed, ExpectedMessages(b, in.snap.events[b.ID], acked[b.ID], now)...)
	}
	rep := CheckMessages(needed, in.snap.notifs, in.sms, in.mails, in.snap.phones, in.snap.emails, isCode)
	c = Check{Name: "messages-once"}
	c.Violations = append(append(append(append(c.Violations, rep.Missing...), rep.Duplicated...), rep.Stuck...), rep.Failed...)
	c.Summary = fmt.Sprintf("%d messages needed, %d rows checked (%d SMS, %d email) against %d SMS and %d emails received; %d skipped as overtaken; %d lost, %d duplicated, %d stuck, %d failed",
		len(needed), rep.Checked["sms"]+rep.Checked["email"], rep.Checked["sms"], rep.Checked["email"], len(in.sms), len(in.mails),
		rep.Skipped, len(rep.Missing), len(rep.Duplicated), len(rep.Stuck), len(rep.Failed))
	checks = append(checks, c)

	// One running workflow per live booking, none for a closed one, none failed.
	c = Check{Name: "one-workflow"}
	running := map[string]int{}
	bad := map[enums.WorkflowExecutionStatus]int{}
	for _, e := range in.execs {
		if e.Status == enums.WORKFLOW_EXECUTION_STATUS_RUNNING {
			running[e.ID]++
		}
		switch e.Status {
		case enums.WORKFLOW_EXECUTION_STATUS_FAILED, enums.WORKFLOW_EXECUTION_STATUS_TERMINATED, enums.WORKFLOW_EXECUTION_STATUS_TIMED_OUT:
			bad[e.Status]++
			c.Violations = append(c.Violations, fmt.Sprintf("%s (%s) %s", e.ID, e.Type, strings.ToLower(strings.TrimPrefix(e.Status.String(), "WORKFLOW_EXECUTION_STATUS_"))))
		}
	}
	for _, b := range in.snap.bookings {
		id := "booking-" + b.ID
		n := running[id]
		if b.Status.Occupies() && n != 1 && in.describe != nil {
			if st, err := in.describe(id); err == nil && st == enums.WORKFLOW_EXECUTION_STATUS_RUNNING {
				n = 1
			}
		}
		switch {
		case b.Status.Occupies() && n != 1:
			c.Violations = append(c.Violations, fmt.Sprintf("%s is %s with %d running workflows", b.ID, b.Status, n))
		case !b.Status.Occupies() && n > 0:
			c.Violations = append(c.Violations, fmt.Sprintf("%s is %s but its workflow still runs", b.ID, b.Status))
		}
	}
	c.Summary = fmt.Sprintf("%d workflows, %d live bookings each with one running; %d failed, %d terminated, %d timed out",
		len(in.execs), live, bad[enums.WORKFLOW_EXECUTION_STATUS_FAILED], bad[enums.WORKFLOW_EXECUTION_STATUS_TERMINATED],
		bad[enums.WORKFLOW_EXECUTION_STATUS_TIMED_OUT])
	checks = append(checks, c)

	// No hold live past its expiry plus the reconciler's interval (outside blackouts).
	c = Check{Name: "holds-expire"}
	grace := in.timing.ReconcileInterval + 5*time.Second
	sightings := append([]HoldSighting(nil), in.sightings...)
	holds := 0
	for _, b := range in.snap.bookings {
		if b.HoldExpiresAt != nil && b.Status == domain.StatusHeld {
			sightings = append(sightings, HoldSighting{BookingID: b.ID, Expiry: *b.HoldExpiresAt, At: now})
		}
	}
	for _, r := range in.records {
		if len(r.Commands) > 0 && r.Commands[0].Name == CmdHold {
			holds++
		}
	}
	late := LateHolds(sightings, grace, in.blackouts)
	lateIDs := make([]string, 0, len(late))
	for id, d := range late {
		lateIDs = append(lateIDs, fmt.Sprintf("%s held %v past expiry + %v", id, d.Round(time.Second), grace))
	}
	sort.Strings(lateIDs)
	c.Violations = lateIDs
	distinct := map[string]bool{}
	for _, s := range in.sightings {
		distinct[s.BookingID] = true
	}
	c.Summary = fmt.Sprintf("%d looks at %d acknowledged holds; %d seen past expiry (%d blackouts excused), %d past expiry + %v",
		in.holdChecks, holds, len(distinct), len(in.blackouts), len(late), grace)
	checks = append(checks, c)

	// The timers due while no worker ran fired once they came back: late, but once.
	c = Check{Name: "late-timers"}
	due, fired := 0, 0
	for _, plan := range in.plans {
		for _, t := range plan.Due {
			due++
			if why := lateTimerFired(t, plan.Down, in.snap); why != "" {
				c.Violations = append(c.Violations, fmt.Sprintf("%s %s%s due %s: %s", t.BookingID, t.Kind, variantSuffix(t.Variant),
					t.At.Format(time.TimeOnly), why))
			} else {
				fired++
			}
		}
	}
	if len(in.plans) == 0 {
		c.Err = errors.New("the worker-down fault did not run")
	}
	c.Summary = fmt.Sprintf("%d timers due while the workers were down, %d fired after they returned, once", due, fired)
	checks = append(checks, c)
	for i := range checks {
		if len(checks[i].Violations) > 0 {
			sort.Strings(checks[i].Violations)
		}
	}
	return checks
}

func variantSuffix(v string) string {
	if v == "" {
		return ""
	}
	return " " + v
}

// lateTimerFired checks that a timer due inside the window did its work after it: the status
// it leads to, and its messages on both channels, each row once.
func lateTimerFired(t DueTimer, down Window, s *snapshot) string {
	b, ok := s.bookings[t.BookingID]
	if !ok {
		return "booking missing"
	}
	var kind string
	switch t.Kind {
	case "expiry":
		if b.Status != domain.StatusExpired {
			return "booking is " + string(b.Status) + ", not expired"
		}
		kind = domain.NotifyHoldExpired
	case "no-show":
		if b.Status != domain.StatusNoShow {
			return "booking is " + string(b.Status) + ", not no_show"
		}
		kind = domain.NotifyNoShow
	case "reminder":
		kind = domain.NotifyReminder
	}
	for _, ch := range Channels {
		var rows []Notification
		for _, n := range s.notifs {
			if n.BookingID == t.BookingID && n.Kind == kind && n.Channel == ch && (t.Kind != "reminder" || n.Variant == t.Variant) {
				rows = append(rows, n)
			}
		}
		if len(rows) != 1 {
			return fmt.Sprintf("%d %s %s messages, want 1", len(rows), kind, ch)
		}
		if rows[0].CreatedAt.Before(down.To) {
			return fmt.Sprintf("%s %s recorded at %s, while the workers were down", kind, ch, rows[0].CreatedAt.Format(time.TimeOnly))
		}
		if !sentStatuses[rows[0].Status] && !(rows[0].Status == "skipped" && overtakenReason(rows[0].Error)) {
			return fmt.Sprintf("%s %s is %s", kind, ch, rows[0].Status)
		}
	}
	return ""
}

var uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// explainRestless says, for the bookings that kept the platform from coming to rest, what
// their workflows are waiting on: pending activities with their attempts and last failures,
// and a workflow task that keeps failing. A run that did not come to rest is otherwise
// hard to explain once its stack is gone.
func explainRestless(ctx context.Context, tc client.Client, restless string) []string {
	var out []string
	seen := map[string]bool{}
	for _, id := range uuidRE.FindAllString(restless, -1) {
		if seen[id] || len(seen) == 5 {
			continue
		}
		seen[id] = true
		wid := "booking-" + id
		desc, err := tc.DescribeWorkflowExecution(ctx, wid, "")
		if err != nil {
			out = append(out, wid+": "+err.Error())
			continue
		}
		info := desc.GetWorkflowExecutionInfo()
		line := fmt.Sprintf("%s: %s, history length %d", wid, info.GetStatus(), info.GetHistoryLength())
		for _, a := range desc.GetPendingActivities() {
			line += fmt.Sprintf("; activity %s %s attempt %d", a.GetActivityType().GetName(), a.GetState(), a.GetAttempt())
			if f := a.GetLastFailure(); f != nil {
				line += " last failure: " + f.GetMessage()
			}
		}
		if wt := desc.GetPendingWorkflowTask(); wt != nil {
			line += fmt.Sprintf("; workflow task %s attempt %d", wt.GetState(), wt.GetAttempt())
		}
		out = append(out, line)
	}
	return out
}
