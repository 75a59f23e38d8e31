package notify_test

import (
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/notify"
)

func sampleData() notify.MessageData {
	return notify.MessageData{
		BookingID:     "7f3c2a10-0000-4000-8000-000000000001",
		PatientName:   "Anna Schmidt",
		ProviderName:  "Dr. Lena Weber",
		ServiceName:   "Check-up",
		Start:         time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC), // 09:00 in Berlin (CET)
		End:           time.Date(2026, 12, 7, 8, 30, 0, 0, time.UTC),
		TimeZone:      "Europe/Berlin",
		Reminder:      "24h",
		Reason:        domain.CancelReasonText("provider_unavailable"),
		OldStart:      time.Date(2026, 12, 4, 13, 0, 0, 0, time.UTC),
		PublicBaseURL: "https://clinic.test/",
	}
}

func TestRenderEveryKind(t *testing.T) {
	d := sampleData()
	for _, kind := range notify.Kinds {
		t.Run(kind, func(t *testing.T) {
			r, err := notify.Render(kind, d)
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			const when = "Mon 7 Dec 2026, 09:00 CET"
			for part, s := range map[string]string{"sms": r.SMS, "subject": r.Subject, "text": r.Text, "html": r.HTML} {
				for _, want := range []string{"Dr. Lena Weber", "Check-up", when} {
					if !strings.Contains(s, want) {
						t.Errorf("%s lacks %q:\n%s", part, want, s)
					}
				}
			}
			if strings.Contains(r.Subject, "\n") {
				t.Errorf("subject spans lines: %q", r.Subject)
			}
			if n := len([]rune(r.SMS)); n > 160 {
				t.Errorf("sms is %d characters (more than one segment): %s", n, r.SMS)
			}
			if !strings.Contains(r.Text, "Hello,") || !strings.Contains(r.Text, d.BookingID) {
				t.Errorf("text lacks greeting or reference:\n%s", r.Text)
			}
			if !strings.Contains(r.Text, "https://clinic.test/bookings/"+d.BookingID) ||
				!strings.Contains(r.HTML, `href="https://clinic.test/bookings/`+d.BookingID+`"`) {
				t.Errorf("no manage link:\n%s\n%s", r.Text, r.HTML)
			}
			if !strings.HasPrefix(r.HTML, "<!doctype html>") || !strings.Contains(r.HTML, "<title>"+htmlEscape(r.Subject)+"</title>") {
				t.Errorf("html is not a full document titled with the subject:\n%s", r.HTML)
			}
			if strings.Contains(r.Text, "<no value>") || strings.Contains(r.HTML, "<no value>") {
				t.Error("a template referenced a missing field")
			}
		})
	}
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "+", "&#43;").Replace(s)
}

func TestRenderKindSpecifics(t *testing.T) {
	d := sampleData()
	render := func(kind string) notify.Rendered {
		t.Helper()
		r, err := notify.Render(kind, d)
		if err != nil {
			t.Fatalf("render %s: %v", kind, err)
		}
		return r
	}

	rem := render(domain.NotifyReminder)
	// Reminders go to confirmed bookings: the only reply that means something is X.
	if !strings.Contains(rem.SMS, "in 24 hours") || !strings.Contains(rem.SMS, "Reply X to cancel") || strings.Contains(rem.SMS, "Reply C") {
		t.Errorf("reminder sms: %s", rem.SMS)
	}
	for _, kind := range []string{domain.NotifyConfirmation, domain.NotifyCancellation, domain.NotifyReschedule, domain.NotifyNoShow, domain.NotifyHoldExpired} {
		if r := render(kind); strings.Contains(r.SMS, "Reply") {
			t.Errorf("%s sms offers replies: %s", kind, r.SMS)
		}
	}

	resc := render(domain.NotifyReschedule)
	const old = "Fri 4 Dec 2026, 14:00 CET"
	for part, s := range map[string]string{"sms": resc.SMS, "text": resc.Text, "html": resc.HTML} {
		if !strings.Contains(s, old) {
			t.Errorf("reschedule %s lacks the old time %q:\n%s", part, old, s)
		}
	}

	canc := render(domain.NotifyCancellation)
	if !strings.Contains(canc.Text, "doctor is unavailable") || !strings.Contains(canc.HTML, "doctor is unavailable") || !strings.Contains(canc.SMS, "doctor is unavailable") {
		t.Errorf("cancellation lacks the reason:\n%s", canc.Text)
	}

	for _, kind := range []string{domain.NotifyConfirmation, domain.NotifyReminder, domain.NotifyReschedule, domain.NotifyNoShow, domain.NotifyHoldExpired} {
		if r := render(kind); strings.Contains(r.Text+r.HTML+r.SMS, "doctor is unavailable") {
			t.Errorf("%s shows the cancellation reason", kind)
		}
	}

	conf := render(domain.NotifyConfirmation)
	if !strings.Contains(conf.Text, "(until 09:30)") {
		t.Errorf("confirmation lacks the end time:\n%s", conf.Text)
	}
}

