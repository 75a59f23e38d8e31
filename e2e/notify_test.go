package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clinicbook/booking/api"
	"github.com/clinicbook/booking/app"
	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/internal/temporaltest"
	"github.com/clinicbook/booking/notify/notifytest"
	"github.com/clinicbook/booking/twiliosandbox"
)

// The notification tests: every message goes through the real twilio-go client to the
// sandbox and over SMTP to Mailpit, and must arrive exactly once, whatever fails on the way.

func TestConfirmationSendsOneSMSAndOneEmail(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	const phone, email = "+15550101001", "one@example.com"
	_, token := p.patient(email, phone)
	id := p.bookConfirmed(token, tomorrowAt(10, 0))

	// One SMS naming the doctor, one email, and the SMS's delivery report on the timeline (the
	// sandbox's signed status callback reached our webhook).
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		if sms := p.smsTo(phone); assert.Len(c, sms, 1) {
			assert.Contains(c, sms[0].Body, "Dr. Test")
		}
		mail, err := listMail(p.mailAPI, email)
		require.NoError(c, err)
		assert.Len(c, mail, 1)

		var b bookingBody
		status, err := getJSON(p.url+"/v1/bookings/"+id, token, &b)
		require.NoError(c, err)
		require.Equal(c, http.StatusOK, status)
		assert.Contains(c, notificationStates(b), "confirmation/sms/"+phone+"/delivered")
		assert.Contains(c, notificationStates(b), "confirmation/email/"+email+"/sent")
	}, 20*time.Second, 100*time.Millisecond)

	mail, err := listMail(p.mailAPI, email)
	require.NoError(t, err)
	require.Contains(t, mail[0].Subject, "Dr. Test")
	ics := p.invite(mail[0].ID)
	require.Contains(t, ics, "METHOD:REQUEST")
	require.Contains(t, ics, "BEGIN:VEVENT")

	// The email links to the booking's page in the web app, under PUBLIC_BASE_URL; the SMS,
	// one segment, does not.
	page := p.cfg.PublicBaseURL + "/bookings/" + id
	m := notifytest.GetMail(t, p.mailAPI, mail[0].ID)
	require.Contains(t, m.Text, "Manage your booking: "+page)
	require.Contains(t, m.HTML, `href="`+page+`"`)
	require.NotContains(t, p.smsTo(phone)[0].Body, "/bookings/")

	p.requireNoMoreMessages(phone, email, 1, 1)
}

func TestSMSSentOnceThroughTwilioFailures(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	const phone, email = "+15550102001", "flaky@example.com"
	_, token := p.patient(email, phone)
	// Twilio fails the first three sends: 500, 500, then 429 with Retry-After.
	require.NoError(t, p.sandbox.Fail(2, twiliosandbox.Fault{Mode: twiliosandbox.FailServerError}))
	require.NoError(t, p.sandbox.Fail(1, twiliosandbox.Fault{Mode: twiliosandbox.FailRateLimited}))

	id := p.bookConfirmed(token, tomorrowAt(11, 0))

	// The activity's retries (2s, 4s, 8s apart) get through on the fourth try.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Len(c, p.smsTo(phone), 1)
		n, err := p.notification(id, domain.NotifyConfirmation, domain.ChannelSMS)
		require.NoError(c, err)
		assert.Equal(c, domain.NotificationDelivered, n.Status)
	}, 60*time.Second, 200*time.Millisecond)

	require.Zero(t, p.sandbox.PendingFaults())
	n, err := p.notification(id, domain.NotifyConfirmation, domain.ChannelSMS)
	require.NoError(t, err)
	require.GreaterOrEqual(t, n.Attempts, 4, "each failed send is an attempt")
	require.Equal(t, p.smsTo(phone)[0].SID, n.ProviderMessageID)
	p.requireNoMoreMessages(phone, email, 1, 1)
}

