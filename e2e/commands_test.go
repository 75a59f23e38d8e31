package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clinicbook/booking/config"
	"github.com/clinicbook/booking/domain"
)

// keyedCall sends a command with an Idempotency-Key (none when key is "") and returns the
// whole answer.
func (p *platform) keyedCall(path, token, key string, body any) (*http.Response, []byte) {
	p.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(p.t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest("POST", p.url+path, rd)
	require.NoError(p.t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	return roundTrip(p.t, req)
}

// eventCount counts a booking's recorded events of one type ("status:<status>" for the
// status changes to one status).
func (p *platform) eventCount(bookingID, typ string) int {
	p.t.Helper()
	events, err := p.st.ListEvents(context.Background(), bookingID)
	require.NoError(p.t, err)
	n := 0
	for _, e := range events {
		if e.Type == typ || e.Type == "status" && typ == fmt.Sprint("status:", e.Detail["status"]) {
			n++
		}
	}
	return n
}

// notificationCount counts a booking's notifications of one kind and channel.
func (p *platform) notificationCount(bookingID, kind, channel string) int {
	p.t.Helper()
	ns, err := p.st.ListNotifications(context.Background(), bookingID)
	require.NoError(p.t, err)
	n := 0
	for _, x := range ns {
		if x.Kind == kind && x.Channel == channel {
			n++
		}
	}
	return n
}

func TestCommandRescheduleRetriedWithIdempotencyKey(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	const phone, email = "+15550411001", "resched-key@example.com"
	_, token := p.patient(email, phone)
	id := p.bookConfirmed(token, tomorrowAt(9, 0))
	p.waitForMessages(phone, email, 1, 1)
	path := "/v1/bookings/" + id + "/reschedule"
	to := tomorrowAt(10, 0)

	var first, again, otherOffset bookingBody
	require.Equal(t, http.StatusOK, p.do("POST", path, token, map[string]any{"start": to.Format(time.RFC3339)}, &first, "Idempotency-Key", "move-1"))
	require.True(t, to.Equal(first.Start), "start %s", first.Start)
	require.Equal(t, 1, first.Revision)

	// The first answer was lost on the way: the retry answers what the first one answered
	// instead of 422 "same as the current start".
	status, raw := p.raw("POST", path, token, map[string]any{"start": to.Format(time.RFC3339)}, "Idempotency-Key", "move-1")
	require.Equal(t, http.StatusOK, status, "%s", raw)
	require.Equal(t, http.StatusOK, p.do("POST", path, token, map[string]any{"start": to.Format(time.RFC3339)}, &again, "Idempotency-Key", "move-1"))
	require.Equal(t, first.ID, again.ID)
	require.True(t, first.Start.Equal(again.Start))
	require.Equal(t, first.Revision, again.Revision)
	require.Equal(t, "confirmed", again.Status)
	// The same instant written with another offset is the same request.
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, p.do("POST", path, token, map[string]any{"start": to.In(berlin).Format(time.RFC3339)}, &otherOffset, "Idempotency-Key", "move-1"))
	require.Equal(t, first.Revision, otherOffset.Revision)

	// The same key with another start is refused, and nothing moves.
	resp, body := p.keyedCall(path, token, "move-1", map[string]any{"start": tomorrowAt(11, 0).Format(time.RFC3339)})
	prob := requireProblem(t, resp, body, http.StatusUnprocessableEntity)
	require.Equal(t, "Idempotency-Key", prob.field())
	require.Contains(t, prob.Detail, "different request")
	// ... and so is the key on another command of the same booking.
	resp, body = p.keyedCall("/v1/bookings/"+id+"/cancel", token, "move-1", nil)
	requireProblem(t, resp, body, http.StatusUnprocessableEntity)

	// One reschedule happened: revision 1, one timeline event, one reschedule SMS and mail.
	var got bookingBody
	require.Equal(t, http.StatusOK, p.do("GET", "/v1/bookings/"+id, token, nil, &got))
	require.Equal(t, "confirmed", got.Status)
	require.Equal(t, 1, got.Revision)
	require.True(t, to.Equal(got.Start))
	rescheduled := 0
	for _, e := range got.Events {
		if e.Type == "rescheduled" {
			rescheduled++
		}
	}
	require.Equal(t, 1, rescheduled, "timeline: %+v", got.Events)
	require.Equal(t, 1, p.eventCount(id, "rescheduled"))
	p.waitForMessages(phone, email, 2, 2)
	p.requireNoMoreMessages(phone, email, 2, 2)
	require.Equal(t, 1, p.notificationCount(id, domain.NotifyReschedule, domain.ChannelSMS))

	// Without a key nothing changed: moving to the time the booking has is refused.
	resp, body = p.keyedCall(path, token, "", map[string]any{"start": to.Format(time.RFC3339)})
	prob = requireProblem(t, resp, body, http.StatusUnprocessableEntity)
	require.Equal(t, "start", prob.field())

	// A key that is too long is bad input.
	resp, body = p.keyedCall(path, token, strings.Repeat("k", 256), map[string]any{"start": tomorrowAt(12, 0).Format(time.RFC3339)})
	prob = requireProblem(t, resp, body, http.StatusBadRequest)
	require.Equal(t, "Idempotency-Key", prob.field())
	require.Equal(t, 1, p.eventCount(id, "rescheduled"))
}

// Retries that race the first attempt join it: one move, the same answer for all.
func TestCommandRescheduleConcurrentRetries(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	_, token := p.patient("resched-race@example.com", "+15550411002")
	id := p.bookConfirmed(token, tomorrowAt(9, 0))
	to := tomorrowAt(13, 30)

	const n = 5
	var wg sync.WaitGroup
	statuses := make([]int, n)
	bodies := make([][]byte, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i], _, bodies[i], errs[i] = postJSON(http.DefaultClient, p.url+"/v1/bookings/"+id+"/reschedule",
				map[string]any{"start": to.Format(time.RFC3339)}, "Authorization", "Bearer "+token, "Idempotency-Key", "race-1")
		}()
	}
	wg.Wait()
	for i := range n {
		require.NoError(t, errs[i])
		require.Equal(t, http.StatusOK, statuses[i], "request %d: %s", i, bodies[i])
		var b bookingBody
		require.NoError(t, json.Unmarshal(bodies[i], &b))
		require.Equal(t, 1, b.Revision, "request %d", i)
		require.True(t, to.Equal(b.Start), "request %d", i)
	}
	require.Equal(t, 1, p.eventCount(id, "rescheduled"))
}

