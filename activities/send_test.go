package activities_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/clinicbook/booking/activities"
	"github.com/clinicbook/booking/activities/contract"
	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/notify"
)

// fakeSMS records the texts sent and answers FindSent from found.
type fakeSMS struct {
	mu    sync.Mutex
	sid   string
	err   error
	sent  []sentSMS
	found map[string][]string // body -> sids of the messages the provider has, oldest first
	finds []findSMS
}

type sentSMS struct{ to, body string }

type findSMS struct {
	to, body string
	since    time.Time
}

func (f *fakeSMS) Send(ctx context.Context, to, body string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, sentSMS{to, body})
	return f.sid, f.err
}

func (f *fakeSMS) FindSent(ctx context.Context, to, body string, since time.Time) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.finds = append(f.finds, findSMS{to, body, since})
	return f.found[body], nil
}

// fakeEmail records every email handed to it, including the ones it fails with err.
type fakeEmail struct {
	mu   sync.Mutex
	err  error
	sent []notify.Email
}

func (f *fakeEmail) Send(ctx context.Context, msg notify.Email) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, msg)
	return f.err
}

// fakeLookup is the relay's search: it answers found for every Message-ID asked about, and
// records what was asked.
type fakeLookup struct {
	mu    sync.Mutex
	found bool
	asked []string
}

func (f *fakeLookup) FindSent(ctx context.Context, messageID string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, messageID)
	return f.found, nil
}

const (
	patientEmail = "ann@example.com"
	patientPhone = "+4915100000001"
)

// sendFixture is a confirmed booking (revision 1) of a patient whose email and phone are
// verified, with fake senders.
type sendFixture struct {
	st    *memStore
	sms   *fakeSMS
	email *fakeEmail
	acts  *activities.Activities
}

func newSendFixture(t *testing.T) *sendFixture {
	t.Helper()
	st := newMemStore()
	start := time.Now().Add(48 * time.Hour).Truncate(time.Hour)
	st.bookings["b-1"] = domain.Booking{ID: "b-1", ProviderID: "prov-1", ServiceID: "svc-30", PatientID: "pat-1",
		Start: start, End: start.Add(30 * time.Minute), Status: domain.StatusConfirmed, Revision: 1}
	st.users["pat-1"] = domain.User{ID: "pat-1", Name: "Ann", Email: patientEmail, Phone: patientPhone,
		Role: domain.RolePatient, EmailVerified: true, PhoneVerified: true}
	st.providers["prov-1"] = domain.Provider{ID: "prov-1", Name: "Dr One", TimeZone: "Europe/Berlin"}
	st.services["svc-30"] = domain.Service{ID: "svc-30", Name: "Consultation", DurationMinutes: 30}
	f := &sendFixture{st: st, sms: &fakeSMS{sid: "SM0001"}, email: &fakeEmail{}}
	f.acts = &activities.Activities{Store: st, Now: time.Now, Notifier: activities.Notifier{
		SMS: f.sms, Email: f.email, PublicBaseURL: "https://clinic.example", Organizer: "clinic@example.com"}}
	return f
}

func confirmation(channel string) contract.NotifyInput {
	return contract.NotifyInput{BookingID: "b-1", Kind: domain.NotifyConfirmation, Channel: channel, Revision: 1}
}

// send runs one attempt of SendNotification (no retries) in Temporal's activity test
// environment.
func (f *sendFixture) send(t *testing.T, in contract.NotifyInput) (contract.NotifyResult, error) {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(f.acts)
	v, err := env.ExecuteActivity(f.acts.SendNotification, in)
	if err != nil {
		return contract.NotifyResult{}, err
	}
	var res contract.NotifyResult
	require.NoError(t, v.Get(&res))
	return res, nil
}

func (f *sendFixture) row(t *testing.T) memNote {
	t.Helper()
	n, err := f.st.note("b-1")
	require.NoError(t, err)
	return n
}

// underWay writes the row an attempt left when it died between marking the send and hearing
// the provider's answer.
func (f *sendFixture) underWay(channel, smsText string) domain.Notification {
	n := domain.Notification{ID: "n-1", BookingID: "b-1", Kind: domain.NotifyConfirmation, Channel: channel, Revision: 1,
		Recipient: patientEmail, Status: domain.NotificationSending, Attempts: 1, UpdatedAt: time.Now().Add(-2 * time.Minute)}
	if channel == domain.ChannelSMS {
		n.Recipient = patientPhone
	}
	f.st.addNote(n, smsText)
	return n
}

