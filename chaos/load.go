package chaos

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// The load: simulated patients over HTTP only, as a client app would drive the platform.
// Each registers and verifies both contacts (codes read from the sandbox and Mailpit), then
// loops over scenarios: bookings held and confirmed, cancelled, moved, left to expire, booked
// a few minutes ahead so that reminders and no-shows fall due within the run, checked in by
// the front desk (the admin), and races for one slot.

// Doctors: the general ones take the load's near-term bookings; the reserved ones only the
// bookings the worker-down fault plans around, so their next minutes are always free. Each
// doctor of a group starts work a minute after the one before (offsets 0 to 4), so that with a
// 5-minute service the group has a slot starting every minute (the general group twice).
const (
	generalDoctors  = 10
	reservedDoctors = 5
	serviceMinutes  = 5
)

type doctor struct {
	ID     string
	Offset int // minutes after midnight UTC their day starts
}

type patient struct {
	ID, Email, Phone, Token string
	// rng is the patient's own: its loop, its follow-ups and the fault planner draw from it.
	rng *lockedRand
}

// lockedRand is a seeded source several goroutines may draw from.
type lockedRand struct {
	mu sync.Mutex
	r  *rand.Rand
}

func newRand(seed, stream uint64) *lockedRand {
	return &lockedRand{r: rand.New(rand.NewPCG(seed, stream))}
}

func (l *lockedRand) IntN(n int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.IntN(n)
}

func (l *lockedRand) Int64N(n int64) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Int64N(n)
}

// LoadProfile is how hard the load pushes.
type LoadProfile struct {
	Patients int
	// Think is the pause between a patient's scenarios, drawn from [Think, 2*Think).
	Think time.Duration
	// SoonMin and SoonMax bound how far ahead near-term bookings start.
	SoonMin, SoonMax time.Duration
}

// Driver runs the load.
type Driver struct {
	api      *apiClient
	stack    *Stack
	timing   Timing
	profile  LoadProfile
	ledger   *Ledger
	logf     func(string, ...any)
	seed     uint64
	runID    string
	admin    string
	service  string
	general  []doctor
	reserved []doctor
	patients []*patient

	// after runs follow-ups of near-term bookings (check-in, cancel); they stop with the load.
	after       sync.WaitGroup
	scenarios   atomic.Int64
	soon        atomic.Int64 // near-term bookings confirmed
	errorsSeen  atomic.Int64
	errMu       sync.Mutex
	errSamples  []string
	reservedMu  sync.Mutex
	reservedUse map[string]bool // reserved doctor slots taken by plans, "doctor|start"
}

func newDriver(st *Stack, profile LoadProfile, seed uint64, logf func(string, ...any)) *Driver {
	return &Driver{
		api: newAPIClient(st.APIURL(), 150*time.Second), stack: st, timing: st.Timing, profile: profile,
		ledger: newLedger(), logf: logf, seed: seed, runID: fmt.Sprintf("%x", seed&0xffffff),
		reservedUse: map[string]bool{},
	}
}

func (d *Driver) noteError(err error) {
	if err == nil || errors.Is(err, context.Canceled) {
		return
	}
	d.errorsSeen.Add(1)
	d.errMu.Lock()
	defer d.errMu.Unlock()
	if len(d.errSamples) < 10 {
		d.errSamples = append(d.errSamples, err.Error())
	}
}

// ErrorSamples are a few of the unexpected answers the load met (refusals the scenarios
// expect, such as a slot taken, are not among them).
func (d *Driver) ErrorSamples() []string {
	d.errMu.Lock()
	defer d.errMu.Unlock()
	return append([]string(nil), d.errSamples...)
}

// call is apiClient.do with a fresh key.
func (d *Driver) call(ctx context.Context, method, path, token string, body any) (answer, error) {
	return d.api.do(ctx, method, path, token, body, uuid.NewString())
}

