package notify_test

import (
	"testing"

	"github.com/clinicbook/booking/config"
	"github.com/clinicbook/booking/notify"
	"github.com/clinicbook/booking/notify/notifytest"
)

// The relay is asked by Message-ID alone: the message sent is found, with or without angle
// brackets; a different id, even one that shares all but its last character, is not.
func TestMailLookupFindsWhatTheRelayAccepted(t *testing.T) {
	host, port, api := notifytest.StartMailpit(t)
	mailer := notify.NewMailer(config.SMTP{Host: host, Port: port, From: "Clinic <no-reply@clinic.test>", TLS: "none"})
	lookup := notify.NewMailLookup(api)

	const id = "4d1f6c2e-5b7a-4a53-9a57-0c1b2d3e4f51@clinicbook"
	found, err := lookup.FindSent(t.Context(), "<"+id+">")
	if err != nil || found {
		t.Fatalf("before any send: found %v, err %v", found, err)
	}
	if err := mailer.Send(t.Context(), notify.Email{To: "anna@example.com", Subject: "Booked", Text: "See you.", MessageID: "<" + id + ">"}); err != nil {
		t.Fatalf("send: %v", err)
	}
	// No wait: Mailpit has stored the message by the time it answers 250 to DATA, which is
	// what makes the answer trustworthy for a send whose outcome was lost.
	for _, q := range []string{id, "<" + id + ">"} {
		found, err := lookup.FindSent(t.Context(), q)
		if err != nil || !found {
			t.Errorf("FindSent(%q) = %v, %v; want found", q, found, err)
		}
	}
	for _, q := range []string{"4d1f6c2e-5b7a-4a53-9a57-0c1b2d3e4f50@clinicbook", "4d1f6c2e@clinicbook"} {
		found, err := lookup.FindSent(t.Context(), q)
		if err != nil || found {
			t.Errorf("FindSent(%q) = %v, %v; want not found", q, found, err)
		}
	}
}

// A relay that cannot be asked is an error, never "not sent": the caller must retry rather
// than send a second copy on a guess.
func TestMailLookupUnreachableIsAnError(t *testing.T) {
	lookup := notify.NewMailLookup("http://127.0.0.1:1")
	if found, err := lookup.FindSent(t.Context(), "x@clinicbook"); err == nil {
		t.Fatalf("found %v with no error from a relay that is not there", found)
	}
}