// TestWorkerKilledMidSend kills the worker process (SIGKILL) while Twilio holds its SMS
// request, starts another, and checks that Temporal's retry on the new worker neither loses
// the SMS nor sends it twice. Each case waits out the activity's 45s start-to-close timeout.
func TestWorkerKilledMidSend(t *testing.T) {
	t.Parallel()
	bin := buildBookingBinary(t)

	t.Run("twilio accepted the SMS but the answer was lost", func(t *testing.T) {
		p, id, phone, email := killWorkerMidSend(t, bin, twiliosandbox.FailAcceptThenTimeout)
		sms := p.smsTo(phone)
		require.Len(t, sms, 1, "twilio has the message although the worker never heard back")

		// The new worker finds the row "sending", asks Twilio, finds the message and settles
		// the row with its SID without sending again.
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			n, err := p.notification(id, domain.NotifyConfirmation, domain.ChannelSMS)
			require.NoError(c, err)
			assert.Contains(c, []string{domain.NotificationSent, domain.NotificationDelivered}, n.Status)
		}, 2*time.Minute, 250*time.Millisecond)
		n, err := p.notification(id, domain.NotifyConfirmation, domain.ChannelSMS)
		require.NoError(t, err)
		require.Equal(t, sms[0].SID, n.ProviderMessageID)
		require.Equal(t, 1, n.Attempts, "the retry must not have started a second send")
		p.requireNoMoreMessages(phone, email, 1, 1)
	})

	t.Run("twilio never got the SMS", func(t *testing.T) {
		p, id, phone, email := killWorkerMidSend(t, bin, twiliosandbox.FailTimeout)
		require.Empty(t, p.smsTo(phone))

		// The new worker asks Twilio, finds nothing, and sends: once.
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			assert.Len(c, p.smsTo(phone), 1)
			n, err := p.notification(id, domain.NotifyConfirmation, domain.ChannelSMS)
			require.NoError(c, err)
			assert.Contains(c, []string{domain.NotificationSent, domain.NotificationDelivered}, n.Status)
		}, 2*time.Minute, 250*time.Millisecond)
		n, err := p.notification(id, domain.NotifyConfirmation, domain.ChannelSMS)
		require.NoError(t, err)
		require.Equal(t, p.smsTo(phone)[0].SID, n.ProviderMessageID)
		require.Equal(t, 2, n.Attempts)
		p.requireNoMoreMessages(phone, email, 1, 1)
	})
}

// killWorkerMidSend runs a platform whose only worker is a `booking worker` process, books
// and confirms with Twilio set to hold the SMS request in the given mode, kills that worker
// once the email is sent and the SMS request is held, and starts a second worker process.
func killWorkerMidSend(t *testing.T, bin string, mode twiliosandbox.FailMode) (p *platform, bookingID, phone, email string) {
	p = newPlatform(t)
	p.serveAPIWithoutWorker()
	phone, email = "+15550103001", "killed@example.com"
	first := p.startWorkerProcess(bin)
	_, token := p.patient(email, phone)
	// Held far longer than the test: only the worker's death ends the request.
	require.NoError(t, p.sandbox.Fail(1, twiliosandbox.Fault{Mode: mode, Hold: 5 * time.Minute}))
	bookingID = p.bookConfirmed(token, tomorrowAt(9, 0))

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Zero(c, p.sandbox.PendingFaults(), "the SMS request has not reached Twilio yet")
		sms, err := p.notification(bookingID, domain.NotifyConfirmation, domain.ChannelSMS)
		require.NoError(c, err)
		assert.Equal(c, domain.NotificationSending, sms.Status)
		mail, err := p.notification(bookingID, domain.NotifyConfirmation, domain.ChannelEmail)
		require.NoError(c, err)
		assert.Equal(c, domain.NotificationSent, mail.Status)
		if mode == twiliosandbox.FailAcceptThenTimeout {
			assert.Len(c, p.smsTo(phone), 1)
		}
	}, 30*time.Second, 20*time.Millisecond)
	first.kill()

	sms, err := p.notification(bookingID, domain.NotifyConfirmation, domain.ChannelSMS)
	require.NoError(t, err)
	require.Equal(t, domain.NotificationSending, sms.Status, "the killed worker left the send unsettled")
	require.Equal(t, 1, sms.Attempts)
	p.startWorkerProcess(bin)
	return p, bookingID, phone, email
}

