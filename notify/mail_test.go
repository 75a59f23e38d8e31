package notify_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/clinicbook/booking/config"
	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/notify"
	"github.com/clinicbook/booking/notify/notifytest"
)

func TestMailerDeliversInviteToMailpit(t *testing.T) {
	// Only example.com recipients are accepted, so the same Mailpit also shows a refusal.
	host, port, api := notifytest.StartMailpit(t, "--smtp-allowed-recipients", `@example\.com$`)
	mailer := notify.NewMailer(config.SMTP{Host: host, Port: port, From: "Sunrise Clinic <no-reply@clinic.test>", TLS: "none"})

	d := sampleData()
	d.PatientEmail = "anna@example.com"
	r, err := notify.Render(domain.NotifyConfirmation, d)
	if err != nil {
		t.Fatal(err)
	}
	invite, err := notify.Invite(d, notify.ICSRequest, 0)
	if err != nil {
		t.Fatal(err)
	}
	msgID := "notification-1.confirmation.0@clinicbook"
	err = mailer.Send(t.Context(), notify.Email{
		To: "Anna Schmidt <anna@example.com>", Subject: r.Subject, Text: r.Text, HTML: r.HTML,
		MessageID: msgID, ICS: invite, ICSMethod: notify.ICSRequest,
	})
	if err != nil {
		t.Fatalf("send: %v", err)
	}

	sum := notifytest.WaitForMail(t, api, 10*time.Second, func(m notifytest.MailSummary) bool { return m.MessageID == msgID })
	m := notifytest.GetMail(t, api, sum.ID)
	if m.Subject != r.Subject {
		t.Errorf("subject %q, want %q", m.Subject, r.Subject)
	}
	if len(m.To) != 1 || m.To[0].Address != "anna@example.com" {
		t.Errorf("to %+v", m.To)
	}
	if m.From.Address != "no-reply@clinic.test" || m.From.Name != "Sunrise Clinic" {
		t.Errorf("from %+v", m.From)
	}
	if !strings.Contains(m.Text, "Dr. Lena Weber") || !strings.Contains(m.HTML, "Dr. Lena Weber") {
		t.Errorf("bodies do not name the doctor:\n%s\n%s", m.Text, m.HTML)
	}
	var att *notifytest.MailAttachment
	for i := range m.Attachments {
		if m.Attachments[i].FileName == "invite.ics" {
			att = &m.Attachments[i]
		}
	}
	if att == nil {
		t.Fatalf("no invite.ics among attachments %+v", m.Attachments)
	}
	if !strings.HasPrefix(att.ContentType, "text/calendar") {
		t.Errorf("invite content type %q", att.ContentType)
	}
	raw := notifytest.MailRaw(t, api, m.ID)
	if !bytes.Contains(raw, []byte(`Content-Type: text/calendar; method=REQUEST`)) ||
		!bytes.Contains(raw, []byte(`filename="invite.ics"`)) {
		t.Errorf("raw message lacks the calendar part's headers:\n%s", raw)
	}
	if !bytes.Contains(raw, []byte("Message-ID: <"+msgID+">")) {
		t.Errorf("raw message lacks Message-ID <%s>", msgID)
	}
	body := notifytest.MailPart(t, api, m.ID, att.PartID)
	if !bytes.Contains(body, []byte("METHOD:REQUEST")) {
		t.Errorf("invite lacks METHOD:REQUEST:\n%s", body)
	}
	cal, err := ics.ParseCalendar(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse delivered invite: %v", err)
	}
	if ev := cal.Events(); len(ev) != 1 || ev[0].Id() != notify.InviteUID(d.BookingID) {
		t.Errorf("delivered invite events %+v", ev)
	}

	// A resend carries the same Message-ID so it is recognisable as the same notification.
	if err := mailer.Send(t.Context(), notify.Email{To: "anna@example.com", Subject: r.Subject, Text: r.Text, MessageID: "<" + msgID + ">"}); err != nil {
		t.Fatalf("resend: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := 0
		for _, s := range notifytest.ListMail(t, api) {
			if s.MessageID == msgID {
				n++
			}
		}
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages with Message-ID %s, want 2", n, msgID)
		}
		time.Sleep(25 * time.Millisecond)
	}

	// Mailpit refuses the recipient at RCPT with a 5xx: permanent.
	err = mailer.Send(t.Context(), notify.Email{To: "someone@elsewhere.test", Subject: "x", Text: "x"})
	if !notify.IsPermanent(err) {
		t.Fatalf("refused recipient: err = %v, want permanent", err)
	}
	var se *notify.SendError
	if !errors.As(err, &se) || se.Status < 500 || se.Channel != domain.ChannelEmail {
		t.Errorf("refused recipient: %#v", se)
	}
}