func TestRenderUsesProviderZoneAcrossDST(t *testing.T) {
	cases := []struct {
		start time.Time
		zone  string
		want  string
	}{
		{time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC), "Europe/Berlin", "Mon 7 Dec 2026, 09:00 CET"},
		{time.Date(2026, 7, 6, 7, 0, 0, 0, time.UTC), "Europe/Berlin", "Mon 6 Jul 2026, 09:00 CEST"},
		// The night clocks go forward (29 March 2026, 02:00 CET becomes 03:00 CEST).
		{time.Date(2026, 3, 29, 0, 30, 0, 0, time.UTC), "Europe/Berlin", "Sun 29 Mar 2026, 01:30 CET"},
		{time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC), "Europe/Berlin", "Sun 29 Mar 2026, 03:30 CEST"},
		{time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC), "America/New_York", "Mon 7 Dec 2026, 03:00 EST"},
		{time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC), "", "Mon 7 Dec 2026, 08:00 UTC"},
		// A start given in another zone is still shown in the provider's.
		{time.Date(2026, 12, 7, 17, 0, 0, 0, time.FixedZone("JST", 9*3600)), "Europe/Berlin", "Mon 7 Dec 2026, 09:00 CET"},
	}
	for _, c := range cases {
		d := sampleData()
		d.Start, d.End, d.TimeZone = c.start, c.start.Add(30*time.Minute), c.zone
		r, err := notify.Render(domain.NotifyConfirmation, d)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(r.SMS, c.want) {
			t.Errorf("%v in %q: sms %q, want %q", c.start, c.zone, r.SMS, c.want)
		}
		if got, _ := notify.FormatTime(c.start, c.zone); got != c.want {
			t.Errorf("FormatTime(%v, %q) = %q, want %q", c.start, c.zone, got, c.want)
		}
	}
}