func TestForgedTwilioWebhooksAreRefused(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	ctx := context.Background()
	const phone = "+15550104001"
	_, token := p.patient("forger@example.com", phone)
	held := p.bookAt(token, p.provider.ID, tomorrowAt(14, 0))

	// An SMS Twilio accepted and has not reported on yet: what a status callback would change.
	sid := "SM" + strings.ReplaceAll(uuid.NewString(), "-", "")
	n, err := p.st.EnsureNotification(ctx, domain.Notification{ID: uuid.NewString(), BookingID: held.ID,
		Kind: domain.NotifyConfirmation, Channel: domain.ChannelSMS, Revision: held.Revision, Recipient: phone})
	require.NoError(t, err)
	require.NoError(t, p.st.MarkNotificationSending(ctx, n.ID))
	require.NoError(t, p.st.MarkNotificationSent(ctx, n.ID, sid))

	statusPath, inboundPath := "/v1/webhooks/twilio/status", "/v1/webhooks/twilio/inbound"
	hooks := []struct {
		path   string
		params url.Values
	}{
		{statusPath, url.Values{"MessageSid": {sid}, "SmsSid": {sid}, "AccountSid": {notifytest.AccountSID},
			"From": {notifytest.FromNumber}, "To": {phone}, "MessageStatus": {"failed"}, "SmsStatus": {"failed"}}},
		{inboundPath, url.Values{"MessageSid": {"SM" + strings.ReplaceAll(uuid.NewString(), "-", "")}, "AccountSid": {notifytest.AccountSID},
			"From": {phone}, "To": {notifytest.FromNumber}, "Body": {"X"}, "NumMedia": {"0"}}},
	}
	forgeries := []struct {
		name string
		sign func(target string, params url.Values) string
	}{
		{"no signature", func(string, url.Values) string { return "" }},
		{"not a signature", func(string, url.Values) string { return "bm90IGEgc2lnbmF0dXJl" }},
		{"signature of another body", func(target string, params url.Values) string {
			other := url.Values{}
			for k, v := range params {
				other[k] = v
			}
			other.Set("To", "+15550109999")
			return twiliosandbox.Signature(notifytest.AuthToken, target, other)
		}},
		{"signature for another URL", func(_ string, params url.Values) string {
			return twiliosandbox.Signature(notifytest.AuthToken, "https://example.com/v1/webhooks/twilio/status", params)
		}},
		{"signed with another auth token", func(target string, params url.Values) string {
			return twiliosandbox.Signature("fedcba9876543210fedcba9876543210", target, params)
		}},
	}

	before := p.dbState(held.ID)
	for _, h := range hooks {
		for _, f := range forgeries {
			target := p.url + h.path
			resp, body := postTwilioForm(t, target, h.params, f.sign(target, h.params))
			requireProblem(t, resp, body, http.StatusForbidden)
			require.Equal(t, before, p.dbState(held.ID), "%s %s changed the database", h.path, f.name)
		}
	}

	// The same requests signed with the account's token go through: the refusals were about
	// the signature alone.
	resp, body := postTwilioForm(t, p.url+statusPath, hooks[0].params, twiliosandbox.Signature(notifytest.AuthToken, p.url+statusPath, hooks[0].params))
	require.Equal(t, http.StatusNoContent, resp.StatusCode, "%s", body)
	n, err = p.notification(held.ID, domain.NotifyConfirmation, domain.ChannelSMS)
	require.NoError(t, err)
	require.Equal(t, domain.NotificationFailed, n.Status)

	resp, body = postTwilioForm(t, p.url+inboundPath, hooks[1].params, twiliosandbox.Signature(notifytest.AuthToken, p.url+inboundPath, hooks[1].params))
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	b, err := p.st.GetBooking(ctx, held.ID)
	require.NoError(t, err)
	require.Equal(t, domain.StatusCancelled, b.Status)
}