// The retry of the move that used up the last one allowed answers 200, not "moved as often
// as allowed".
func TestCommandRescheduleRetryAtTheLimit(t *testing.T) {
	t.Parallel()
	p := newPlatform(t, func(c *config.Config) { c.Limits.MaxReschedules = 1 })
	_, token := p.patient("resched-limit@example.com", "+15550411003")
	id := p.bookConfirmed(token, tomorrowAt(9, 0))
	path := "/v1/bookings/" + id + "/reschedule"
	body := map[string]any{"start": tomorrowAt(14, 0).Format(time.RFC3339)}

	var first, again bookingBody
	require.Equal(t, http.StatusOK, p.do("POST", path, token, body, &first, "Idempotency-Key", "last-move"))
	require.Equal(t, 1, first.Revision)
	require.Equal(t, http.StatusOK, p.do("POST", path, token, body, &again, "Idempotency-Key", "last-move"))
	require.Equal(t, first.Revision, again.Revision)
	require.True(t, first.Start.Equal(again.Start))

	// A new move is over the limit, with or without a (new) key.
	resp, raw := p.keyedCall(path, token, "", map[string]any{"start": tomorrowAt(15, 0).Format(time.RFC3339)})
	requireProblem(t, resp, raw, http.StatusConflict)
	resp, raw = p.keyedCall(path, token, "another-move", map[string]any{"start": tomorrowAt(15, 0).Format(time.RFC3339)})
	requireProblem(t, resp, raw, http.StatusConflict)
	require.Equal(t, 1, p.eventCount(id, "rescheduled"))
}