// Setup logs the admin in, creates the service and the doctors, and registers and verifies
// the patients.
func (d *Driver) Setup(ctx context.Context) error {
	a, err := d.call(ctx, http.MethodPost, "/v1/auth/login", "", map[string]string{
		"email": d.stack.AdminEmail, "password": d.stack.AdminPassword})
	if err != nil {
		return err
	}
	var tokens struct {
		AccessToken string `json:"access_token"`
	}
	if a.code != http.StatusOK {
		return fmt.Errorf("admin login: %d %s", a.code, a.body)
	}
	if err := a.decode(&tokens); err != nil {
		return err
	}
	d.admin = tokens.AccessToken

	a, err = d.call(ctx, http.MethodPost, "/v1/services", d.admin, map[string]any{
		"name": "Chaos check-up " + d.runID, "duration_minutes": serviceMinutes})
	if err != nil {
		return err
	}
	var svc struct{ ID string }
	if a.code != http.StatusCreated {
		return fmt.Errorf("create service: %d %s", a.code, a.body)
	}
	if err := a.decode(&svc); err != nil {
		return err
	}
	d.service = svc.ID

	for i := range generalDoctors + reservedDoctors {
		doc, err := d.createDoctor(ctx, i, i%serviceMinutes)
		if err != nil {
			return err
		}
		if i < generalDoctors {
			d.general = append(d.general, doc)
		} else {
			d.reserved = append(d.reserved, doc)
		}
	}

	rng := rand.New(rand.NewPCG(d.seed, 1))
	errs := make(chan error, d.profile.Patients)
	d.patients = make([]*patient, d.profile.Patients)
	var wg sync.WaitGroup
	for i := range d.profile.Patients {
		p := &patient{
			Email: fmt.Sprintf("patient-%s-%d@chaos.test", d.runID, i),
			Phone: fmt.Sprintf("+1555%03d%04d", rng.IntN(1000), 1000+i),
			rng:   newRand(d.seed, uint64(100+i)),
		}
		d.patients[i] = p
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- d.register(ctx, p)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func (d *Driver) createDoctor(ctx context.Context, i, offset int) (doctor, error) {
	a, err := d.call(ctx, http.MethodPost, "/v1/providers", d.admin, map[string]any{
		"name": fmt.Sprintf("Dr. Chaos %d", i+1), "specialty": "General practice", "time_zone": "UTC"})
	if err != nil {
		return doctor{}, err
	}
	var p struct{ ID string }
	if a.code != http.StatusCreated {
		return doctor{}, fmt.Errorf("create doctor: %d %s", a.code, a.body)
	}
	if err := a.decode(&p); err != nil {
		return doctor{}, err
	}
	// Every day from 00:0<offset> to midnight UTC: slots now and in the next minutes,
	// whenever the run happens.
	var weekly []map[string]any
	for wd := range 7 {
		weekly = append(weekly, map[string]any{"weekday": wd, "start": fmt.Sprintf("00:%02d", offset), "end": "24:00"})
	}
	a, err = d.call(ctx, http.MethodPut, "/v1/providers/"+p.ID+"/schedule", d.admin, map[string]any{"weekly": weekly})
	if err != nil {
		return doctor{}, err
	}
	if a.code != http.StatusOK {
		return doctor{}, fmt.Errorf("schedule: %d %s", a.code, a.body)
	}
	return doctor{ID: p.ID, Offset: offset}, nil
}

var codeRE = regexp.MustCompile(`\b(\d{6})\b`)

// register signs a patient up and verifies both contacts with the codes the sandbox and
// Mailpit received, so that every booking message goes out on both channels.
func (d *Driver) register(ctx context.Context, p *patient) error {
	a, err := d.call(ctx, http.MethodPost, "/v1/auth/register", "", map[string]string{
		"email": p.Email, "password": "chaos-pass-123", "name": "Chaos Patient", "phone": p.Phone})
	if err != nil {
		return err
	}
	if a.code != http.StatusCreated {
		return fmt.Errorf("register %s: %d %s", p.Email, a.code, a.body)
	}
	var out struct {
		User        struct{ ID string } `json:"user"`
		AccessToken string              `json:"access_token"`
	}
	if err := a.decode(&out); err != nil {
		return err
	}
	p.ID, p.Token = out.User.ID, out.AccessToken
	for _, ch := range Channels {
		if err := d.verify(ctx, p, ch); err != nil {
			return fmt.Errorf("verify %s of %s: %w", ch, p.Email, err)
		}
	}
	return nil
}

func (d *Driver) verify(ctx context.Context, p *patient, channel string) error {
	a, err := d.call(ctx, http.MethodPost, "/v1/me/verify", p.Token, map[string]string{"channel": channel})
	if err != nil {
		return err
	}
	if a.code != http.StatusAccepted {
		return fmt.Errorf("%d %s", a.code, a.body)
	}
	var code string
	deadline := time.Now().Add(30 * time.Second)
	for code == "" {
		if time.Now().After(deadline) {
			return errors.New("no code arrived in 30s")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if channel == "sms" {
			var out struct{ Messages []SMS }
			if err := getJSON(ctx, d.stack.SandboxURL()+"/api/messages?to="+url.QueryEscape(p.Phone), &out); err != nil {
				return err
			}
			for _, m := range out.Messages {
				if m := codeRE.FindStringSubmatch(m.Body); m != nil {
					code = m[1]
					break
				}
			}
			continue
		}
		mails, err := listMail(ctx, d.stack.MailpitURL())
		if err != nil {
			return err
		}
		for _, m := range mails {
			if len(m.To) == 0 || !strings.EqualFold(m.To[0].Address, p.Email) {
				continue
			}
			var full struct{ Text string }
			if err := getJSON(ctx, d.stack.MailpitURL()+"/api/v1/message/"+m.ID, &full); err != nil {
				return err
			}
			if m := codeRE.FindStringSubmatch(full.Text); m != nil {
				code = m[1]
			}
			break
		}
	}
	a, err = d.call(ctx, http.MethodPost, "/v1/me/verify/confirm", p.Token, map[string]string{"channel": channel, "code": code})
	if err != nil {
		return err
	}
	if a.code != http.StatusOK {
		return fmt.Errorf("confirm: %d %s", a.code, a.body)
	}
	return nil
}

// isCode tells a verification code's SMS from a booking's.
func isCode(body string) bool { return strings.Contains(body, "verification code") }

// ---------------------------------------------------------------------------------------
// Commands, each recorded in the ledger with its outcome.

func outcomeOf(err error, code int) Outcome {
	switch {
	case err != nil:
		return Unknown
	case code == http.StatusOK || code == http.StatusCreated:
		return Acked
	}
	return Refused
}

// hold asks for a slot; it returns the booking when the answer was 201.
func (d *Driver) hold(ctx context.Context, p *patient, doc doctor, start time.Time) (*View, int, error) {
	at := time.Now()
	a, err := d.call(ctx, http.MethodPost, "/v1/bookings", p.Token, map[string]any{
		"provider_id": doc.ID, "service_id": d.service, "start": start.UTC().Format(time.RFC3339)})
	o := outcomeOf(err, a.code)
	var v *View
	if o == Acked {
		v = new(View)
		if derr := a.decode(v); derr != nil {
			d.noteError(derr)
			o, v = Unknown, nil
		}
	}
	d.ledger.hold(p.ID, doc.ID, at, v, o, a.code)
	if err != nil {
		d.noteError(err)
	} else if o == Refused && a.code != http.StatusConflict {
		// 409 is a slot somebody else took first: expected. Anything else is worth a look.
		d.noteError(fmt.Errorf("hold at %s: %d %s", start.Format(time.RFC3339), a.code, truncate(string(a.body), 300)))
	}
	return v, a.code, err
}

// command sends a command on booking id and records it.
func (d *Driver) command(ctx context.Context, token, id, name, path string, body any, start time.Time) (*View, int, error) {
	at := time.Now()
	a, err := d.call(ctx, http.MethodPost, "/v1/bookings/"+id+"/"+path, token, body)
	o := outcomeOf(err, a.code)
	c := Command{Name: name, At: at, Outcome: o, Code: a.code, Start: start}
	if o == Acked {
		v := new(View)
		if derr := a.decode(v); derr != nil {
			d.noteError(derr)
			c.Outcome = Unknown
		} else {
			c.Result = v
		}
	}
	d.ledger.command(id, c)
	if err != nil {
		d.noteError(err)
	} else if o == Refused && a.code != http.StatusConflict {
		d.noteError(fmt.Errorf("%s %s: %d %s", name, id, a.code, truncate(string(a.body), 300)))
	}
	return c.Result, a.code, err
}

func (d *Driver) confirm(ctx context.Context, p *patient, id string) (*View, int, error) {
	return d.command(ctx, p.Token, id, CmdConfirm, "confirm", nil, time.Time{})
}

func (d *Driver) cancel(ctx context.Context, p *patient, id string) (*View, int, error) {
	return d.command(ctx, p.Token, id, CmdCancel, "cancel", map[string]string{"reason": "chaos"}, time.Time{})
}

func (d *Driver) reschedule(ctx context.Context, p *patient, id string, start time.Time) (*View, int, error) {
	return d.command(ctx, p.Token, id, CmdReschedule, "reschedule", map[string]string{"start": start.UTC().Format(time.RFC3339)}, start)
}

// checkIn is the front desk's: the admin checks the patient in.
func (d *Driver) checkIn(ctx context.Context, id string) (*View, int, error) {
	return d.command(ctx, d.admin, id, CmdCheckIn, "check-in", nil, time.Time{})
}

// slots lists a doctor's free slots in [from, to).
func (d *Driver) slots(ctx context.Context, doc doctor, from, to time.Time) ([]time.Time, error) {
	q := url.Values{"service_id": {d.service}, "from": {from.UTC().Format(time.RFC3339)}, "to": {to.UTC().Format(time.RFC3339)}}
	a, err := d.api.do(ctx, http.MethodGet, "/v1/providers/"+doc.ID+"/availability?"+q.Encode(), "", nil, "")
	if err != nil {
		return nil, err
	}
	if a.code != http.StatusOK {
		return nil, fmt.Errorf("availability: %d %s", a.code, truncate(string(a.body), 200))
	}
	var out struct {
		Slots []struct{ Start time.Time } `json:"slots"`
	}
	if err := a.decode(&out); err != nil {
		return nil, err
	}
	starts := make([]time.Time, len(out.Slots))
	for i, s := range out.Slots {
		starts[i] = s.Start
	}
	return starts, nil
}

// farSlot is a random free slot one to fourteen days ahead, with any doctor.
func (d *Driver) farSlot(ctx context.Context, p *patient) (doctor, time.Time, bool) {
	all := append(append([]doctor(nil), d.general...), d.reserved...)
	doc := all[p.rng.IntN(len(all))]
	from := time.Now().UTC().Truncate(time.Hour).Add(time.Duration(24+p.rng.IntN(13*24)) * time.Hour)
	starts, err := d.slots(ctx, doc, from, from.Add(2*time.Hour))
	if err != nil {
		d.noteError(err)
		return doc, time.Time{}, false
	}
	if len(starts) == 0 {
		return doc, time.Time{}, false
	}
	return doc, starts[p.rng.IntN(len(starts))], true
}

// soonSlot is the earliest free slot of the general doctors between SoonMin and SoonMax ahead.
func (d *Driver) soonSlot(ctx context.Context, p *patient) (doctor, time.Time, bool) {
	now := time.Now()
	type cand struct {
		doc   doctor
		start time.Time
	}
	var cands []cand
	for _, doc := range d.general {
		// Availability lists the slots that lie wholly inside the range.
		starts, err := d.slots(ctx, doc, now.Add(d.profile.SoonMin), now.Add(d.profile.SoonMax+serviceMinutes*time.Minute))
		if err != nil {
			d.noteError(err)
			continue
		}
		for _, s := range starts {
			if !s.After(now.Add(d.profile.SoonMax)) {
				cands = append(cands, cand{doc, s})
			}
		}
	}
	if len(cands) == 0 {
		return doctor{}, time.Time{}, false
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].start.Before(cands[j].start) })
	c := cands[p.rng.IntN(min(2, len(cands)))]
	return c.doc, c.start, true
}

// sleep waits d or until ctx ends; it reports whether the full wait happened.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// ---------------------------------------------------------------------------------------
// Scenarios.

type scenario struct {
	name   string
	weight int
	run    func(ctx context.Context, p *patient)
}

func (d *Driver) scenarioList() []scenario {
	return []scenario{
		{"confirm", 10, d.scConfirm},
		{"confirm-cancel", 10, d.scConfirmCancel},
		{"confirm-move", 12, d.scConfirmMove},
		{"hold-cancel", 8, d.scHoldCancel},
		{"hold-expire", 8, d.scHoldExpire},
		{"hold-move-confirm", 6, d.scHoldMoveConfirm},
		{"soon", 18, d.scSoon},
		{"race", 8, d.scRace},
	}
}

// Run drives the load until ctx ends: each patient runs scenarios one after another.
// followUps bounds the near-term bookings' follow-ups (check-ins, cancels), which are
// dropped when it ends.
func (d *Driver) Run(ctx, followUps context.Context) {
	list := d.scenarioList()
	total := 0
	for _, s := range list {
		total += s.weight
	}
	var wg sync.WaitGroup
	for _, p := range d.patients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				n := p.rng.IntN(total)
				for _, s := range list {
					if n < s.weight {
						d.scenarios.Add(1)
						s.run(withFollowUps(ctx, followUps), p)
						break
					}
					n -= s.weight
				}
				sleep(ctx, d.profile.Think+time.Duration(p.rng.Int64N(int64(d.profile.Think))))
			}
		}()
	}
	wg.Wait()
}