func TestInboundSMSRepliesCancelAndConfirm(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	ctx := context.Background()
	const phone, email = "+15550105001", "replies@example.com"
	_, token := p.patient(email, phone)
	reply := func(body string) string {
		t.Helper()
		res, err := p.sandbox.SendInbound(ctx, twiliosandbox.InboundSMS{From: phone, Body: body, URL: p.url + "/v1/webhooks/twilio/inbound"})
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Response)
		require.Contains(t, res.ContentType, "xml")
		var twiml struct {
			XMLName xml.Name `xml:"Response"`
			Message string   `xml:"Message"`
		}
		require.NoError(t, xml.Unmarshal([]byte(res.Response), &twiml), "%s", res.Response)
		return twiml.Message
	}

	first := p.bookConfirmed(token, tomorrowAt(10, 0))
	p.waitForMessages(phone, email, 1, 1)
	// The sandbox's delivery callbacks land on their own time; the comparisons below are about
	// what the replies change, so let them land first.
	before := p.settled(first, 2)

	// Anything but C or X gets the help text and changes nothing.
	help := reply("what time was it again?")
	require.Contains(t, help, "C to confirm")
	require.Contains(t, help, "X to cancel")
	require.Equal(t, before, p.dbState(first))

	// X cancels the next booking, and the patient is told on both channels.
	require.Contains(t, strings.ToLower(reply("X")), "cancelled")
	var b bookingBody
	require.Equal(t, http.StatusOK, p.do("GET", "/v1/bookings/"+first, token, nil, &b))
	require.Equal(t, "cancelled", b.Status)
	sms, mail := p.waitForMessages(phone, email, 2, 2)
	require.True(t, strings.HasPrefix(sms[1].Body, "Cancelled:"), "second SMS: %q", sms[1].Body)
	require.True(t, strings.HasPrefix(mail[0].Subject, "Cancelled:"), "newest mail: %q", mail[0].Subject)
	require.Contains(t, p.invite(mail[0].ID), "METHOD:CANCEL")
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		for _, ch := range []string{domain.ChannelSMS, domain.ChannelEmail} {
			n, err := p.notification(first, domain.NotifyCancellation, ch)
			require.NoError(c, err)
			assert.Contains(c, []string{domain.NotificationSent, domain.NotificationDelivered}, n.Status)
		}
	}, 10*time.Second, 100*time.Millisecond)

	// C confirms a held booking.
	second := p.bookAt(token, p.provider.ID, tomorrowAt(12, 0))
	require.Contains(t, strings.ToLower(reply(" c ")), "confirmed")
	require.Equal(t, http.StatusOK, p.do("GET", "/v1/bookings/"+second.ID, token, nil, &b))
	require.Equal(t, "confirmed", b.Status)
	sms, mail = p.waitForMessages(phone, email, 3, 3)
	require.True(t, strings.HasPrefix(sms[2].Body, "Confirmed:"), "third SMS: %q", sms[2].Body)
	require.True(t, strings.HasPrefix(mail[0].Subject, "Confirmed:"), "newest mail: %q", mail[0].Subject)

	// With nothing left to confirm, C says so and changes nothing.
	before = p.settled(second.ID, 2)
	require.Contains(t, reply("C"), "no booking waiting")
	require.Equal(t, before, p.dbState(second.ID))
	p.requireNoMoreMessages(phone, email, 3, 3)
}

// bookConfirmed books start with the platform's provider and confirms it; it returns the id.
func (p *platform) bookConfirmed(token string, start time.Time) string {
	p.t.Helper()
	b := p.bookAt(token, p.provider.ID, start)
	var confirmed bookingBody
	require.Equal(p.t, http.StatusOK, p.do("POST", "/v1/bookings/"+b.ID+"/confirm", token, nil, &confirmed))
	require.Equal(p.t, "confirmed", confirmed.Status)
	return b.ID
}

// smsTo is what the sandbox recorded for one phone number, oldest first.
func (p *platform) smsTo(phone string) []twiliosandbox.Message {
	var out []twiliosandbox.Message
	for _, m := range p.sandbox.Messages() {
		if m.To == phone {
			out = append(out, m)
		}
	}
	return out
}

// notification is a booking's notification row of one kind and channel.
func (p *platform) notification(bookingID, kind, channel string) (domain.Notification, error) {
	ns, err := p.st.ListNotifications(context.Background(), bookingID)
	if err != nil {
		return domain.Notification{}, err
	}
	for _, n := range ns {
		if n.Kind == kind && n.Channel == channel {
			return n, nil
		}
	}
	return domain.Notification{}, fmt.Errorf("booking %s has no %s %s notification: %+v", bookingID, kind, channel, ns)
}

