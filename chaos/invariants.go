package chaos

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/clinicbook/booking/domain"
)

// The auditor's pure logic: what each invariant means, given what was read from PostgreSQL,
// Temporal, the sandbox and Mailpit. Nothing here does I/O, so each rule is unit-tested.

// Booking is a booking as the database has it.
type Booking struct {
	ID            string
	ProviderID    string
	PatientID     string
	Status        domain.Status
	Start, End    time.Time
	HoldExpiresAt *time.Time
	Revision      int
}

// Event is one timeline entry (booking_events).
type Event struct {
	BookingID string
	Key       string
	Type      string
	At        time.Time
	Detail    map[string]any
}

// Notification is one row of notifications: one message, once per booking, kind, variant,
// channel and revision.
type Notification struct {
	ID                string
	BookingID         string
	Kind              string
	Variant           string
	Channel           string
	Revision          int
	Status            string
	ProviderMessageID string
	Error             string
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// NotifKey names a message a booking needed, on one channel.
type NotifKey struct {
	BookingID string
	Kind      string
	Variant   string
	Revision  int
	Channel   string
}

func (k NotifKey) String() string {
	v := k.Kind
	if k.Variant != "" {
		v += "/" + k.Variant
	}
	return fmt.Sprintf("%s %s r%d %s", k.BookingID, v, k.Revision, k.Channel)
}

// Window is a span of time, such as a fault during which the platform could not run timers.
type Window struct{ From, To time.Time }

// ---------------------------------------------------------------------------------------
// No two live bookings overlap for one doctor.

// Overlaps returns the pairs of bookings (ids) holding time at once for one provider, among
// the live ones (held, confirmed, checked in) of bs.
func Overlaps(bs []Booking) [][2]string {
	byProvider := map[string][]Booking{}
	for _, b := range bs {
		if b.Status.Occupies() {
			byProvider[b.ProviderID] = append(byProvider[b.ProviderID], b)
		}
	}
	providers := make([]string, 0, len(byProvider))
	for p := range byProvider {
		providers = append(providers, p)
	}
	sort.Strings(providers)
	var out [][2]string
	for _, p := range providers {
		list := byProvider[p]
		sort.Slice(list, func(i, j int) bool { return list[i].Start.Before(list[j].Start) })
		// Every earlier booking still running at a booking's start overlaps it; keep them all
		// (not only the one ending last) so that each pair is named.
		var open []Booking
		for _, b := range list {
			kept := open[:0]
			for _, o := range open {
				if o.End.After(b.Start) {
					out = append(out, [2]string{o.ID, b.ID})
					kept = append(kept, o)
				}
			}
			open = append(kept, b)
		}
	}
	return out
}

// ---------------------------------------------------------------------------------------
// No hold is live past its expiry plus the reconciler's interval.

// HoldDeadline is when a hold expiring at expiry must have been expired: grace after its
// expiry, or grace after the end of a blackout (a fault during which no worker, no Temporal or
// no database could run the expiry) that reaches into that time.
func HoldDeadline(expiry time.Time, grace time.Duration, blackouts []Window) time.Time {
	deadline := expiry.Add(grace)
	for changed := true; changed; {
		changed = false
		for _, w := range blackouts {
			// A blackout counts when it overlaps [expiry, deadline].
			if w.From.After(deadline) || w.To.Before(expiry) {
				continue
			}
			if d := w.To.Add(grace); d.After(deadline) {
				deadline, changed = d, true
			}
		}
	}
	return deadline
}

// HoldSighting is a hold seen still held at At, after its expiry.
type HoldSighting struct {
	BookingID string
	Expiry    time.Time
	At        time.Time
}

// LateHolds returns the bookings seen held past their deadline, each once, with how late.
func LateHolds(seen []HoldSighting, grace time.Duration, blackouts []Window) map[string]time.Duration {
	out := map[string]time.Duration{}
	for _, s := range seen {
		late := s.At.Sub(HoldDeadline(s.Expiry, grace, blackouts))
		if late > 0 && late > out[s.BookingID] {
			out[s.BookingID] = late
		}
	}
	return out
}

// ---------------------------------------------------------------------------------------
// Every acknowledged booking is in the state its last acknowledged command implies, or a
// later one its timers (or a command whose answer never came) explain.

// Outcome is what a client learned of a command.
type Outcome int

const (
	// Acked: a 200 or 201 answer.
	Acked Outcome = iota
	// Refused: a definitive 4xx answer; the command changed nothing.
	Refused
	// Unknown: no answer after every retry; the command may or may not have taken effect.
	Unknown
)

func (o Outcome) String() string {
	return [...]string{"acked", "refused", "unknown"}[o]
}

// Command names.
const (
	CmdHold       = "hold"
	CmdConfirm    = "confirm"
	CmdCancel     = "cancel"
	CmdReschedule = "reschedule"
	CmdCheckIn    = "check-in"
)

// Command is one command a client sent about a booking, with what it learned.
type Command struct {
	Name    string
	At      time.Time
	Outcome Outcome
	Code    int
	// Start is a reschedule's new time.
	Start time.Time
	// Result is the booking as an acknowledged answer showed it.
	Result *View
}

// View is a booking as the API answered it.
type View struct {
	ID            string        `json:"id"`
	Status        domain.Status `json:"status"`
	HoldExpiresAt *time.Time    `json:"hold_expires_at"`
	Start         time.Time     `json:"start"`
	End           time.Time     `json:"end"`
	ProviderID    string        `json:"provider_id"`
	PatientID     string        `json:"patient_id"`
	Revision      int           `json:"revision"`
}

// Record is everything clients did to one booking, in order.
type Record struct {
	ID         string
	PatientID  string
	ProviderID string
	Commands   []Command
}

// LastAck is the last acknowledged command, nil when none was.
func (r *Record) LastAck() *Command {
	for i := len(r.Commands) - 1; i >= 0; i-- {
		if r.Commands[i].Outcome == Acked {
			return &r.Commands[i]
		}
	}
	return nil
}

// state is where a booking may stand: its status and start.
type state struct {
	status domain.Status
	start  time.Time
}

// StateCheck says whether the database's booking is one its record explains at now. It
// returns "" when it is, and why not otherwise. A booking never acknowledged is not checked.
func StateCheck(r Record, db *Booking, t Timing, now time.Time) string {
	last := -1
	for i, c := range r.Commands {
		if c.Outcome == Acked {
			last = i
		}
	}
	if last < 0 {
		return ""
	}
	if db == nil {
		return "acknowledged but missing from the database (lost)"
	}
	ack := r.Commands[last]
	v := ack.Result
	if v == nil {
		return "acknowledged without a booking in the answer"
	}
	length := v.End.Sub(v.Start)
	holdExpiry := v.HoldExpiresAt
	states := map[state]bool{{v.Status, v.Start.UTC()}: true}
	// Commands sent after it whose answers never came may have taken effect, in order.
	for _, c := range r.Commands[last+1:] {
		if c.Outcome != Unknown {
			continue
		}
		for s := range states {
			if n, ok := apply(c, s, now); ok {
				states[n] = true
			}
		}
	}
	// Timers move a booking on once they are due.
	for changed := true; changed; {
		changed = false
		for s := range states {
			var next domain.Status
			switch {
			case s.status == domain.StatusHeld && holdExpiry != nil && !now.Before(*holdExpiry):
				next = domain.StatusExpired
			case s.status == domain.StatusConfirmed && !now.Before(s.start.Add(t.NoShowGrace)):
				next = domain.StatusNoShow
			case s.status == domain.StatusCheckedIn && !now.Before(s.start.Add(length)):
				next = domain.StatusCompleted
			}
			if n := (state{next, s.start}); next != "" && !states[n] {
				states[n], changed = true, true
			}
		}
	}
	if states[state{db.Status, db.Start.UTC()}] {
		return ""
	}
	var allowed []string
	for s := range states {
		allowed = append(allowed, fmt.Sprintf("%s at %s", s.status, s.start.Format(time.TimeOnly)))
	}
	sort.Strings(allowed)
	return fmt.Sprintf("is %s at %s after %s (%s); expected one of: %s", db.Status, db.Start.UTC().Format(time.TimeOnly),
		ack.Name, ack.At.Format(time.TimeOnly), strings.Join(allowed, ", "))
}

// apply is where command c, had it taken effect, would leave a booking in s.
func apply(c Command, s state, now time.Time) (state, bool) {
	switch c.Name {
	case CmdConfirm:
		if s.status == domain.StatusHeld {
			return state{domain.StatusConfirmed, s.start}, true
		}
	case CmdCancel:
		if s.status == domain.StatusHeld || s.status == domain.StatusConfirmed {
			return state{domain.StatusCancelled, s.start}, true
		}
	case CmdReschedule:
		if s.status == domain.StatusHeld || s.status == domain.StatusConfirmed {
			return state{s.status, c.Start.UTC()}, true
		}
	case CmdCheckIn:
		if s.status == domain.StatusConfirmed {
			return state{domain.StatusCheckedIn, s.start}, true
		}
	}
	return s, false
}

// OverdueTimer says which timer of a booking is due by now (with slack) but has not moved it:
// "" when none. Holds are the holds invariant's.
func OverdueTimer(b Booking, t Timing, slack time.Duration, now time.Time) string {
	switch b.Status {
	case domain.StatusConfirmed:
		if due := b.Start.Add(t.NoShowGrace); now.After(due.Add(slack)) {
			return fmt.Sprintf("still confirmed %s after its no-show time", now.Sub(due).Round(time.Second))
		}
	case domain.StatusCheckedIn:
		if now.After(b.End.Add(slack)) {
			return fmt.Sprintf("still checked in %s after its end", now.Sub(b.End).Round(time.Second))
		}
	}
	return ""
}

// ---------------------------------------------------------------------------------------
// Every booking that needed a message has exactly one per channel and kind.

var (
	statusKey     = regexp.MustCompile(`^status:([a-z_]+):(\d+)$`)
	rescheduleKey = regexp.MustCompile(`^rescheduled:(\d+)$`)
	reminderKey   = regexp.MustCompile(`^reminder:(\d+):([^:]+):(planned|dropped)$`)
)

// Channels a verified patient is written to.
var Channels = []string{domain.ChannelSMS, domain.ChannelEmail}

// ExpectedMessages lists the messages booking b needed by now, on both channels, from its
// final status and its timeline: a confirmation per confirm, a reschedule notice per move of a
// confirmed booking, each planned reminder not dropped whose time has come, and the notice of
// how it ended (cancelled, no-show; expired when acknowledged is true, for a hold whose
// failure no client was told of ends without one).
func ExpectedMessages(b Booking, events []Event, acknowledged bool, now time.Time) []NotifKey {
	type msg struct {
		kind, variant string
		rev           int
	}
	var need []msg
	confirmedAt := -1
	planned := map[[2]string]time.Time{}
	dropped := map[[2]string]bool{}
	var moves []int
	for _, e := range events {
		if m := statusKey.FindStringSubmatch(e.Key); m != nil && m[1] == string(domain.StatusConfirmed) {
			rev, _ := strconv.Atoi(m[2])
			need = append(need, msg{domain.NotifyConfirmation, "", rev})
			if confirmedAt < 0 || rev < confirmedAt {
				confirmedAt = rev
			}
		}
		if m := rescheduleKey.FindStringSubmatch(e.Key); m != nil {
			rev, _ := strconv.Atoi(m[1])
			moves = append(moves, rev)
		}
		if m := reminderKey.FindStringSubmatch(e.Key); m != nil {
			k := [2]string{m[1], m[2]}
			if m[3] == "dropped" {
				dropped[k] = true
			} else if at, ok := detailTime(e.Detail, "at"); ok {
				planned[k] = at
			}
		}
	}
	for _, rev := range moves {
		// A move tells the patient only when the booking was confirmed before it.
		if confirmedAt >= 0 && confirmedAt < rev {
			need = append(need, msg{domain.NotifyReschedule, "", rev})
		}
	}
	for k, at := range planned {
		if dropped[k] || at.After(now) {
			continue
		}
		rev, _ := strconv.Atoi(k[0])
		need = append(need, msg{domain.NotifyReminder, k[1], rev})
	}
	switch b.Status {
	case domain.StatusCancelled:
		need = append(need, msg{domain.NotifyCancellation, "", b.Revision})
	case domain.StatusNoShow:
		need = append(need, msg{domain.NotifyNoShow, "", b.Revision})
	case domain.StatusExpired:
		if acknowledged {
			need = append(need, msg{domain.NotifyHoldExpired, "", b.Revision})
		}
	}
	var out []NotifKey
	for _, m := range need {
		for _, ch := range Channels {
			out = append(out, NotifKey{BookingID: b.ID, Kind: m.kind, Variant: m.variant, Revision: m.rev, Channel: ch})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

func detailTime(d map[string]any, key string) (time.Time, bool) {
	s, ok := d[key].(string)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

// SMS is one message the Twilio sandbox recorded.
type SMS struct {
	SID  string `json:"sid"`
	To   string `json:"to"`
	Body string `json:"body"`
}

// Mail is one message Mailpit holds.
type Mail struct {
	ID        string
	MessageID string
	Subject   string
	To        []struct{ Address string }
}

// MessageReport is the messages invariant's findings.
type MessageReport struct {
	// Checked counts the notification rows matched against the sandbox and Mailpit, by
	// channel; Skipped the rows skipped because events overtook them (by design).
	Checked map[string]int
	Skipped int
	// Violations, each naming a booking's message.
	Missing    []string // needed, and no row or no message
	Duplicated []string // more than one message for a row, or a message no row accounts for
	Stuck      []string // still pending or sending
	Failed     []string // given up on, or skipped for a reason that is no overtaking
}

// Violations is how many findings break the invariant.
func (r MessageReport) Violations() int {
	return len(r.Missing) + len(r.Duplicated) + len(r.Stuck) + len(r.Failed)
}

// sentStatuses are the statuses of a message the provider took.
var sentStatuses = map[string]bool{"sent": true, "queued": true, "delivered": true, "undelivered": true}

// overtakenReason tells a skip by design (events overtook the message while it waited) from
// any other reason, such as an unverified contact, which a verified patient must never get.
func overtakenReason(reason string) bool {
	return strings.Contains(reason, "before the reminder could go out") || strings.Contains(reason, "before the message could go out")
}

// CheckMessages matches rows to what the sandbox and Mailpit received. needed are the messages
// bookings needed (ExpectedMessages); phones and emails are the patients' addresses (messages
// to anyone else are not ours); isCode tells a verification code, which no row records.
func CheckMessages(needed []NotifKey, rows []Notification, sms []SMS, mails []Mail, phones, emails map[string]bool,
	isCode func(body string) bool) MessageReport {
	rep := MessageReport{Checked: map[string]int{}}
	byKey := map[NotifKey]Notification{}
	for _, n := range rows {
		byKey[NotifKey{n.BookingID, n.Kind, n.Variant, n.Revision, n.Channel}] = n
	}
	for _, k := range needed {
		if _, ok := byKey[k]; !ok {
			rep.Missing = append(rep.Missing, k.String()+": no notification row")
		}
	}
	smsBySID := map[string]int{}
	for _, m := range sms {
		smsBySID[m.SID]++
	}
	mailByID := map[string]int{}
	for _, m := range mails {
		mailByID[strings.Trim(m.MessageID, "<>")]++
	}
	rowSIDs := map[string]bool{}
	rowMailIDs := map[string]bool{}
	for _, n := range rows {
		k := NotifKey{n.BookingID, n.Kind, n.Variant, n.Revision, n.Channel}
		switch {
		case n.Status == "pending" || n.Status == "sending":
			rep.Stuck = append(rep.Stuck, k.String()+": "+n.Status)
			continue
		case n.Status == "skipped":
			if overtakenReason(n.Error) {
				rep.Skipped++
			} else {
				rep.Failed = append(rep.Failed, k.String()+": skipped: "+n.Error)
			}
			continue
		case !sentStatuses[n.Status]:
			rep.Failed = append(rep.Failed, k.String()+": "+n.Status+": "+n.Error)
			continue
		}
		rep.Checked[n.Channel]++
		var count int
		if n.Channel == domain.ChannelSMS {
			rowSIDs[n.ProviderMessageID] = true
			count = smsBySID[n.ProviderMessageID]
		} else {
			id := n.ID + "@clinicbook"
			rowMailIDs[id] = true
			count = mailByID[id]
		}
		switch {
		case count == 0:
			rep.Missing = append(rep.Missing, k.String()+": marked "+n.Status+" but never received")
		case count > 1:
			rep.Duplicated = append(rep.Duplicated, fmt.Sprintf("%s: received %d times", k, count))
		}
	}
	// What arrived that no row accounts for: a second send of a message whose row names
	// only one of them.
	for _, m := range sms {
		if phones[m.To] && !rowSIDs[m.SID] && !isCode(m.Body) {
			rep.Duplicated = append(rep.Duplicated, fmt.Sprintf("SMS %s to %s recorded by no row: %q", m.SID, m.To, m.Body))
		}
	}
	for _, m := range mails {
		id := strings.Trim(m.MessageID, "<>")
		if !strings.HasSuffix(id, "@clinicbook") || rowMailIDs[id] {
			continue
		}
		for _, to := range m.To {
			if emails[strings.ToLower(to.Address)] {
				rep.Duplicated = append(rep.Duplicated, fmt.Sprintf("email %s to %s recorded by no row: %q", id, to.Address, m.Subject))
				break
			}
		}
	}
	for _, l := range [][]string{rep.Missing, rep.Duplicated, rep.Stuck, rep.Failed} {
		sort.Strings(l)
	}
	return rep
}