type followUpsKey struct{}

// withFollowUps lets a scenario started under the load's context hand follow-ups the
// longer-lived one.
func withFollowUps(ctx, followUps context.Context) context.Context {
	return context.WithValue(ctx, followUpsKey{}, followUps)
}

func followUpsOf(ctx context.Context) context.Context {
	if f, ok := ctx.Value(followUpsKey{}).(context.Context); ok {
		return f
	}
	return ctx
}

// WaitFollowUps waits for the near-term bookings' follow-ups to end.
func (d *Driver) WaitFollowUps() { d.after.Wait() }

// pause is a client's moment of thought between two steps of one booking.
func (d *Driver) pause(ctx context.Context, p *patient) {
	sleep(ctx, time.Duration(200+p.rng.IntN(1500))*time.Millisecond)
}

// heldFar holds a far slot, trying a few.
func (d *Driver) heldFar(ctx context.Context, p *patient) (*View, doctor) {
	for range 3 {
		doc, start, ok := d.farSlot(ctx, p)
		if !ok {
			continue
		}
		v, _, _ := d.hold(ctx, p, doc, start)
		if v != nil {
			return v, doc
		}
	}
	return nil, doctor{}
}

func (d *Driver) confirmedFar(ctx context.Context, p *patient) (*View, doctor) {
	v, doc := d.heldFar(ctx, p)
	if v == nil {
		return nil, doc
	}
	d.pause(ctx, p)
	c, _, _ := d.confirm(ctx, p, v.ID)
	return c, doc
}