// waitForMessages waits until the phone has sms SMS and the address mails emails, and returns
// them (SMS oldest first, mail newest first).
func (p *platform) waitForMessages(phone, email string, sms, mails int) ([]twiliosandbox.Message, []notifytest.MailSummary) {
	p.t.Helper()
	require.EventuallyWithT(p.t, func(c *assert.CollectT) {
		assert.Len(c, p.smsTo(phone), sms)
		mail, err := listMail(p.mailAPI, email)
		require.NoError(c, err)
		assert.Len(c, mail, mails)
	}, 20*time.Second, 100*time.Millisecond)
	mail, err := listMail(p.mailAPI, email)
	require.NoError(p.t, err)
	return p.smsTo(phone), mail
}

// requireNoMoreMessages checks for a while that no further SMS or email arrives.
func (p *platform) requireNoMoreMessages(phone, email string, sms, mails int) {
	p.t.Helper()
	require.Never(p.t, func() bool {
		mail, err := listMail(p.mailAPI, email)
		return err != nil || len(mail) != mails || len(p.smsTo(phone)) != sms
	}, 2*time.Second, 100*time.Millisecond, "want exactly %d SMS and %d emails", sms, mails)
	mail, err := listMail(p.mailAPI, email)
	require.NoError(p.t, err)
	require.Len(p.t, mail, mails)
	require.Len(p.t, p.smsTo(phone), sms)
}

// invite returns the invite.ics attached to a mail.
func (p *platform) invite(mailID string) string {
	p.t.Helper()
	m := notifytest.GetMail(p.t, p.mailAPI, mailID)
	for _, a := range m.Attachments {
		if a.FileName == "invite.ics" {
			require.Contains(p.t, a.ContentType, "text/calendar")
			return string(notifytest.MailPart(p.t, p.mailAPI, mailID, a.PartID))
		}
	}
	p.t.Fatalf("mail %q has no invite.ics: %+v", m.Subject, m.Attachments)
	return ""
}

// dbState is everything a webhook could change about a booking.
type dbState struct {
	Booking       domain.Booking
	Events        []domain.Event
	Notifications []domain.Notification
}

func (p *platform) dbState(bookingID string) dbState {
	p.t.Helper()
	ctx := context.Background()
	var s dbState
	var err error
	s.Booking, err = p.st.GetBooking(ctx, bookingID)
	require.NoError(p.t, err)
	s.Events, err = p.st.ListEvents(ctx, bookingID)
	require.NoError(p.t, err)
	s.Notifications, err = p.st.ListNotifications(ctx, bookingID)
	require.NoError(p.t, err)
	return s
}

// notificationStates lists a timeline's notifications as kind/channel/recipient/status.
func notificationStates(b bookingBody) []string {
	var out []string
	for _, e := range b.Events {
		if e.Type == "notification" {
			out = append(out, fmt.Sprint(e.Detail["kind"], "/", e.Detail["channel"], "/", e.Detail["recipient"], "/", e.Detail["status"]))
		}
	}
	return out
}

// listMail is the mail Mailpit holds for one address, newest first. Unlike notifytest.ListMail
// it returns its error, so it can be polled from EventuallyWithT.
func listMail(apiURL, to string) ([]notifytest.MailSummary, error) {
	var list struct{ Messages []notifytest.MailSummary }
	if _, err := getJSON(apiURL+"/api/v1/messages?limit=500", "", &list); err != nil {
		return nil, err
	}
	var out []notifytest.MailSummary
	for _, m := range list.Messages {
		for _, a := range m.To {
			if strings.EqualFold(a.Address, to) {
				out = append(out, m)
				break
			}
		}
	}
	return out, nil
}

// getJSON GETs u and decodes a 200 answer into out; it returns the status.
func getJSON(u, token string, out any) (int, error) {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, nil
	}
	return resp.StatusCode, json.NewDecoder(resp.Body).Decode(out)
}

