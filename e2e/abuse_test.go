package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"

	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/notify/notifytest"
	"github.com/clinicbook/booking/workflows"
)

// The attacks of issue 10 that are about bookings and messages, mounted against the real
// stack: what a patient types never leaves in the clinic's messages, and one account cannot
// take a doctor's calendar.

// phishing is what an attacker would have the clinic's SMS number and mail server carry.
const phishing = "URGENT: your account is suspended, verify at http://evil.example/login or reply X"

func TestCancellationReasonIsNotRelayed(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	const phone, email = "+15550301001", "victim@example.com"
	// The name is the attacker's words too: it must not reach a message body either.
	var reg struct {
		User        domain.User `json:"user"`
		AccessToken string      `json:"access_token"`
	}
	require.Equal(t, http.StatusCreated, p.do("POST", "/v1/auth/register", "", map[string]any{
		"email": email, "password": "correct-horse-1", "name": "Reply X at http://evil.example", "phone": phone}, &reg))
	for _, ch := range []string{domain.ChannelEmail, domain.ChannelSMS} {
		require.NoError(t, p.st.MarkVerified(context.Background(), reg.User.ID, ch, time.Now()))
	}
	token := reg.AccessToken
	id := p.bookConfirmed(token, tomorrowAt(9, 0))
	p.waitForMessages(phone, email, 1, 1)

	var cancelled bookingBody
	require.Equal(t, http.StatusOK, p.do("POST", "/v1/bookings/"+id+"/cancel", token, map[string]any{"reason": phishing}, &cancelled))
	require.Equal(t, "cancelled", cancelled.Status)

	sms, mails := p.waitForMessages(phone, email, 2, 2)
	require.Contains(t, sms[1].Body, "Cancelled")
	for _, m := range sms {
		require.NotContains(t, m.Body, "evil.example")
		require.NotContains(t, m.Body, "URGENT")
	}
	for _, summary := range mails {
		m := notifytest.GetMail(t, p.mailAPI, summary.ID)
		for _, part := range []string{m.Subject, m.Text, m.HTML} {
			require.NotContains(t, part, "evil.example")
			require.NotContains(t, part, "URGENT")
		}
		// The invite names its attendee (the name reaches only their own verified address),
		// but carries no reason typed by anyone.
		require.NotContains(t, p.inviteIfAny(m), "URGENT")
	}
	// The reason is kept for the clinic and the patient to read, just never sent.
	b, err := p.st.GetBooking(context.Background(), id)
	require.NoError(t, err)
	require.Equal(t, phishing, b.CancelReason)

	// A patient may not pick a reason code: those are the clinic's words.
	id2 := p.bookConfirmed(token, tomorrowAt(11, 0))
	resp, body := p.jsonCall("POST", "/v1/bookings/"+id2+"/cancel", token, map[string]any{"reason_code": "clinic_closed"})
	require.Equal(t, "reason_code", requireProblem(t, resp, body, http.StatusBadRequest).field())

	// Staff may, and only from the list; its text reaches the patient.
	admin := p.adminLogin("admin@example.com")
	resp, body = p.jsonCall("POST", "/v1/bookings/"+id2+"/cancel", admin, map[string]any{"reason_code": phishing})
	require.Equal(t, "reason_code", requireProblem(t, resp, body, http.StatusBadRequest).field())
	require.Equal(t, http.StatusOK, p.do("POST", "/v1/bookings/"+id2+"/cancel", admin, map[string]any{"reason_code": "provider_unavailable"}, &cancelled))
	sms, _ = p.waitForMessages(phone, email, 4, 4)
	require.Contains(t, sms[3].Body, domain.CancelReasonText("provider_unavailable"))
}

// inviteIfAny is the mail's invite.ics, "" when it has none.
func (p *platform) inviteIfAny(m notifytest.Mail) string {
	for _, a := range m.Attachments {
		if a.FileName == "invite.ics" {
			return string(notifytest.MailPart(p.t, p.mailAPI, m.ID, a.PartID))
		}
	}
	return ""
}

func TestControlCharactersInNamesAreRefused(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	for _, name := range []string{"Ann\r\nBcc: everyone@example.com", "Ann\nDESCRIPTION:click http://evil.example", "Ann\u202e"} {
		resp, body := p.jsonCall("POST", "/v1/auth/register", "", map[string]any{
			"email": "ann@example.com", "password": "correct-horse-1", "name": name, "phone": "+15550302001",
		})
		require.Equal(t, "name", requireProblem(t, resp, body, http.StatusBadRequest).field(), "%q", name)
	}
	_, err := p.st.GetUserByEmail(context.Background(), "ann@example.com")
	require.True(t, domain.IsKind(err, domain.KindNotFound), "no account was made")

	admin := p.adminLogin("admin@example.com")
	resp, body := p.jsonCall("POST", "/v1/providers", admin, map[string]any{"name": "Dr. X\r\nBcc: y@example.com", "time_zone": "Europe/Berlin"})
	require.Equal(t, "name", requireProblem(t, resp, body, http.StatusBadRequest).field())
	resp, body = p.jsonCall("POST", "/v1/services", admin, map[string]any{"name": "Check\nup", "duration_minutes": 30})
	require.Equal(t, "name", requireProblem(t, resp, body, http.StatusBadRequest).field())
}