func TestCommandConfirmRetriedWithIdempotencyKey(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	const phone, email = "+15550411004", "confirm-key@example.com"
	_, token := p.patient(email, phone)
	b := p.bookAt(token, p.provider.ID, tomorrowAt(9, 0))
	path := "/v1/bookings/" + b.ID + "/confirm"

	var first, again bookingBody
	require.Equal(t, http.StatusOK, p.do("POST", path, token, nil, &first, "Idempotency-Key", "confirm-1"))
	require.Equal(t, "confirmed", first.Status)
	require.Equal(t, http.StatusOK, p.do("POST", path, token, nil, &again, "Idempotency-Key", "confirm-1"))
	require.Equal(t, first.ID, again.ID)
	require.Equal(t, first.Status, again.Status)
	require.Equal(t, first.Revision, again.Revision)
	require.True(t, first.Start.Equal(again.Start))

	// The key names that confirm: on a cancel, or on another booking's confirm, it is refused.
	resp, raw := p.keyedCall("/v1/bookings/"+b.ID+"/cancel", token, "confirm-1", nil)
	prob := requireProblem(t, resp, raw, http.StatusUnprocessableEntity)
	require.Equal(t, "Idempotency-Key", prob.field())
	other := p.bookAt(token, p.provider.ID, tomorrowAt(10, 0))
	resp, raw = p.keyedCall("/v1/bookings/"+other.ID+"/confirm", token, "confirm-1", nil)
	requireProblem(t, resp, raw, http.StatusUnprocessableEntity)
	// ... as is a new booking under it.
	resp, raw = p.keyedCall("/v1/bookings", token, "confirm-1", map[string]any{
		"provider_id": p.provider.ID, "service_id": p.service.ID, "start": tomorrowAt(11, 0).Format(time.RFC3339)})
	requireProblem(t, resp, raw, http.StatusUnprocessableEntity)
	// Keys are per caller: an admin's "confirm-1" is the admin's own.
	admin := p.adminLogin("admin-key@example.com")
	var byAdmin bookingBody
	require.Equal(t, http.StatusOK, p.do("POST", "/v1/bookings/"+other.ID+"/confirm", admin, nil, &byAdmin, "Idempotency-Key", "confirm-1"))
	require.Equal(t, "confirmed", byAdmin.Status)

	// One confirmation went out for the first booking (and one for the other).
	require.Equal(t, 1, p.eventCount(b.ID, "status:confirmed"))
	p.waitForMessages(phone, email, 2, 2)
	p.requireNoMoreMessages(phone, email, 2, 2)
	require.Equal(t, 1, p.notificationCount(b.ID, domain.NotifyConfirmation, domain.ChannelSMS))
	got := p.dbState(b.ID).Booking
	require.Equal(t, domain.StatusConfirmed, got.Status)
}

// A keyed cancel retried after the workflow closed answers the cancelled booking; a keyed
// reschedule retried then answers what it answered before (Temporal keeps a completed update's
// outcome with the closed workflow) and moves nothing.
func TestCommandCancelRetriedAfterClose(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	_, token := p.patient("cancel-key@example.com", "+15550411005")
	id := p.bookConfirmed(token, tomorrowAt(9, 0))
	path := "/v1/bookings/" + id + "/cancel"
	body := map[string]any{"reason": "plans changed"}
	move := map[string]any{"start": tomorrowAt(10, 0).Format(time.RFC3339)}
	var moved bookingBody
	require.Equal(t, http.StatusOK, p.do("POST", "/v1/bookings/"+id+"/reschedule", token, move, &moved, "Idempotency-Key", "move-then-cancel"))
	require.Equal(t, 1, moved.Revision)

	var first bookingBody
	require.Equal(t, http.StatusOK, p.do("POST", path, token, body, &first, "Idempotency-Key", "cancel-1"))
	require.Equal(t, "cancelled", first.Status)
	ctx := context.Background()
	require.NoError(t, p.temporal.GetWorkflow(ctx, "booking-"+id, "").Get(ctx, nil))
	for range 2 {
		var again bookingBody
		require.Equal(t, http.StatusOK, p.do("POST", path, token, body, &again, "Idempotency-Key", "cancel-1"))
		require.Equal(t, "cancelled", again.Status)
	}
	// Another reason under the same key is another request.
	resp, raw := p.keyedCall(path, token, "cancel-1", map[string]any{"reason": "something else"})
	requireProblem(t, resp, raw, http.StatusUnprocessableEntity)
	require.Equal(t, 1, p.eventCount(id, "status:cancelled"))

	var movedAgain bookingBody
	require.Equal(t, http.StatusOK, p.do("POST", "/v1/bookings/"+id+"/reschedule", token, move, &movedAgain, "Idempotency-Key", "move-then-cancel"))
	require.Equal(t, moved.Revision, movedAgain.Revision)
	require.True(t, moved.Start.Equal(movedAgain.Start))
	require.Equal(t, 1, p.eventCount(id, "rescheduled"))
	require.Equal(t, domain.StatusCancelled, p.dbState(id).Booking.Status)

	// A new command reaches the closed workflow itself: the server's NotFound for a completed
	// workflow is answered as a closed booking, not as a failure of the booking engine.
	resp, raw = p.jsonCall("POST", "/v1/bookings/"+id+"/confirm", token, nil)
	require.Contains(t, requireProblem(t, resp, raw, http.StatusConflict).Detail, "the booking is closed")
}
