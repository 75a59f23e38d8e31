package chaos

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/clinicbook/booking/domain"
)

var t0 = time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)

func at(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }

func TestOverlaps(t *testing.T) {
	bs := []Booking{
		{ID: "a", ProviderID: "p1", Status: domain.StatusConfirmed, Start: at(0), End: at(30)},
		{ID: "b", ProviderID: "p1", Status: domain.StatusHeld, Start: at(30), End: at(60)}, // touches a: fine
		{ID: "c", ProviderID: "p1", Status: domain.StatusCheckedIn, Start: at(45), End: at(50)},
		{ID: "d", ProviderID: "p1", Status: domain.StatusCancelled, Start: at(0), End: at(60)}, // not live
		{ID: "e", ProviderID: "p2", Status: domain.StatusConfirmed, Start: at(0), End: at(60)}, // other doctor
		{ID: "f", ProviderID: "p1", Status: domain.StatusConfirmed, Start: at(120), End: at(180)},
		{ID: "g", ProviderID: "p1", Status: domain.StatusConfirmed, Start: at(125), End: at(130)},
		{ID: "h", ProviderID: "p1", Status: domain.StatusConfirmed, Start: at(135), End: at(140)}, // inside f, after g
	}
	got := Overlaps(bs)
	want := [][2]string{{"b", "c"}, {"f", "g"}, {"f", "h"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("overlaps %v, want %v", got, want)
	}
	if got := Overlaps(bs[:2]); len(got) != 0 {
		t.Fatalf("back-to-back bookings overlap: %v", got)
	}
}

func TestHoldDeadline(t *testing.T) {
	grace := 15 * time.Second
	exp := at(0)
	if got := HoldDeadline(exp, grace, nil); !got.Equal(exp.Add(grace)) {
		t.Fatalf("no blackout: %v", got)
	}
	// A blackout that starts before the deadline pushes it to its end plus grace; a second
	// one reached by the pushed deadline pushes it again; one after does nothing.
	bl := []Window{
		{From: at(5), To: at(6)},
		{From: exp.Add(10 * time.Second), To: at(2)},
		{From: at(2).Add(5 * time.Second), To: at(3)},
	}
	if got, want := HoldDeadline(exp, grace, bl), at(3).Add(grace); !got.Equal(want) {
		t.Fatalf("deadline %v, want %v", got, want)
	}
	// A blackout that ended before the expiry does not count.
	if got := HoldDeadline(exp, grace, []Window{{From: at(-5), To: at(-1)}}); !got.Equal(exp.Add(grace)) {
		t.Fatalf("past blackout moved the deadline to %v", got)
	}

	seen := []HoldSighting{
		{BookingID: "ok", Expiry: exp, At: exp.Add(10 * time.Second)},
		{BookingID: "late", Expiry: exp, At: exp.Add(20 * time.Second)},
		{BookingID: "late", Expiry: exp, At: exp.Add(40 * time.Second)},
		{BookingID: "excused", Expiry: at(10), At: at(11)},
	}
	late := LateHolds(seen, grace, []Window{{From: at(10), To: at(11)}})
	if len(late) != 1 || late["late"] != 25*time.Second {
		t.Fatalf("late holds %v, want late by 25s", late)
	}
}

func view(status domain.Status, start time.Time) *View {
	exp := t0.Add(20 * time.Second)
	return &View{ID: "b", Status: status, Start: start, End: start.Add(5 * time.Minute), HoldExpiresAt: &exp}
}

func TestStateCheck(t *testing.T) {
	timing := DefaultTiming
	start := at(10)
	hold := Command{Name: CmdHold, At: t0, Outcome: Acked, Result: view(domain.StatusHeld, start)}
	confirm := Command{Name: CmdConfirm, At: t0.Add(time.Second), Outcome: Acked, Result: view(domain.StatusConfirmed, start)}
	db := func(s domain.Status, st time.Time) *Booking { return &Booking{ID: "b", Status: s, Start: st} }
	cases := []struct {
		name string
		cmds []Command
		db   *Booking
		now  time.Time
		ok   bool
	}{
		{"held while the hold lasts", []Command{hold}, db(domain.StatusHeld, start), t0.Add(5 * time.Second), true},
		{"expired once it lapsed", []Command{hold}, db(domain.StatusExpired, start), t0.Add(time.Minute), true},
		{"expired too soon", []Command{hold}, db(domain.StatusExpired, start), t0.Add(5 * time.Second), false},
		{"confirmed with no confirm sent", []Command{hold}, db(domain.StatusConfirmed, start), t0.Add(5 * time.Second), false},
		{"confirmed by a confirm whose answer never came", []Command{hold, {Name: CmdConfirm, Outcome: Unknown}},
			db(domain.StatusConfirmed, start), t0.Add(5 * time.Second), true},
		{"a refused confirm changes nothing", []Command{hold, {Name: CmdConfirm, Outcome: Refused, Code: 409}},
			db(domain.StatusConfirmed, start), t0.Add(5 * time.Second), false},
		{"acknowledged confirm", []Command{hold, confirm}, db(domain.StatusConfirmed, start), t0.Add(time.Minute), true},
		{"acknowledged confirm lost", []Command{hold, confirm}, db(domain.StatusExpired, start), t0.Add(time.Minute), false},
		{"no-show after start and grace", []Command{hold, confirm}, db(domain.StatusNoShow, start), start.Add(11 * time.Second), true},
		{"no-show before the grace", []Command{hold, confirm}, db(domain.StatusNoShow, start), start.Add(5 * time.Second), false},
		{"acknowledged cancel", []Command{hold, confirm, {Name: CmdCancel, Outcome: Acked, Result: view(domain.StatusCancelled, start)}},
			db(domain.StatusCancelled, start), t0.Add(time.Minute), true},
		{"cancel acknowledged but still confirmed", []Command{hold, confirm, {Name: CmdCancel, Outcome: Acked, Result: view(domain.StatusCancelled, start)}},
			db(domain.StatusConfirmed, start), t0.Add(time.Minute), false},
		{"acknowledged move", []Command{hold, confirm, {Name: CmdReschedule, Outcome: Acked, Start: at(20), Result: view(domain.StatusConfirmed, at(20))}},
			db(domain.StatusConfirmed, at(20)), t0.Add(time.Minute), true},
		{"move acknowledged, old time kept", []Command{hold, confirm, {Name: CmdReschedule, Outcome: Acked, Start: at(20), Result: view(domain.StatusConfirmed, at(20))}},
			db(domain.StatusConfirmed, start), t0.Add(time.Minute), false},
		{"unanswered move then no-show at the new time", []Command{hold, confirm, {Name: CmdReschedule, Outcome: Unknown, Start: at(20)}},
			db(domain.StatusNoShow, at(20)), at(21), true},
		{"check-in then completed at the end", []Command{hold, confirm, {Name: CmdCheckIn, Outcome: Acked, Result: view(domain.StatusCheckedIn, start)}},
			db(domain.StatusCompleted, start), start.Add(6 * time.Minute), true},
		{"lost", []Command{hold}, nil, t0, false},
		{"never acknowledged: not checked", []Command{{Name: CmdHold, Outcome: Unknown}}, nil, t0, true},
	}
	for _, c := range cases {
		why := StateCheck(Record{ID: "b", Commands: c.cmds}, c.db, timing, c.now)
		if (why == "") != c.ok {
			t.Errorf("%s: ok=%v, want %v (%s)", c.name, why == "", c.ok, why)
		}
	}
}

func TestOverdueTimer(t *testing.T) {
	timing := DefaultTiming
	b := Booking{ID: "b", Status: domain.StatusConfirmed, Start: at(0), End: at(5)}
	if why := OverdueTimer(b, timing, 5*time.Second, at(0).Add(14*time.Second)); why != "" {
		t.Errorf("within grace and slack: %s", why)
	}
	if why := OverdueTimer(b, timing, 5*time.Second, at(0).Add(16*time.Second)); why == "" {
		t.Error("a confirmed booking past its no-show time is not flagged")
	}
	b.Status = domain.StatusCheckedIn
	if why := OverdueTimer(b, timing, 5*time.Second, at(6)); why == "" {
		t.Error("a checked-in booking past its end is not flagged")
	}
}

func ev(key string, detail map[string]any) Event {
	return Event{BookingID: "b", Key: key, Detail: detail}
}

func TestExpectedMessages(t *testing.T) {
	now := at(0)
	past, future := now.Add(-time.Minute).Format(time.RFC3339Nano), now.Add(time.Minute).Format(time.RFC3339Nano)
	events := []Event{
		ev("status:held", nil),
		ev("rescheduled:1", nil), // while held: no notice
		ev("status:confirmed:1", nil),
		ev("reminder:1:1m:planned", map[string]any{"at": past}),
		ev("reminder:1:20s:planned", map[string]any{"at": past}),
		ev("reminder:1:20s:dropped", nil),
		ev("rescheduled:2", nil), // while confirmed: a notice
		ev("reminder:2:1m:planned", map[string]any{"at": future}),
		ev("status:cancelled:2", nil),
	}
	got := ExpectedMessages(Booking{ID: "b", Status: domain.StatusCancelled, Revision: 2}, events, true, now)
	var names []string
	for _, k := range got {
		if k.Channel == "sms" {
			names = append(names, strings.TrimPrefix(k.String(), "b "))
		}
	}
	want := []string{"cancellation r2 sms", "confirmation r1 sms", "reminder/1m r1 sms", "reschedule r2 sms"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("expected %v, want %v", names, want)
	}
	if len(got) != 2*len(want) {
		t.Fatalf("%d messages, want both channels of each", len(got))
	}
	// An expiry tells the patient only of a hold they were told they had.
	exp := Booking{ID: "b", Status: domain.StatusExpired}
	if n := len(ExpectedMessages(exp, nil, false, now)); n != 0 {
		t.Errorf("unacknowledged expiry needs %d messages", n)
	}
	if n := len(ExpectedMessages(exp, nil, true, now)); n != 2 {
		t.Errorf("acknowledged expiry needs %d messages, want 2", n)
	}
}

func TestCheckMessages(t *testing.T) {
	rows := []Notification{
		{ID: "n1", BookingID: "b", Kind: "confirmation", Channel: "sms", Status: "delivered", ProviderMessageID: "SM1"},
		{ID: "n2", BookingID: "b", Kind: "confirmation", Channel: "email", Status: "sent"},
		{ID: "n3", BookingID: "b", Kind: "reminder", Variant: "1m", Channel: "sms", Status: "skipped",
			Error: "the appointment had started before the reminder could go out"},
		{ID: "n4", BookingID: "b", Kind: "reminder", Variant: "1m", Channel: "email", Status: "sending"},
		{ID: "n5", BookingID: "c", Kind: "cancellation", Channel: "sms", Status: "sent", ProviderMessageID: "SM5"},
		{ID: "n6", BookingID: "c", Kind: "cancellation", Channel: "email", Status: "sent"},
		{ID: "n7", BookingID: "d", Kind: "no_show", Channel: "sms", Status: "skipped", Error: "the patient's sms is not verified"},
	}
	needed := []NotifKey{
		{"b", "confirmation", "", 0, "sms"}, {"b", "confirmation", "", 0, "email"},
		{"c", "cancellation", "", 0, "sms"}, {"c", "cancellation", "", 0, "email"},
		{"d", "no_show", "", 0, "email"},
	}
	sms := []SMS{
		{SID: "SM1", To: "+1555"}, {SID: "SM9", To: "+1555", Body: "Cancelled: again"},
		{SID: "SM8", To: "+1555", Body: "Your clinic verification code is 123456."},
		{SID: "SM7", To: "+1999", Body: "someone else's"},
		// SM5 never arrived
	}
	mails := []Mail{{MessageID: "<n2@clinicbook>"}, {MessageID: "n6@clinicbook"}, {MessageID: "n6@clinicbook"}}
	rep := CheckMessages(needed, rows, sms, mails, map[string]bool{"+1555": true}, map[string]bool{}, isCode)
	check := func(name string, got []string, want ...string) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: %v, want %d like %v", name, got, len(want), want)
		}
		for i, w := range want {
			if !strings.Contains(got[i], w) {
				t.Errorf("%s[%d] = %q, want it to mention %q", name, i, got[i], w)
			}
		}
	}
	check("missing", rep.Missing, "c cancellation r0 sms: marked sent but never received", "d no_show r0 email: no notification row")
	check("duplicated", rep.Duplicated, "SMS SM9", "c cancellation r0 email: received 2 times")
	check("stuck", rep.Stuck, "b reminder/1m r0 email: sending")
	check("failed", rep.Failed, "not verified")
	if rep.Skipped != 1 || rep.Checked["sms"] != 2 || rep.Checked["email"] != 2 {
		t.Errorf("skipped %d, checked %v", rep.Skipped, rep.Checked)
	}
	if rep.Violations() != 6 {
		t.Errorf("%d violations, want 6", rep.Violations())
	}
}