func TestSendNotificationSkipsAnUnverifiedContact(t *testing.T) {
	for _, channel := range []string{domain.ChannelEmail, domain.ChannelSMS} {
		t.Run(channel, func(t *testing.T) {
			f := newSendFixture(t)
			u := f.st.users["pat-1"]
			u.EmailVerified, u.PhoneVerified = false, false
			f.st.users["pat-1"] = u

			res, err := f.send(t, confirmation(channel))
			require.NoError(t, err)
			require.Equal(t, domain.NotificationSkipped, res.Status)
			row := f.row(t)
			require.Equal(t, domain.NotificationSkipped, row.Status)
			require.Contains(t, row.Error, "not verified")
			require.Zero(t, row.Attempts)
			require.Empty(t, f.email.sent)
			require.Empty(t, f.sms.sent)
		})
	}
}

func TestSendNotificationMarksSentWithTheProviderID(t *testing.T) {
	t.Run("sms", func(t *testing.T) {
		f := newSendFixture(t)
		res, err := f.send(t, confirmation(domain.ChannelSMS))
		require.NoError(t, err)
		require.Equal(t, domain.NotificationSent, res.Status)
		row := f.row(t)
		require.Equal(t, res.NotificationID, row.ID)
		require.Equal(t, domain.NotificationSent, row.Status)
		require.Equal(t, "SM0001", row.ProviderMessageID)
		require.Equal(t, 1, row.Attempts)
		require.Len(t, f.sms.sent, 1)
		require.Equal(t, patientPhone, f.sms.sent[0].to)
		require.Contains(t, f.sms.sent[0].body, "Dr One")
		require.Equal(t, f.sms.sent[0].body, row.smsText, "the text handed to Twilio is kept for a later FindSent")
		require.Empty(t, f.email.sent)

		// A retry after the row was marked finds it sent and sends nothing.
		res, err = f.send(t, confirmation(domain.ChannelSMS))
		require.NoError(t, err)
		require.Equal(t, domain.NotificationSent, res.Status)
		require.Len(t, f.sms.sent, 1)
		require.Empty(t, f.sms.finds)
	})
	t.Run("email", func(t *testing.T) {
		f := newSendFixture(t)
		res, err := f.send(t, confirmation(domain.ChannelEmail))
		require.NoError(t, err)
		require.Equal(t, domain.NotificationSent, res.Status)
		row := f.row(t)
		require.Equal(t, domain.NotificationSent, row.Status)
		require.Equal(t, 1, row.Attempts)
		require.Len(t, f.email.sent, 1)
		msg := f.email.sent[0]
		require.Equal(t, patientEmail, msg.To)
		require.Equal(t, "<"+row.ID+"@clinicbook>", msg.MessageID, "the Message-ID the relay is later asked for")
		require.Equal(t, "REQUEST", msg.ICSMethod)
		require.NotEmpty(t, msg.ICS)
		require.Empty(t, f.sms.sent)
	})
}

func TestSendNotificationSettlesASendLeftUnderWay(t *testing.T) {
	t.Run("email the relay has is marked sent, not sent again", func(t *testing.T) {
		f := newSendFixture(t)
		n := f.underWay(domain.ChannelEmail, "")
		lookup := &fakeLookup{found: true}
		f.acts.EmailLookup = lookup

		res, err := f.send(t, confirmation(domain.ChannelEmail))
		require.NoError(t, err)
		require.Equal(t, contract.NotifyResult{NotificationID: n.ID, Status: domain.NotificationSent}, res)
		require.Equal(t, []string{"<n-1@clinicbook>"}, lookup.asked)
		require.Empty(t, f.email.sent)
		row := f.row(t)
		require.Equal(t, domain.NotificationSent, row.Status)
		require.Equal(t, 1, row.Attempts)
	})
	t.Run("email the relay never had, for a booking moved since, is skipped", func(t *testing.T) {
		f := newSendFixture(t)
		f.underWay(domain.ChannelEmail, "")
		b := f.st.bookings["b-1"]
		b.Revision = 2
		f.st.bookings["b-1"] = b
		lookup := &fakeLookup{found: false}
		f.acts.EmailLookup = lookup

		res, err := f.send(t, confirmation(domain.ChannelEmail))
		require.NoError(t, err)
		require.Equal(t, domain.NotificationSkipped, res.Status)
		require.Len(t, lookup.asked, 1)
		require.Empty(t, f.email.sent)
		require.Equal(t, domain.NotificationSkipped, f.row(t).Status)
	})
	t.Run("email with no relay lookup is sent again", func(t *testing.T) {
		f := newSendFixture(t)
		f.underWay(domain.ChannelEmail, "")
		require.Nil(t, f.acts.EmailLookup)

		res, err := f.send(t, confirmation(domain.ChannelEmail))
		require.NoError(t, err)
		require.Equal(t, domain.NotificationSent, res.Status)
		require.Len(t, f.email.sent, 1)
		require.Equal(t, "<n-1@clinicbook>", f.email.sent[0].MessageID, "the resend carries the first attempt's Message-ID")
		row := f.row(t)
		require.Equal(t, domain.NotificationSent, row.Status)
		require.Equal(t, 2, row.Attempts)
	})
	t.Run("sms Twilio has is found by the text sent before, not the one rendered now", func(t *testing.T) {
		f := newSendFixture(t)
		n := f.underWay(domain.ChannelSMS, "the text of the first attempt")
		f.sms.found = map[string][]string{"the text of the first attempt": {"SM-earlier"}}

		res, err := f.send(t, confirmation(domain.ChannelSMS))
		require.NoError(t, err)
		require.Equal(t, domain.NotificationSent, res.Status)
		require.Equal(t, []findSMS{{to: patientPhone, body: "the text of the first attempt", since: n.UpdatedAt.Add(-time.Minute)}}, f.sms.finds)
		require.Empty(t, f.sms.sent)
		row := f.row(t)
		require.Equal(t, domain.NotificationSent, row.Status)
		require.Equal(t, "SM-earlier", row.ProviderMessageID)
	})
}