// postTwilioForm posts a webhook form with the given X-Twilio-Signature (none when empty).
func postTwilioForm(t testing.TB, target string, params url.Values, signature string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(params.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if signature != "" {
		req.Header.Set(twiliosandbox.SignatureHeader, signature)
	}
	return roundTrip(t, req)
}

// serveAPIWithoutWorker points the platform at a second API server whose task queue no
// in-process worker polls, so that worker processes started with startWorkerProcess are the
// only ones running its bookings. (newPlatform's own worker idles on the old queue.)
func (p *platform) serveAPIWithoutWorker() {
	p.t.Helper()
	cfg := p.cfg
	cfg.Temporal.TaskQueue = "booking-proc-" + uuid.NewString()[:8]
	ts := httptest.NewUnstartedServer(nil)
	cfg.PublicBaseURL = "http://" + ts.Listener.Addr().String()
	srv := app.NewAPIServer(p.st, p.temporal, p.codec, p.accounts, cfg, api.NewRegistry(p.st.CountByStatus))
	ts.Config.Handler = srv.Handler()
	ts.Start()
	p.t.Cleanup(ts.Close)
	p.url, p.cfg = ts.URL, cfg
}

// buildBookingBinary builds cmd/booking into the test's temporary directory.
func buildBookingBinary(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "booking")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/booking")
	cmd.Dir = notifytest.RepoRoot(t)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build ./cmd/booking:\n%s", out)
	return bin
}

// workerProcess is a `booking worker` running as a child process.
type workerProcess struct {
	t    testing.TB
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
	err  error
}

// startWorkerProcess runs `booking worker` for the platform, configured through its
// environment as in production, and waits until it is ready. It is stopped at cleanup.
func (p *platform) startWorkerProcess(bin string) *workerProcess {
	t := p.t
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	opsAddr := ln.Addr().String()
	require.NoError(t, ln.Close())

	cmd := exec.Command(bin, "worker")
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"DATABASE_URL=" + p.st.Pool().Config().ConnString(),
		"TEMPORAL_ADDRESS=" + devServer.Address(),
		"TEMPORAL_NAMESPACE=" + p.cfg.Temporal.Namespace,
		"TEMPORAL_TASK_QUEUE=" + p.cfg.Temporal.TaskQueue,
		"TWILIO_ACCOUNT_SID=" + p.cfg.Twilio.AccountSID,
		"TWILIO_AUTH_TOKEN=" + p.cfg.Twilio.AuthToken,
		"TWILIO_FROM_NUMBER=" + p.cfg.Twilio.FromNumber,
		"TWILIO_API_BASE_URL=" + p.cfg.Twilio.BaseURL,
		"SMTP_HOST=" + p.cfg.SMTP.Host,
		"SMTP_PORT=" + strconv.Itoa(p.cfg.SMTP.Port),
		"SMTP_FROM=" + p.cfg.SMTP.From,
		"SMTP_LOOKUP_URL=" + p.cfg.SMTP.LookupURL,
		"PUBLIC_BASE_URL=" + p.cfg.PublicBaseURL,
		"JWT_SIGNING_KEY=" + p.cfg.JWT.SigningKey.ID + ":" + base64.StdEncoding.EncodeToString(p.cfg.JWT.SigningKey.Key.Seed()),
		"WORKER_HTTP_ADDR=" + opsAddr,
		// The platform's clients encrypt with the test key; the worker must decrypt them.
		"TEMPORAL_CODEC_KEYS=" + temporaltest.TestKeyID + ":" + temporaltest.TestKey,
	}
	w := &workerProcess{t: t, cmd: cmd, out: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = w.out, w.out
	require.NoError(t, cmd.Start())
	go func() {
		w.err = cmd.Wait()
		close(w.done)
	}()
	t.Cleanup(func() {
		select {
		case <-w.done:
		default:
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-w.done:
			case <-time.After(15 * time.Second):
				_ = cmd.Process.Kill()
				<-w.done
			}
		}
		if t.Failed() {
			t.Logf("booking worker (pid %d) output:\n%s", cmd.Process.Pid, w.out)
		}
	})

	deadline := time.Now().Add(time.Minute)
	for {
		status, err := getJSON("http://"+opsAddr+"/readyz", "", &struct{}{})
		if err == nil && status == http.StatusOK {
			return w
		}
		select {
		case <-w.done:
			t.Fatalf("booking worker exited (%v) before it was ready:\n%s", w.err, w.out)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("booking worker not ready after a minute (%d, %v):\n%s", status, err, w.out)
		}
	}
}

// kill ends the worker with SIGKILL: no graceful stop, no activity finishes.
func (w *workerProcess) kill() {
	w.t.Helper()
	require.NoError(w.t, w.cmd.Process.Kill())
	<-w.done
}

// lockedBuffer collects a child's output, written from os/exec's copying goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