func TestRenderRejectsBadInput(t *testing.T) {
	cases := []struct {
		name   string
		kind   string
		mutate func(*notify.MessageData)
	}{
		{"no provider", domain.NotifyConfirmation, func(d *notify.MessageData) { d.ProviderName = "" }},
		{"no service", domain.NotifyConfirmation, func(d *notify.MessageData) { d.ServiceName = "" }},
		{"no start", domain.NotifyConfirmation, func(d *notify.MessageData) { d.Start = time.Time{} }},
		{"unknown zone", domain.NotifyConfirmation, func(d *notify.MessageData) { d.TimeZone = "Mars/Olympus_Mons" }},
		{"reschedule without old start", domain.NotifyReschedule, func(d *notify.MessageData) { d.OldStart = time.Time{} }},
		{"unknown kind", "birthday", func(*notify.MessageData) {}},
	}
	for _, c := range cases {
		d := sampleData()
		c.mutate(&d)
		if _, err := notify.Render(c.kind, d); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

func TestRenderEscapesHTML(t *testing.T) {
	d := sampleData()
	d.ProviderName = `<script>alert("x")</script>`
	r, err := notify.Render(domain.NotifyConfirmation, d)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(r.HTML, "<script>") {
		t.Error("provider name not escaped in HTML")
	}
	if !strings.Contains(r.Text, d.ProviderName) {
		t.Error("plain text must carry the name unescaped")
	}
}

// What a user typed never reaches a message: not the patient's name, and no text but the
// clinic's own for a cancellation's reason.
func TestRenderCarriesNoUserText(t *testing.T) {
	d := sampleData()
	d.PatientName = "URGENT: verify at http://evil.example/login"
	for _, kind := range notify.Kinds {
		r, err := notify.Render(kind, d)
		if err != nil {
			t.Fatal(err)
		}
		for part, s := range map[string]string{"sms": r.SMS, "subject": r.Subject, "text": r.Text, "html": r.HTML} {
			if strings.Contains(s, "evil.example") {
				t.Errorf("%s %s carries the patient's name: %s", kind, part, s)
			}
		}
		if kind == domain.NotifyCancellation && !strings.Contains(r.SMS, d.Reason) {
			t.Errorf("cancellation sms lacks the clinic's reason: %s", r.SMS)
		}
	}
}

func TestRenderReminderLead(t *testing.T) {
	for reminder, want := range map[string]string{
		"24h": "in 24 hours", "2h": "in 2 hours", "1h": "in 1 hour", "30m": "in 30 minutes", "72h": "in 3 days", "": "", "soon": "",
	} {
		d := sampleData()
		d.Reminder = reminder
		r, err := notify.Render(domain.NotifyReminder, d)
		if err != nil {
			t.Fatal(err)
		}
		if want != "" && !strings.Contains(r.SMS, want) {
			t.Errorf("reminder %q: sms %q lacks %q", reminder, r.SMS, want)
		}
		if want == "" && strings.Contains(r.SMS, " in ") {
			t.Errorf("reminder %q: sms %q has a lead", reminder, r.SMS)
		}
	}
}

// The "manage your booking" link is in every email and invite exactly when PUBLIC_BASE_URL is
// configured, and in no SMS: a link would take the text past one segment.
func TestManageLinkOnlyWhenConfigured(t *testing.T) {
	b := domain.Booking{ID: "7f3c2a10-0000-4000-8000-000000000001", Start: time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC),
		End: time.Date(2026, 12, 7, 8, 30, 0, 0, time.UTC)}
	prov := domain.Provider{Name: "Dr. Lena Weber", TimeZone: "Europe/Berlin"}
	svc := domain.Service{Name: "Check-up"}
	patient := domain.User{Name: "Anna", Email: "anna@example.com"}
	const page = "https://clinic.test/bookings/7f3c2a10-0000-4000-8000-000000000001"
	for _, c := range []struct {
		name, base string
		linked     bool
	}{
		{"configured", "https://clinic.test", true},
		{"configured with a trailing slash", "https://clinic.test/", true},
		{"not configured", "", false},
	} {
		d := notify.BookingData(b, patient, prov, svc, "", c.base)
		d.OldStart = b.Start.Add(-time.Hour)
		for _, kind := range notify.Kinds {
			r, err := notify.Render(kind, d)
			if err != nil {
				t.Fatal(err)
			}
			invite, err := notify.Invite(d, "REQUEST", 0)
			if err != nil {
				t.Fatal(err)
			}
			_, ev := parseInvite(t, invite)
			for part, s := range map[string]string{"text": r.Text, "html": r.HTML, "invite": eventProp(ev, ics.ComponentPropertyDescription)} {
				if got := strings.Count(s, page); c.linked && got != 1 || !c.linked && got != 0 {
					t.Errorf("%s: %s %s has the booking's page %d times:\n%s", c.name, kind, part, got, s)
				}
				if !c.linked && strings.Contains(s, "Manage your booking") {
					t.Errorf("%s: %s %s offers a link it does not have:\n%s", c.name, kind, part, s)
				}
			}
			if strings.Contains(r.SMS, "/bookings/") {
				t.Errorf("%s: %s sms carries the link: %s", c.name, kind, r.SMS)
			}
		}
	}
}