func TestOneAccountCannotTakeTheCalendar(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	_, token := p.patient("greedy@example.com", "+15550303001")

	// Future held and confirmed bookings together are capped at MAX_ACTIVE_BOOKINGS (5).
	var ids []string
	for i := range 5 {
		b := p.bookAt(token, p.provider.ID, tomorrowAt(8+i, 0))
		ids = append(ids, b.ID)
		if i%2 == 0 {
			require.Equal(t, http.StatusOK, p.do("POST", "/v1/bookings/"+b.ID+"/confirm", token, nil, nil))
		}
	}
	resp, body := p.jsonCall("POST", "/v1/bookings", token, map[string]any{
		"provider_id": p.provider.ID, "service_id": p.service.ID, "start": tomorrowAt(14, 0).Format(time.RFC3339)})
	prob := requireProblem(t, resp, body, http.StatusConflict)
	require.Contains(t, prob.Detail, "5 upcoming bookings")
	// A cancelled booking frees its place.
	require.Equal(t, http.StatusOK, p.do("POST", "/v1/bookings/"+ids[0]+"/cancel", token, nil, nil))
	p.bookAt(token, p.provider.ID, tomorrowAt(14, 0))

	// Bookings reach at most BOOKING_HORIZON (90 days) ahead.
	far := time.Now().UTC().Add(91 * 24 * time.Hour).Truncate(time.Hour)
	resp, body = p.jsonCall("POST", "/v1/bookings", token, map[string]any{
		"provider_id": p.provider.ID, "service_id": p.service.ID, "start": far.Format(time.RFC3339)})
	require.Equal(t, "start", requireProblem(t, resp, body, http.StatusUnprocessableEntity).field())

	// A booking moves at most MAX_RESCHEDULES (3) times; each move is messages and history.
	id := ids[2] // confirmed
	for i := range 3 {
		require.Equal(t, http.StatusOK, p.do("POST", "/v1/bookings/"+id+"/reschedule", token,
			map[string]any{"start": tomorrowAt(16+i, 30).Format(time.RFC3339)}, nil), "move %d", i+1)
	}
	resp, body = p.jsonCall("POST", "/v1/bookings/"+id+"/reschedule", token, map[string]any{"start": tomorrowAt(20, 30).Format(time.RFC3339)})
	require.Contains(t, requireProblem(t, resp, body, http.StatusConflict).Detail, "moved as often as allowed (3)")
	resp, body = p.jsonCall("POST", "/v1/bookings/"+ids[1]+"/reschedule", token, map[string]any{"start": far.Format(time.RFC3339)})
	require.Equal(t, "start", requireProblem(t, resp, body, http.StatusUnprocessableEntity).field())
}

// A repeated confirm or cancel is answered from the database: the workflow's history does not
// grow with every retry a client (or an attacker) sends.
func TestRepeatedCommandsDoNotGrowHistory(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	_, token := p.patient("repeat@example.com", "+15550304001")
	id := p.bookConfirmed(token, tomorrowAt(9, 0))
	ctx := context.Background()
	historyLen := func() int {
		n := 0
		it := p.temporal.GetWorkflowHistory(ctx, workflows.BookingWorkflowID(id), "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			_, err := it.Next()
			require.NoError(t, err)
			n++
		}
		return n
	}
	// Let the confirmation's messages settle so that only our commands could add events.
	p.waitForMessages("+15550304001", "repeat@example.com", 1, 1)
	var before int
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		n := historyLen()
		assert.Equal(c, before, n)
		before = n
	}, 20*time.Second, time.Second)

	for range 5 {
		var b bookingBody
		require.Equal(t, http.StatusOK, p.do("POST", "/v1/bookings/"+id+"/confirm", token, nil, &b))
		require.Equal(t, "confirmed", b.Status)
	}
	require.Equal(t, before, historyLen())

	require.Equal(t, http.StatusOK, p.do("POST", "/v1/bookings/"+id+"/cancel", token, nil, nil))
	p.waitForMessages("+15550304001", "repeat@example.com", 2, 2)
	require.NoError(t, p.temporal.GetWorkflow(ctx, workflows.BookingWorkflowID(id), "").Get(ctx, nil))
	closed := historyLen()
	for range 3 {
		var b bookingBody
		require.Equal(t, http.StatusOK, p.do("POST", "/v1/bookings/"+id+"/cancel", token, nil, &b))
		require.Equal(t, "cancelled", b.Status)
	}
	require.Equal(t, closed, historyLen())
}

func TestPersonalAnswersAreNotCachedAndMetricsAreNotPublic(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	_, token := p.patient("private@example.com", "+15550305001")

	resp, _ := p.jsonCall("GET", "/v1/me", token, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	b := p.bookAt(token, p.provider.ID, tomorrowAt(9, 0))
	resp, _ = p.jsonCall("GET", "/v1/bookings/"+b.ID, token, nil)
	require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	resp, _ = p.jsonCall("GET", "/v1/providers", "", nil)
	require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))

	resp, body := p.jsonCall("GET", "/metrics", "", nil)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	require.False(t, strings.Contains(string(body), "booking_bookings"), "the public port tells nobody how busy the clinic is")
}
