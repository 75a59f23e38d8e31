package notify_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/clinicbook/booking/notify"
)

func parseInvite(t *testing.T, b []byte) (*ics.Calendar, *ics.VEvent) {
	t.Helper()
	cal, err := ics.ParseCalendar(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("parse invite: %v\n%s", err, b)
	}
	events := cal.Events()
	if len(events) != 1 {
		t.Fatalf("%d events, want 1", len(events))
	}
	return cal, events[0]
}

func calendarProp(cal *ics.Calendar, p ics.Property) string {
	for _, cp := range cal.CalendarProperties {
		if cp.IANAToken == string(p) {
			return cp.Value
		}
	}
	return ""
}

func eventProp(ev *ics.VEvent, p ics.ComponentProperty) string {
	if prop := ev.GetProperty(p); prop != nil {
		return prop.Value
	}
	return ""
}

func TestInviteRequest(t *testing.T) {
	d := sampleData()
	d.Organizer = "Sunrise Clinic <bookings@clinic.test>"
	d.PatientEmail = "anna@example.com"
	b, err := notify.Invite(d, "request", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("BEGIN:VCALENDAR\r\n")) {
		t.Errorf("not a CRLF iCalendar:\n%q", b)
	}
	cal, ev := parseInvite(t, b)
	if got := calendarProp(cal, ics.PropertyMethod); got != "REQUEST" {
		t.Errorf("METHOD %q", got)
	}
	if got := calendarProp(cal, ics.PropertyVersion); got != "2.0" {
		t.Errorf("VERSION %q", got)
	}
	if ev.Id() != "booking-"+d.BookingID+"@clinicbook" || ev.Id() != notify.InviteUID(d.BookingID) {
		t.Errorf("UID %q", ev.Id())
	}
	start, err := ev.GetStartAt()
	if err != nil || !start.Equal(d.Start) {
		t.Errorf("DTSTART %v (%v), want %v", start, err, d.Start)
	}
	end, err := ev.GetEndAt()
	if err != nil || !end.Equal(d.End) {
		t.Errorf("DTEND %v (%v), want %v", end, err, d.End)
	}
	if got := eventProp(ev, ics.ComponentPropertyDtStart); got != "20261207T080000Z" {
		t.Errorf("DTSTART is not UTC: %q", got)
	}
	if got := eventProp(ev, ics.ComponentPropertySummary); got != "Check-up with Dr. Lena Weber" {
		t.Errorf("SUMMARY %q", got)
	}
	if got := eventProp(ev, ics.ComponentPropertySequence); got != "0" {
		t.Errorf("SEQUENCE %q", got)
	}
	if got := eventProp(ev, ics.ComponentPropertyStatus); got != "CONFIRMED" {
		t.Errorf("STATUS %q", got)
	}
	if _, err := ev.GetDtStampTime(); err != nil {
		t.Errorf("DTSTAMP: %v", err)
	}
	org := ev.GetProperty(ics.ComponentPropertyOrganizer)
	if org == nil || org.Value != "mailto:bookings@clinic.test" || org.ICalParameters["CN"][0] != "Sunrise Clinic" {
		t.Errorf("ORGANIZER %+v", org)
	}
	if att := ev.Attendees(); len(att) != 1 || att[0].Email() != "anna@example.com" {
		t.Errorf("ATTENDEE %+v", att)
	}
	if desc := eventProp(ev, ics.ComponentPropertyDescription); !strings.Contains(desc, "Mon 7 Dec 2026, 09:00 CET") {
		t.Errorf("DESCRIPTION %q lacks the local time", desc)
	}
}

func TestInviteRescheduleAndCancel(t *testing.T) {
	d := sampleData()
	first, err := notify.Invite(d, notify.ICSRequest, 0)
	if err != nil {
		t.Fatal(err)
	}
	d.Start, d.End = d.Start.Add(24*time.Hour), d.End.Add(24*time.Hour)
	moved, err := notify.Invite(d, notify.ICSRequest, 1)
	if err != nil {
		t.Fatal(err)
	}
	cancelled, err := notify.Invite(d, notify.ICSCancel, 2)
	if err != nil {
		t.Fatal(err)
	}
	_, e0 := parseInvite(t, first)
	_, e1 := parseInvite(t, moved)
	cal2, e2 := parseInvite(t, cancelled)
	if e0.Id() != e1.Id() || e1.Id() != e2.Id() {
		t.Errorf("UID changed: %q %q %q", e0.Id(), e1.Id(), e2.Id())
	}
	if eventProp(e1, ics.ComponentPropertySequence) != "1" || eventProp(e2, ics.ComponentPropertySequence) != "2" {
		t.Errorf("sequences %q %q", eventProp(e1, ics.ComponentPropertySequence), eventProp(e2, ics.ComponentPropertySequence))
	}
	if got := eventProp(e1, ics.ComponentPropertyDtStart); got != "20261208T080000Z" {
		t.Errorf("moved DTSTART %q", got)
	}
	if calendarProp(cal2, ics.PropertyMethod) != "CANCEL" || eventProp(e2, ics.ComponentPropertyStatus) != "CANCELLED" {
		t.Errorf("cancel: METHOD %q STATUS %q", calendarProp(cal2, ics.PropertyMethod), eventProp(e2, ics.ComponentPropertyStatus))
	}
	org := e2.GetProperty(ics.ComponentPropertyOrganizer)
	if org == nil || org.Value != "mailto:no-reply@clinic.localhost" {
		t.Errorf("default ORGANIZER %+v", org)
	}
}

func TestInviteRejectsBadInput(t *testing.T) {
	d := sampleData()
	if _, err := notify.Invite(d, "PUBLISH", 0); err == nil {
		t.Error("method PUBLISH accepted")
	}
	if _, err := notify.Invite(d, notify.ICSRequest, -1); err == nil {
		t.Error("negative sequence accepted")
	}
	noID := d
	noID.BookingID = ""
	if _, err := notify.Invite(noID, notify.ICSRequest, 0); err == nil {
		t.Error("empty booking id accepted")
	}
	backwards := d
	backwards.End = d.Start
	if _, err := notify.Invite(backwards, notify.ICSRequest, 0); err == nil {
		t.Error("empty interval accepted")
	}
	badOrg := d
	badOrg.Organizer = "not an address"
	if _, err := notify.Invite(badOrg, notify.ICSRequest, 0); err == nil {
		t.Error("bad organizer accepted")
	}
}