func TestMailerCancelInvite(t *testing.T) {
	host, port, api := notifytest.StartMailpit(t)
	mailer := notify.NewMailer(config.SMTP{Host: host, Port: port, From: "no-reply@clinic.test", TLS: "none"})
	d := sampleData()
	r, err := notify.Render(domain.NotifyCancellation, d)
	if err != nil {
		t.Fatal(err)
	}
	invite, err := notify.Invite(d, notify.ICSCancel, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := mailer.Send(t.Context(), notify.Email{To: "anna@example.com", Subject: r.Subject, HTML: r.HTML, ICS: invite, ICSMethod: "cancel"}); err != nil {
		t.Fatalf("send: %v", err)
	}
	sum := notifytest.WaitForMail(t, api, 10*time.Second, func(m notifytest.MailSummary) bool { return m.Subject == r.Subject })
	m := notifytest.GetMail(t, api, sum.ID)
	if len(m.Attachments) != 1 {
		t.Fatalf("attachments %+v", m.Attachments)
	}
	body := notifytest.MailPart(t, api, m.ID, m.Attachments[0].PartID)
	if !bytes.Contains(body, []byte("METHOD:CANCEL")) || !bytes.Contains(body, []byte("STATUS:CANCELLED")) {
		t.Errorf("cancel invite:\n%s", body)
	}
}

func TestMailerAuthenticates(t *testing.T) {
	authFile := filepath.Join(t.TempDir(), "smtp-auth")
	if err := os.WriteFile(authFile, []byte("clinic:secret123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	host, port, api := notifytest.StartMailpit(t, "--smtp-auth-file", authFile, "--smtp-auth-allow-insecure")
	cfg := config.SMTP{Host: host, Port: port, Username: "clinic", Password: "secret123", From: "no-reply@clinic.test", TLS: "none"}
	if err := notify.NewMailer(cfg).Send(t.Context(), notify.Email{To: "anna@example.com", Subject: "authenticated", Text: "x"}); err != nil {
		t.Fatalf("send with credentials: %v", err)
	}
	notifytest.WaitForMail(t, api, 10*time.Second, func(m notifytest.MailSummary) bool { return m.Subject == "authenticated" })

	cfg.Password = "wrong"
	err := notify.NewMailer(cfg).Send(t.Context(), notify.Email{To: "anna@example.com", Subject: "x", Text: "x"})
	if !notify.IsPermanent(err) {
		t.Fatalf("wrong password: err = %v, want permanent", err)
	}
	var se *notify.SendError
	if errors.As(err, &se) && se.Status != 535 {
		t.Errorf("wrong password: status %d, want 535", se.Status)
	}
}

func TestMailerRefusesBadInput(t *testing.T) {
	mailer := notify.NewMailer(config.SMTP{Host: "127.0.0.1", Port: 1, From: "no-reply@clinic.test", TLS: "none"})
	for name, e := range map[string]notify.Email{
		"bad address": {To: "not an address", Subject: "x", Text: "x"},
		"no body":     {To: "anna@example.com", Subject: "x"},
		"bad method":  {To: "anna@example.com", Subject: "x", Text: "x", ICS: []byte("BEGIN:VCALENDAR"), ICSMethod: "PUBLISH"},
	} {
		if err := mailer.Send(t.Context(), e); !notify.IsPermanent(err) {
			t.Errorf("%s: err = %v, want permanent", name, err)
		}
	}
}

func TestMailerUnreachableIsTemporary(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	mailer := notify.NewMailer(config.SMTP{Host: "127.0.0.1", Port: port, From: "no-reply@clinic.test", TLS: "none"})
	err = mailer.Send(t.Context(), notify.Email{To: "anna@example.com", Subject: "x", Text: "x"})
	if err == nil || notify.IsPermanent(err) {
		t.Fatalf("connection refused: err = %v, want temporary", err)
	}
}

func TestMailerHonoursDeadline(t *testing.T) {
	// A server that accepts the connection but never greets.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	mailer := notify.NewMailer(config.SMTP{Host: "127.0.0.1", Port: port, From: "no-reply@clinic.test", TLS: "none"})
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = mailer.Send(ctx, notify.Email{To: "anna@example.com", Subject: "x", Text: "x"})
	if err == nil || notify.IsPermanent(err) {
		t.Fatalf("silent server: err = %v, want temporary", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("send took %v despite a 300ms deadline", d)
	}
}
