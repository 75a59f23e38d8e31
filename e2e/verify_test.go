package e2e

import (
	"context"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clinicbook/booking/api"
	"github.com/clinicbook/booking/app"
	"github.com/clinicbook/booking/auth"
	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/notify"
	"github.com/clinicbook/booking/notify/notifytest"
	"github.com/clinicbook/booking/twiliosandbox"
)

// The verified-contacts attacks: sign up with someone else's phone or email and make the
// clinic write to them, or act on their bookings from a number that is not yours.

// meBody is GET /v1/me.
type meBody struct {
	ID            string `json:"id"`
	Phone         string `json:"phone"`
	EmailVerified bool   `json:"email_verified"`
	PhoneVerified bool   `json:"phone_verified"`
}

var codeInText = regexp.MustCompile(`\b(\d{6})\b`)

// smsCode is the code in the newest SMS to phone, which must be the clinic's fixed text.
func (p *platform) smsCode(phone string) string {
	p.t.Helper()
	sms := p.smsTo(phone)
	require.NotEmpty(p.t, sms, "no SMS to %s", phone)
	body := sms[len(sms)-1].Body
	m := codeInText.FindStringSubmatch(body)
	require.NotNil(p.t, m, "no code in %q", body)
	require.Equal(p.t, notify.VerificationText(m[1]), body)
	return m[1]
}

// mailCode waits for the n-th email to address and returns the code in the newest one.
func (p *platform) mailCode(address string, n int) string {
	p.t.Helper()
	var id string
	require.EventuallyWithT(p.t, func(c *assert.CollectT) {
		mail, err := listMail(p.mailAPI, address)
		require.NoError(c, err)
		if assert.Len(c, mail, n) {
			id = mail[0].ID
		}
	}, 20*time.Second, 100*time.Millisecond)
	m := notifytest.GetMail(p.t, p.mailAPI, id)
	require.Equal(p.t, notify.VerificationSubject, m.Subject)
	code := codeInText.FindStringSubmatch(m.Text)
	require.NotNil(p.t, code, "no code in %q", m.Text)
	require.Equal(p.t, notify.VerificationText(code[1]), strings.TrimSpace(m.Text))
	return code[1]
}

func (p *platform) me(token string) meBody {
	p.t.Helper()
	var me meBody
	require.Equal(p.t, http.StatusOK, p.do("GET", "/v1/me", token, nil, &me))
	return me
}

func (p *platform) requestCode(token, channel string) {
	p.t.Helper()
	resp, body := p.jsonCall("POST", "/v1/me/verify", token, map[string]string{"channel": channel})
	require.Equal(p.t, http.StatusAccepted, resp.StatusCode, "%s", body)
}

func (p *platform) confirmCode(token, channel, code string) meBody {
	p.t.Helper()
	var me meBody
	require.Equal(p.t, http.StatusOK, p.do("POST", "/v1/me/verify/confirm", token, map[string]string{"channel": channel, "code": code}, &me))
	return me
}

func (p *platform) requireVerificationRequired(token string, body map[string]any) {
	p.t.Helper()
	resp, raw := p.jsonCall("POST", "/v1/bookings", token, body)
	prob := requireProblem(p.t, resp, raw, http.StatusForbidden)
	require.True(p.t, strings.HasSuffix(prob.Type, "verification-required"), prob.Type)
	require.Contains(p.t, prob.Detail, "POST /v1/me/verify")
}

// settled waits until the booking's n notifications are past sending and any delivery report
// is in, so that a snapshot of the booking stays put unless something acts on it.
func (p *platform) settled(bookingID string, n int) dbState {
	p.t.Helper()
	final := map[string]bool{domain.NotificationSkipped: true, domain.NotificationFailed: true, domain.NotificationDelivered: true}
	require.EventuallyWithT(p.t, func(c *assert.CollectT) {
		ns, err := p.st.ListNotifications(context.Background(), bookingID)
		require.NoError(c, err)
		assert.Len(c, ns, n)
		for _, x := range ns {
			done := final[x.Status] || (x.Channel == domain.ChannelEmail && x.Status == domain.NotificationSent)
			assert.True(c, done, "%s %s is %s", x.Kind, x.Channel, x.Status)
		}
	}, 20*time.Second, 100*time.Millisecond)
	return p.dbState(bookingID)
}