func (d *Driver) scConfirm(ctx context.Context, p *patient) { d.confirmedFar(ctx, p) }

// scConfirmCancel confirms, cancels, and sends the cancel again with the same key (a client
// that never saw the first answer) and once more with a new key.
func (d *Driver) scConfirmCancel(ctx context.Context, p *patient) {
	v, _ := d.confirmedFar(ctx, p)
	if v == nil {
		return
	}
	d.pause(ctx, p)
	key := uuid.NewString()
	for range 2 {
		at := time.Now()
		a, err := d.api.do(ctx, http.MethodPost, "/v1/bookings/"+v.ID+"/cancel", p.Token, map[string]string{"reason": "chaos"}, key)
		c := Command{Name: CmdCancel, At: at, Outcome: outcomeOf(err, a.code), Code: a.code}
		if c.Outcome == Acked {
			c.Result = new(View)
			if derr := a.decode(c.Result); derr != nil {
				c.Outcome, c.Result = Unknown, nil
			}
		}
		d.ledger.command(v.ID, c)
		if err != nil {
			d.noteError(err)
		} else if c.Outcome == Refused {
			d.noteError(fmt.Errorf("repeated cancel %s: %d %s", v.ID, a.code, truncate(string(a.body), 300)))
		}
	}
	d.cancel(ctx, p, v.ID)
}