// Found by make chaos: a patient cancelled and booked the same slot again, so both
// confirmations had the same text. The second's send died unheard, and Twilio's log showed the
// first's message: the row took its SID, which another row holds, and could never be marked
// sent. A message another row holds is not this attempt's.
func TestSendNotificationLeavesAnotherRowsSMSAlone(t *testing.T) {
	t.Run("the next message with that text is this attempt's", func(t *testing.T) {
		f := newSendFixture(t)
		f.st.addNote(domain.Notification{ID: "n-0", BookingID: "b-0", Kind: domain.NotifyConfirmation, Channel: domain.ChannelSMS,
			Recipient: patientPhone, Status: domain.NotificationSent, ProviderMessageID: "SM-first"}, "same text")
		f.underWay(domain.ChannelSMS, "same text")
		f.sms.found = map[string][]string{"same text": {"SM-first", "SM-second"}}

		res, err := f.send(t, confirmation(domain.ChannelSMS))
		require.NoError(t, err)
		require.Equal(t, domain.NotificationSent, res.Status)
		require.Empty(t, f.sms.sent)
		require.Equal(t, "SM-second", f.row(t).ProviderMessageID)
	})
	t.Run("none left: the attempt never reached Twilio, and is sent now", func(t *testing.T) {
		f := newSendFixture(t)
		f.st.addNote(domain.Notification{ID: "n-0", BookingID: "b-0", Kind: domain.NotifyConfirmation, Channel: domain.ChannelSMS,
			Recipient: patientPhone, Status: domain.NotificationSent, ProviderMessageID: "SM-first"}, "same text")
		f.underWay(domain.ChannelSMS, "same text")
		f.sms.found = map[string][]string{"same text": {"SM-first"}}
		f.sms.sid = "SM-new"

		res, err := f.send(t, confirmation(domain.ChannelSMS))
		require.NoError(t, err)
		require.Equal(t, domain.NotificationSent, res.Status)
		require.Len(t, f.sms.sent, 1)
		require.Equal(t, "SM-new", f.row(t).ProviderMessageID)
	})
}

func TestSendNotificationSendErrors(t *testing.T) {
	t.Run("a permanent refusal marks the row failed", func(t *testing.T) {
		f := newSendFixture(t)
		f.email.err = &notify.SendError{Channel: domain.ChannelEmail, Permanent: true, Status: 550, Err: errors.New("mailbox unavailable")}

		res, err := f.send(t, confirmation(domain.ChannelEmail))
		require.NoError(t, err, "nothing to retry")
		require.Equal(t, domain.NotificationFailed, res.Status)
		require.Len(t, f.email.sent, 1)
		row := f.row(t)
		require.Equal(t, domain.NotificationFailed, row.Status)
		require.Contains(t, row.Error, "mailbox unavailable")
	})
	t.Run("a temporary failure is retried, the row left under way with the error noted", func(t *testing.T) {
		f := newSendFixture(t)
		f.email.err = &notify.SendError{Channel: domain.ChannelEmail, Status: 421, Err: errors.New("try again later")}

		_, err := f.send(t, confirmation(domain.ChannelEmail))
		require.ErrorContains(t, err, "try again later")
		require.Len(t, f.email.sent, 1)
		row := f.row(t)
		require.Equal(t, domain.NotificationSending, row.Status)
		require.Contains(t, row.Error, "try again later")
	})
}

// Once the provider has accepted a message, a short database outage must not leave the row
// in status sending: marking it is retried until it takes.
func TestSendNotificationWaitsOutAShortOutageToMarkSent(t *testing.T) {
	f := newSendFixture(t)
	f.st.sentOutage = 2 // 250 ms + 500 ms of waiting

	res, err := f.send(t, confirmation(domain.ChannelEmail))
	require.NoError(t, err)
	require.Equal(t, domain.NotificationSent, res.Status)
	require.Equal(t, 3, f.st.sentCalls)
	require.Len(t, f.email.sent, 1)
	require.Equal(t, domain.NotificationSent, f.row(t).Status)
}