func otherCode(code string) string {
	if code == "000000" {
		return "000001"
	}
	return "000000"
}

func TestVerificationRequiredBeforeBooking(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	const phone, email = "+15550301001", "newcomer@example.com"
	patientID, token := p.unverifiedPatient(email, phone)
	me := p.me(token)
	require.False(t, me.EmailVerified)
	require.False(t, me.PhoneVerified)

	slot := map[string]any{"provider_id": p.provider.ID, "service_id": p.service.ID, "start": tomorrowAt(9, 0).Format(time.RFC3339)}
	p.requireVerificationRequired(token, slot)
	// Nor may an admin book for them: the clinic could not write to them either way.
	admin := p.adminLogin("desk@example.com")
	p.requireVerificationRequired(admin, map[string]any{"patient_id": patientID, "provider_id": p.provider.ID,
		"service_id": p.service.ID, "start": tomorrowAt(9, 0).Format(time.RFC3339)})
	require.Empty(t, p.listBookingIDs(admin, ""), "nothing was held")

	// Twilio failing is 503, and leaves no code behind.
	require.NoError(t, p.sandbox.Fail(1, twiliosandbox.Fault{Mode: twiliosandbox.FailServerError}))
	resp, body := p.jsonCall("POST", "/v1/me/verify", token, map[string]string{"channel": "sms"})
	requireProblem(t, resp, body, http.StatusServiceUnavailable)
	resp, body = p.jsonCall("POST", "/v1/me/verify/confirm", token, map[string]string{"channel": "sms", "code": "123456"})
	requireProblem(t, resp, body, http.StatusConflict)

	// The code goes out by SMS through the real twilio-go client, and confirms the phone.
	var sent struct {
		Channel   string `json:"channel"`
		SentTo    string `json:"sent_to"`
		ExpiresIn int    `json:"expires_in"`
	}
	require.Equal(t, http.StatusAccepted, p.do("POST", "/v1/me/verify", token, map[string]string{"channel": "sms"}, &sent))
	require.Equal(t, "sms", sent.Channel)
	require.Equal(t, phone, sent.SentTo)
	require.Equal(t, 600, sent.ExpiresIn)
	code := p.smsCode(phone)

	resp, body = p.jsonCall("POST", "/v1/me/verify/confirm", token, map[string]string{"channel": "sms", "code": otherCode(code)})
	prob := requireProblem(t, resp, body, http.StatusUnprocessableEntity)
	require.Equal(t, "code", prob.field())
	require.False(t, p.me(token).PhoneVerified)

	confirmed := p.confirmCode(token, "sms", code)
	require.True(t, confirmed.PhoneVerified)
	require.False(t, confirmed.EmailVerified)
	require.Equal(t, patientID, confirmed.ID)
	require.True(t, p.me(token).PhoneVerified)
	p.bookAt(token, p.provider.ID, tomorrowAt(9, 0))

	// The same with email, through Mailpit.
	const email2 = "mailonly@example.com"
	_, token2 := p.unverifiedPatient(email2, "+15550301002")
	p.requireVerificationRequired(token2, map[string]any{"provider_id": p.provider.ID, "service_id": p.service.ID,
		"start": tomorrowAt(10, 0).Format(time.RFC3339)})
	p.requestCode(token2, "email")
	mailCode := p.mailCode(email2, 1)
	confirmed = p.confirmCode(token2, "email", mailCode)
	require.True(t, confirmed.EmailVerified)
	require.False(t, confirmed.PhoneVerified)
	p.bookAt(token2, p.provider.ID, tomorrowAt(10, 0))
	require.Empty(t, p.smsTo("+15550301002"), "no SMS went to the unverified phone")
}