// scConfirmMove confirms and moves the booking once or twice.
func (d *Driver) scConfirmMove(ctx context.Context, p *patient) {
	v, doc := d.confirmedFar(ctx, p)
	if v == nil {
		return
	}
	for range 1 + p.rng.IntN(2) {
		d.pause(ctx, p)
		d.moveFar(ctx, p, doc, v.ID)
	}
}

func (d *Driver) moveFar(ctx context.Context, p *patient, doc doctor, id string) {
	from := time.Now().UTC().Truncate(time.Hour).Add(time.Duration(24+p.rng.IntN(13*24)) * time.Hour)
	starts, err := d.slots(ctx, doc, from, from.Add(2*time.Hour))
	if err != nil || len(starts) == 0 {
		d.noteError(err)
		return
	}
	d.reschedule(ctx, p, id, starts[p.rng.IntN(len(starts))])
}

func (d *Driver) scHoldCancel(ctx context.Context, p *patient) {
	v, _ := d.heldFar(ctx, p)
	if v == nil {
		return
	}
	d.pause(ctx, p)
	d.cancel(ctx, p, v.ID)
}

// scHoldExpire leaves the hold to expire; now and then the patient comes back too late and
// tries to confirm it (409).
func (d *Driver) scHoldExpire(ctx context.Context, p *patient) {
	v, _ := d.heldFar(ctx, p)
	if v == nil || p.rng.IntN(3) > 0 {
		return
	}
	fctx := followUpsOf(ctx)
	d.after.Add(1)
	go func() {
		defer d.after.Done()
		if sleep(fctx, d.timing.HoldTTL+2*time.Second) {
			d.confirm(fctx, p, v.ID)
		}
	}()
}