func TestVerificationCodeLimits(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)

	// Five wrong codes kill the code: the right one is refused after them.
	const phone = "+15550302001"
	_, token := p.unverifiedPatient("guesser@example.com", phone)
	p.requestCode(token, "sms")
	code := p.smsCode(phone)
	for i := range auth.MaxCodeAttempts {
		resp, body := p.jsonCall("POST", "/v1/me/verify/confirm", token, map[string]string{"channel": "sms", "code": otherCode(code)})
		prob := requireProblem(t, resp, body, http.StatusUnprocessableEntity)
		require.Equal(t, "code", prob.field(), "try %d", i+1)
	}
	resp, body := p.jsonCall("POST", "/v1/me/verify/confirm", token, map[string]string{"channel": "sms", "code": code})
	prob := requireProblem(t, resp, body, http.StatusConflict)
	require.Contains(t, prob.Detail, "request a new one")
	require.False(t, p.me(token).PhoneVerified)

	// Resends are limited per account and hour: four more (five in all), then 429.
	for range auth.MaxCodesPerHour - 1 {
		p.requestCode(token, "sms")
	}
	require.Len(t, p.smsTo(phone), auth.MaxCodesPerHour)
	resp, body = p.jsonCall("POST", "/v1/me/verify", token, map[string]string{"channel": "sms"})
	requireProblem(t, resp, body, http.StatusTooManyRequests)
	retry, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	require.NoError(t, err, "Retry-After %q", resp.Header.Get("Retry-After"))
	require.Greater(t, retry, 3000)
	require.LessOrEqual(t, retry, 3600)
	require.Len(t, p.smsTo(phone), auth.MaxCodesPerHour, "nothing more was sent")
	// The newest code still works.
	require.True(t, p.confirmCode(token, "sms", p.smsCode(phone)).PhoneVerified)

	// An expired code is refused: an API whose accounts run on a clock we move.
	var shift atomic.Int64
	q := p.withAccountsClock(func() time.Time { return time.Now().Add(time.Duration(shift.Load())) })
	const phone2 = "+15550302002"
	_, token2 := q.unverifiedPatient("slow@example.com", phone2)
	q.requestCode(token2, "sms")
	shift.Store(int64(auth.CodeTTL + time.Second))
	resp, body = q.jsonCall("POST", "/v1/me/verify/confirm", token2, map[string]string{"channel": "sms", "code": q.smsCode(phone2)})
	prob = requireProblem(t, resp, body, http.StatusConflict)
	require.Contains(t, prob.Detail, "expired")
	require.False(t, q.me(token2).PhoneVerified)
}

// withAccountsClock returns the platform as seen through a second API whose account service
// runs on now; tokens, store and Temporal are shared.
func (p *platform) withAccountsClock(now func() time.Time) *platform {
	p.t.Helper()
	accounts := auth.NewService(p.st, p.cfg.JWT, now, auth.Options{Limits: p.cfg.Limits})
	srv := app.NewAPIServer(p.st, p.temporal, p.codec, accounts, p.cfg, api.NewRegistry(p.st.CountByStatus))
	ts := httptest.NewServer(srv.Handler())
	p.t.Cleanup(ts.Close)
	q := *p
	q.url = ts.URL
	q.accounts = accounts
	return &q
}

func TestMessagesGoOnlyToVerifiedChannels(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	// Someone signs up with a victim's phone number and their own email, verifies the email
	// and books: the confirmation goes to the email only, never to the victim's phone.
	const victim, email = "+15550303001", "booker@example.com"
	_, token := p.unverifiedPatient(email, victim)
	p.requestCode(token, "email")
	require.True(t, p.confirmCode(token, "email", p.mailCode(email, 1)).EmailVerified)

	id := p.bookConfirmed(token, tomorrowAt(11, 0))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		n, err := p.notification(id, domain.NotifyConfirmation, domain.ChannelEmail)
		require.NoError(c, err)
		assert.Equal(c, domain.NotificationSent, n.Status)
		n, err = p.notification(id, domain.NotifyConfirmation, domain.ChannelSMS)
		require.NoError(c, err)
		assert.Equal(c, domain.NotificationSkipped, n.Status)
		assert.Contains(c, n.Error, "not verified")
	}, 20*time.Second, 100*time.Millisecond)
	mail, err := listMail(p.mailAPI, email)
	require.NoError(t, err)
	require.Len(t, mail, 2, "the code and the confirmation")
	require.Contains(t, mail[0].Subject, "Dr. Test")

	// Cancelling tells the email again, and still never the phone.
	require.Equal(t, http.StatusOK, p.do("POST", "/v1/bookings/"+id+"/cancel", token, map[string]any{}, nil))
	p.waitForMessages(victim, email, 0, 3)
	p.requireNoMoreMessages(victim, email, 0, 3)
}

func TestInboundSMSActsOnlyForVerifiedNumbers(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	ctx := context.Background()
	inboundPath := "/v1/webhooks/twilio/inbound"
	send := func(from, body, sid string) string {
		t.Helper()
		params := url.Values{"MessageSid": {sid}, "AccountSid": {notifytest.AccountSID}, "From": {from},
			"To": {notifytest.FromNumber}, "Body": {body}, "NumMedia": {"0"}}
		target := p.url + inboundPath
		resp, raw := postTwilioForm(t, target, params, twiliosandbox.Signature(notifytest.AuthToken, target, params))
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
		var twiml struct {
			XMLName xml.Name `xml:"Response"`
			Message string   `xml:"Message"`
		}
		require.NoError(t, xml.Unmarshal(raw, &twiml), "%s", raw)
		return twiml.Message
	}
	sidN := 0
	newSID := func() string {
		sidN++
		return "SM" + strings.Repeat("0", 30) + strconv.Itoa(10+sidN)
	}
	// bookedWithEmailOnly is a patient whose email, not phone, is verified, with a confirmed booking.
	bookedWithEmailOnly := func(email, phone string, start time.Time) string {
		t.Helper()
		id, token := p.unverifiedPatient(email, phone)
		require.NoError(t, p.st.MarkVerified(ctx, id, domain.ChannelEmail, time.Now()))
		return p.bookConfirmed(token, start)
	}

	// A number its account never verified: X changes nothing.
	const unverified = "+15550304001"
	lone := bookedWithEmailOnly("lone@example.com", unverified, tomorrowAt(8, 0))
	before := p.settled(lone, 2)
	require.Contains(t, send(unverified, "X", newSID()), "Reply C to confirm")
	require.Equal(t, before, p.dbState(lone))

	// A number two accounts typed in and nobody verified: neither booking moves.
	const shared = "+15550304002"
	first := bookedWithEmailOnly("twin1@example.com", shared, tomorrowAt(9, 0))
	second := bookedWithEmailOnly("twin2@example.com", shared, tomorrowAt(10, 0))
	firstBefore, secondBefore := p.settled(first, 2), p.settled(second, 2)
	require.Contains(t, send(shared, "X", newSID()), "Reply C to confirm")
	require.Contains(t, send(shared, "C", newSID()), "Reply C to confirm")
	require.Equal(t, firstBefore, p.dbState(first))
	require.Equal(t, secondBefore, p.dbState(second))

	// A verified number cancels its next booking, once per MessageSid: Twilio delivering the
	// same message again must not cancel the booking after it.
	const owner = "+15550304003"
	_, token := p.patient("owner@example.com", owner)
	next := p.bookConfirmed(token, tomorrowAt(11, 0))
	later := p.bookConfirmed(token, tomorrowAt(12, 0))
	laterBefore := p.settled(later, 2)
	sid := newSID()
	reply := send(owner, "X", sid)
	require.Contains(t, strings.ToLower(reply), "cancelled")
	b, err := p.st.GetBooking(ctx, next)
	require.NoError(t, err)
	require.Equal(t, domain.StatusCancelled, b.Status)
	require.Equal(t, reply, send(owner, "X", sid), "a repeat gets the first answer")
	require.Equal(t, laterBefore, p.dbState(later))
	b, err = p.st.GetBooking(ctx, later)
	require.NoError(t, err)
	require.Equal(t, domain.StatusConfirmed, b.Status)
	// A new message is a new request.
	require.Contains(t, strings.ToLower(send(owner, "X", newSID())), "cancelled")
	b, err = p.st.GetBooking(ctx, later)
	require.NoError(t, err)
	require.Equal(t, domain.StatusCancelled, b.Status)
}