func (d *Driver) scHoldMoveConfirm(ctx context.Context, p *patient) {
	v, doc := d.heldFar(ctx, p)
	if v == nil {
		return
	}
	d.pause(ctx, p)
	d.moveFar(ctx, p, doc, v.ID)
	d.pause(ctx, p)
	d.confirm(ctx, p, v.ID)
}

// scRace: two patients ask for one slot at once; one gets it.
func (d *Driver) scRace(ctx context.Context, p *patient) {
	doc, start, ok := d.farSlot(ctx, p)
	if !ok || len(d.patients) < 2 {
		return
	}
	other := d.patients[(indexOf(d.patients, p)+1+p.rng.IntN(len(d.patients)-1))%len(d.patients)]
	var wg sync.WaitGroup
	views := make([]*View, 2)
	for i, q := range []*patient{p, other} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			views[i], _, _ = d.hold(ctx, q, doc, start)
		}()
	}
	wg.Wait()
	if views[0] != nil {
		d.pause(ctx, p)
		d.confirm(ctx, p, views[0].ID)
	}
	if views[1] != nil {
		// The other patient did not mean it: the hold is let go.
		d.cancel(ctx, other, views[1].ID)
	}
}

func indexOf(ps []*patient, p *patient) int {
	for i, q := range ps {
		if q == p {
			return i
		}
	}
	return 0
}

// scSoon books a slot a few minutes ahead and confirms it; a follow-up then checks the
// patient in shortly before the start, cancels, moves it, or leaves it for the reminders and
// the no-show check.
func (d *Driver) scSoon(ctx context.Context, p *patient) {
	var v *View
	var doc doctor
	for range 2 {
		var start time.Time
		var ok bool
		doc, start, ok = d.soonSlot(ctx, p)
		if !ok {
			break
		}
		if v, _, _ = d.hold(ctx, p, doc, start); v != nil {
			break
		}
	}
	if v == nil {
		d.confirmedFar(ctx, p)
		return
	}
	d.pause(ctx, p)
	c, _, _ := d.confirm(ctx, p, v.ID)
	if c == nil {
		return
	}
	d.soon.Add(1)
	fctx := followUpsOf(ctx)
	roll := p.rng.IntN(100)
	until := time.Until(c.Start)
	d.after.Add(1)
	go func() {
		defer d.after.Done()
		switch {
		case roll < 35: // checked in at the desk, early (check-in opens an hour ahead)
			if sleep(fctx, time.Duration(p.rng.Int64N(int64(max(until/2, time.Second))))) {
				d.checkIn(fctx, v.ID)
			}
		case roll < 55: // cancelled some time before the start
			if until > 40*time.Second && sleep(fctx, time.Duration(p.rng.Int64N(int64(until-30*time.Second)))) {
				d.cancel(fctx, p, v.ID)
			}
		case roll < 65: // moved to the doctor's next slot
			d.reschedule(fctx, p, v.ID, c.Start.Add(serviceMinutes*time.Minute))
		default: // left alone: reminders, then the no-show check
		}
	}()
}

// ---------------------------------------------------------------------------------------
// The worker-down fault's plan: bookings whose timers fall due while no worker runs.

// TimerPlan is what the worker-down fault waits for: the window it takes the workers down
// for, and the timers due inside it.
type TimerPlan struct {
	Down Window
	// Due lists what falls due while the workers are down: expiries, reminders, no-shows.
	Due []DueTimer
	// holds are made just before the window, to expire inside it.
	holdsAt time.Time
}

// DueTimer is one timer that falls due while the workers are down.
type DueTimer struct {
	BookingID string
	Kind      string // "expiry", "reminder", "no-show"
	Variant   string // the reminder's offset
	At        time.Time
}

// PlanTimers books, on the reserved doctors, a booking B whose no-show check and last
// reminder fall inside a window of length down starting `before` ahead of B's start, and a
// booking A a minute later whose first reminder falls in it too (it fires late, before A
// starts, so it is sent). lead is the least time from now to the window.
func (d *Driver) PlanTimers(ctx context.Context, lead, before, down time.Duration) (*TimerPlan, error) {
	p := d.patients[0]
	for attempt := 0; attempt < 5; attempt++ {
		// B starts on a whole minute at least lead+before ahead: some reserved doctor works
		// every minute.
		sb := time.Now().Add(lead + before).Truncate(time.Minute).Add(time.Duration(attempt+1) * time.Minute)
		sa := sb.Add(time.Minute)
		db, da := d.reservedAt(sb), d.reservedAt(sa)
		vb, _, err := d.hold(ctx, p, db, sb)
		if err != nil || vb == nil {
			continue
		}
		va, _, err := d.hold(ctx, p, da, sa)
		if err != nil || va == nil {
			d.cancel(ctx, p, vb.ID)
			continue
		}
		cb, _, _ := d.confirm(ctx, p, vb.ID)
		ca, _, _ := d.confirm(ctx, p, va.ID)
		if cb == nil || ca == nil {
			return nil, errors.New("plan: confirms not acknowledged")
		}
		w := Window{From: sb.Add(-before), To: sb.Add(-before).Add(down)}
		plan := &TimerPlan{Down: w, holdsAt: w.From.Add(-8 * time.Second)}
		for _, off := range d.timing.ReminderOffsets {
			for _, v := range []*View{cb, ca} {
				if at := v.Start.Add(-off); !at.Before(w.From) && at.Before(w.To) {
					plan.Due = append(plan.Due, DueTimer{BookingID: v.ID, Kind: "reminder", Variant: formatOffset(off), At: at})
				}
			}
		}
		for _, v := range []*View{cb, ca} {
			if at := v.Start.Add(d.timing.NoShowGrace); at.Before(w.To) {
				plan.Due = append(plan.Due, DueTimer{BookingID: v.ID, Kind: "no-show", At: at})
			}
		}
		return plan, nil
	}
	return nil, errors.New("plan: no free reserved slots")
}

// reservedAt is the reserved doctor who has a slot starting at t (a whole minute).
func (d *Driver) reservedAt(t time.Time) doctor {
	m := t.UTC().Minute() % serviceMinutes
	for _, doc := range d.reserved {
		if doc.Offset == m {
			return doc
		}
	}
	return d.reserved[0]
}

// PlanHolds makes holds that expire inside the plan's window and leaves them; it waits for
// the moment first.
func (d *Driver) PlanHolds(ctx context.Context, plan *TimerPlan, n int) {
	sleep(ctx, time.Until(plan.holdsAt))
	p := d.patients[len(d.patients)-1]
	for range n {
		v, _ := d.heldFar(ctx, p)
		if v != nil && v.HoldExpiresAt != nil && v.HoldExpiresAt.Before(plan.Down.To) {
			plan.Due = append(plan.Due, DueTimer{BookingID: v.ID, Kind: "expiry", At: *v.HoldExpiresAt})
		}
	}
}

// formatOffset writes a reminder offset as the workflow names reminders: 24h, 90m, 20s.
func formatOffset(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}
