package workflows_test

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/clinicbook/booking/activities"
	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/notify"
	"github.com/clinicbook/booking/store"
	"github.com/clinicbook/booking/store/storetest"
	bookingworker "github.com/clinicbook/booking/worker"
	"github.com/clinicbook/booking/workflows"
)

// The tests run the real activities against a real PostgreSQL, in the SDK's time-skipping
// environment; only the message senders are replaced, by recorders.

var (
	berlin, _ = time.LoadLocation("Europe/Berlin")
	// t0 is when every test starts: Monday 7 January 2030, 08:00 UTC.
	t0 = time.Date(2030, 1, 7, 8, 0, 0, 0, time.UTC)
	// slotStart is Wednesday 9 January 2030, 10:00 in Berlin: 50 hours after t0.
	slotStart = time.Date(2030, 1, 9, 10, 0, 0, 0, berlin)
)

type sent struct {
	channel, to, body, subject, icsMethod string
}

// recorder stands in for Twilio and SMTP.
type recorder struct {
	mu   sync.Mutex
	msgs []sent
}

func (r *recorder) Send(ctx context.Context, to, body string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, sent{channel: "sms", to: to, body: body})
	return "SM" + time.Now().Format("150405.000000000"), nil
}

func (r *recorder) FindSent(ctx context.Context, to, body string, since time.Time) ([]string, error) {
	return nil, nil
}

type mailRecorder struct{ r *recorder }

func (m mailRecorder) Send(ctx context.Context, e notify.Email) error {
	m.r.mu.Lock()
	defer m.r.mu.Unlock()
	m.r.msgs = append(m.r.msgs, sent{channel: "email", to: e.To, subject: e.Subject, body: e.Text, icsMethod: e.ICSMethod})
	return nil
}

func (r *recorder) all() []sent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]sent(nil), r.msgs...)
}

type harness struct {
	t   *testing.T
	env *testsuite.TestWorkflowEnvironment
	st  *store.Store
	rec *recorder
	in  workflows.Input
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	pool := storetest.New(t)
	st := store.New(pool)
	ctx := context.Background()
	_, err := st.CreateUser(ctx, domain.User{ID: "pat-1", Email: "pat@example.com", PasswordHash: "x", Name: "Pat", Phone: "+15550001111", Role: domain.RolePatient})
	require.NoError(t, err)
	// Messages go to verified contacts only.
	require.NoError(t, st.MarkVerified(ctx, "pat-1", domain.ChannelEmail, t0))
	require.NoError(t, st.MarkVerified(ctx, "pat-1", domain.ChannelSMS, t0))
	require.NoError(t, st.CreateProvider(ctx, domain.Provider{ID: "prov-1", Name: "Dr. Weber", TimeZone: "Europe/Berlin"}))
	require.NoError(t, st.CreateService(ctx, domain.Service{ID: "svc-30", Name: "Consultation", DurationMinutes: 30}))
	var weekly []domain.WorkingHours
	for wd := time.Monday; wd <= time.Friday; wd++ {
		weekly = append(weekly, domain.WorkingHours{Weekday: wd, Start: 9 * 60, End: 17 * 60})
	}
	require.NoError(t, st.ReplaceSchedule(ctx, "prov-1", domain.Schedule{TimeZone: "Europe/Berlin", Weekly: weekly}))

	var suite testsuite.WorkflowTestSuite
	// Warnings and errors only: the SDK's debug lines drown the test output.
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	env := suite.NewTestWorkflowEnvironment()
	env.SetStartTime(t0)
	rec := &recorder{}
	acts := &activities.Activities{Store: st, Now: env.Now, Notifier: activities.Notifier{SMS: rec, Email: mailRecorder{rec}}}
	bookingworker.Register(env, acts)

	return &harness{t: t, env: env, st: st, rec: rec, in: workflows.Input{
		BookingID: "b-1", ProviderID: "prov-1", ServiceID: "svc-30", PatientID: "pat-1", Start: slotStart,
		Policy: workflows.Policy{
			HoldTTL: 10 * time.Minute, ReminderOffsets: []time.Duration{24 * time.Hour, 2 * time.Hour},
			NoShowGrace: 15 * time.Minute, LateCancelWindow: 24 * time.Hour, CheckInEarly: time.Hour,
			HoldRequestWait: time.Minute,
		},
	}}
}

// outcome is what an update answered.
type outcome struct {
	booking domain.Booking
	err     error
	done    bool
}

// update sends an update after delay (workflow time since the start).
func (h *harness) update(delay time.Duration, name string, args ...any) *outcome {
	o := &outcome{}
	h.env.RegisterDelayedCallback(func() {
		h.env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { o.err, o.done = err, true },
			OnComplete: func(res any, err error) {
				o.err, o.done = err, true
				if b, ok := res.(domain.Booking); ok {
					o.booking = b
				}
			},
		}, args...)
	}, delay)
	return o
}

func (h *harness) run() domain.Status {
	h.env.ExecuteWorkflow(workflows.BookingWorkflow, h.in)
	require.True(h.t, h.env.IsWorkflowCompleted())
	require.NoError(h.t, h.env.GetWorkflowError())
	var st domain.Status
	require.NoError(h.t, h.env.GetWorkflowResult(&st))
	return st
}

func (h *harness) booking() domain.Booking {
	b, err := h.st.GetBooking(context.Background(), h.in.BookingID)
	require.NoError(h.t, err)
	return b
}

// notifications lists kind/variant/channel/revision of the rows written, in order.
func (h *harness) notifications() []string {
	ns, err := h.st.ListNotifications(context.Background(), h.in.BookingID)
	require.NoError(h.t, err)
	var out []string
	for _, n := range ns {
		require.Equal(h.t, "sent", n.Status, "%s %s", n.Kind, n.Channel)
		key := n.Kind
		if n.Variant != "" {
			key += ":" + n.Variant
		}
		out = append(out, key+"/"+n.Channel)
	}
	return out
}

func pairs(kinds ...string) []string {
	var out []string
	for _, k := range kinds {
		out = append(out, k+"/sms", k+"/email")
	}
	return out
}

func statusEvents(t *testing.T, st *store.Store, id string) []string {
	events, err := st.ListEvents(context.Background(), id)
	require.NoError(t, err)
	var out []string
	for _, e := range events {
		if e.Type == "status" {
			out = append(out, e.Detail["status"].(string))
		}
	}
	return out
}

func TestConfirmedRemindedAndNoShow(t *testing.T) {
	h := newHarness(t)
	hold := h.update(0, workflows.UpdateHold)
	confirm := h.update(time.Minute, workflows.UpdateConfirm)

	require.Equal(t, domain.StatusNoShow, h.run())

	require.NoError(t, hold.err)
	require.Equal(t, domain.StatusHeld, hold.booking.Status)
	require.True(t, hold.booking.HoldExpiresAt.Equal(t0.Add(10*time.Minute)))
	require.True(t, hold.booking.End.Equal(slotStart.Add(30*time.Minute)))
	require.NoError(t, confirm.err)
	require.Equal(t, domain.StatusConfirmed, confirm.booking.Status)

	require.Equal(t, domain.StatusNoShow, h.booking().Status)
	require.ElementsMatch(t, pairs("confirmation", "reminder:24h", "reminder:2h", "no_show"), h.notifications())
	require.Equal(t, []string{"held", "confirmed", "no_show"}, statusEvents(t, h.st, "b-1"))

	msgs := h.rec.all()
	require.Len(t, msgs, 8)
	for _, m := range msgs {
		if m.channel == "sms" {
			require.Equal(t, "+15550001111", m.to)
		} else {
			require.Equal(t, "pat@example.com", m.to)
		}
	}
	// The first message is the confirmation, with a calendar invite by email.
	var confirmMail *sent
	for i := range msgs {
		if msgs[i].channel == "email" && confirmMail == nil {
			confirmMail = &msgs[i]
		}
	}
	require.Equal(t, "REQUEST", confirmMail.icsMethod)
}

func TestReminderTimes(t *testing.T) {
	h := newHarness(t)
	h.update(0, workflows.UpdateHold)
	h.update(time.Minute, workflows.UpdateConfirm)
	var summaries []workflows.Summary
	// Just after each reminder is due, ask what the workflow has done.
	for _, at := range []time.Duration{slotStart.Sub(t0) - 24*time.Hour + time.Second, slotStart.Sub(t0) - 2*time.Hour + time.Second} {
		h.env.RegisterDelayedCallback(func() {
			v, err := h.env.QueryWorkflow(workflows.QuerySummary)
			require.NoError(t, err)
			var s workflows.Summary
			require.NoError(t, v.Get(&s))
			summaries = append(summaries, s)
		}, at)
	}
	h.run()
	require.Len(t, summaries, 2)
	require.Equal(t, "sent", summaries[0].Reminders[0].State)
	require.Equal(t, "planned", summaries[0].Reminders[1].State)
	require.True(t, summaries[0].Reminders[0].At.Equal(slotStart.Add(-24*time.Hour)))
	require.Equal(t, "sent", summaries[1].Reminders[1].State)
}

func TestHoldExpires(t *testing.T) {
	h := newHarness(t)
	hold := h.update(0, workflows.UpdateHold)
	late := h.update(11*time.Minute, workflows.UpdateConfirm)

	require.Equal(t, domain.StatusExpired, h.run())
	require.NoError(t, hold.err)
	require.Equal(t, domain.StatusExpired, h.booking().Status)
	require.ElementsMatch(t, pairs("hold_expired"), h.notifications())
	// A confirm after the expiry is too late (or the workflow has closed already).
	require.True(t, !late.done || late.err != nil)

	// The slot is free again: the database accepts another hold on it.
	exp := slotStart
	_, err := h.st.CreateHold(context.Background(), domain.Booking{ID: "b-2", ProviderID: "prov-1", ServiceID: "svc-30", PatientID: "pat-1",
		Start: slotStart, End: slotStart.Add(30 * time.Minute), HoldExpiresAt: &exp}, 0, store.EventInput{})
	require.NoError(t, err)
}

func TestCancelBeforeConfirm(t *testing.T) {
	h := newHarness(t)
	h.update(0, workflows.UpdateHold)
	cancel := h.update(2*time.Minute, workflows.UpdateCancel, workflows.CancelRequest{Reason: "changed my mind", By: "pat-1"})

	require.Equal(t, domain.StatusCancelled, h.run())
	require.NoError(t, cancel.err)
	b := h.booking()
	require.Equal(t, domain.StatusCancelled, b.Status)
	require.Equal(t, "changed my mind", b.CancelReason)
	require.False(t, b.LateCancel)
	require.ElementsMatch(t, pairs("cancellation"), h.notifications())
}

func TestCancelAfterConfirmEarly(t *testing.T) {
	h := newHarness(t)
	h.update(0, workflows.UpdateHold)
	h.update(time.Minute, workflows.UpdateConfirm)
	// 30 hours before the start: outside the late window, before any reminder.
	cancel := h.update(slotStart.Sub(t0)-30*time.Hour, workflows.UpdateCancel, workflows.CancelRequest{By: "pat-1"})

	require.Equal(t, domain.StatusCancelled, h.run())
	require.NoError(t, cancel.err)
	require.False(t, h.booking().LateCancel)
	// No reminder went out: both were dropped by the compensation.
	require.ElementsMatch(t, pairs("confirmation", "cancellation"), h.notifications())
	events, err := h.st.ListEvents(context.Background(), "b-1")
	require.NoError(t, err)
	var timeline []string
	for _, e := range events {
		if e.Type != "status" {
			timeline = append(timeline, e.Type+":"+e.Detail["offset"].(string))
		}
	}
	require.ElementsMatch(t, []string{"reminder_planned:24h", "reminder_planned:2h", "reminder_dropped:24h", "reminder_dropped:2h"}, timeline)
}

func TestCancelAfterConfirmLate(t *testing.T) {
	h := newHarness(t)
	h.update(0, workflows.UpdateHold)
	h.update(time.Minute, workflows.UpdateConfirm)
	cancel := h.update(slotStart.Sub(t0)-3*time.Hour, workflows.UpdateCancel, workflows.CancelRequest{Reason: "sick", By: "pat-1"})

	require.Equal(t, domain.StatusCancelled, h.run())
	require.NoError(t, cancel.err)
	b := h.booking()
	require.True(t, b.LateCancel)
	require.Equal(t, "sick", b.CancelReason)
	// The 24h reminder had gone out; the 2h one was dropped.
	require.ElementsMatch(t, pairs("confirmation", "reminder:24h", "cancellation"), h.notifications())
}

func TestCancelAfterStartIsRefused(t *testing.T) {
	h := newHarness(t)
	h.update(0, workflows.UpdateHold)
	h.update(time.Minute, workflows.UpdateConfirm)
	cancel := h.update(slotStart.Sub(t0)+5*time.Minute, workflows.UpdateCancel, workflows.CancelRequest{By: "pat-1"})

	require.Equal(t, domain.StatusNoShow, h.run())
	require.Error(t, cancel.err)
	require.Contains(t, cancel.err.Error(), "started")
}

func TestReschedule(t *testing.T) {
	h := newHarness(t)
	newStart := slotStart.Add(24*time.Hour + time.Hour) // Thursday 11:00 Berlin
	h.update(0, workflows.UpdateHold)
	h.update(time.Minute, workflows.UpdateConfirm)
	move := h.update(slotStart.Sub(t0)-30*time.Hour, workflows.UpdateReschedule, workflows.RescheduleRequest{Start: newStart, By: "pat-1"})
	checkIn := h.update(newStart.Sub(t0)-10*time.Minute, workflows.UpdateCheckIn, workflows.CheckInRequest{By: "prov"})

	require.Equal(t, domain.StatusCompleted, h.run())
	require.NoError(t, move.err)
	require.Equal(t, 1, move.booking.Revision)
	require.True(t, move.booking.Start.Equal(newStart))
	require.NoError(t, checkIn.err)

	b := h.booking()
	require.True(t, b.Start.Equal(newStart))
	require.True(t, b.End.Equal(newStart.Add(30*time.Minute)))
	// Reminders were re-planned for the new time: none went out for the old one.
	ns, err := h.st.ListNotifications(context.Background(), "b-1")
	require.NoError(t, err)
	var got []string
	for _, n := range ns {
		require.Equal(t, "sent", n.Status, "%s %s: %s", n.Kind, n.Channel, n.Error)
		got = append(got, n.Kind+n.Variant+"/"+n.Channel+"/"+string(rune('0'+n.Revision)))
	}
	// The patient is told both times.
	var told bool
	for _, m := range h.rec.all() {
		if m.channel == "sms" && strings.Contains(m.body, "Thu 10 Jan 2030, 11:00") && strings.Contains(m.body, "Wed 9 Jan 2030, 10:00") {
			told = true
		}
	}
	require.True(t, told, "the reschedule SMS names the old and the new time: %+v", h.rec.all())
	require.ElementsMatch(t, []string{
		"confirmation/sms/0", "confirmation/email/0",
		"reschedule/sms/1", "reschedule/email/1",
		"reminder24h/sms/1", "reminder24h/email/1",
		"reminder2h/sms/1", "reminder2h/email/1",
	}, got)
	require.Equal(t, []string{"held", "confirmed", "checked_in", "completed"}, statusEvents(t, h.st, "b-1"))
}

func TestFailedRescheduleChangesNothing(t *testing.T) {
	h := newHarness(t)
	taken := slotStart.Add(2 * time.Hour)
	exp := t0.Add(time.Hour)
	// Somebody else holds the slot we will try to move to.
	_, err := h.st.CreateHold(context.Background(), domain.Booking{ID: "other", ProviderID: "prov-1", ServiceID: "svc-30", PatientID: "pat-1",
		Start: taken, End: taken.Add(30 * time.Minute), HoldExpiresAt: &exp}, 0, store.EventInput{})
	require.NoError(t, err)

	h.update(0, workflows.UpdateHold)
	h.update(time.Minute, workflows.UpdateConfirm)
	move := h.update(2*time.Minute, workflows.UpdateReschedule, workflows.RescheduleRequest{Start: taken, By: "pat-1"})
	offGrid := h.update(3*time.Minute, workflows.UpdateReschedule, workflows.RescheduleRequest{Start: slotStart.Add(7 * time.Minute), By: "pat-1"})
	var summary workflows.Summary
	h.env.RegisterDelayedCallback(func() {
		v, err := h.env.QueryWorkflow(workflows.QuerySummary)
		require.NoError(t, err)
		require.NoError(t, v.Get(&summary))
	}, 4*time.Minute)
	h.update(5*time.Minute, workflows.UpdateCancel, workflows.CancelRequest{By: "pat-1"})

	require.Equal(t, domain.StatusCancelled, h.run())
	require.Error(t, move.err)
	require.Contains(t, move.err.Error(), "taken")
	require.Error(t, offGrid.err)
	require.Contains(t, offGrid.err.Error(), "not an offered slot")
	require.True(t, summary.Booking.Start.Equal(slotStart))
	require.Equal(t, 0, summary.Booking.Revision)
	require.Equal(t, domain.StatusConfirmed, summary.Booking.Status)
	require.ElementsMatch(t, pairs("confirmation", "cancellation"), h.notifications())
}

func TestCheckInTooEarlyThenCompleted(t *testing.T) {
	h := newHarness(t)
	h.update(0, workflows.UpdateHold)
	h.update(time.Minute, workflows.UpdateConfirm)
	early := h.update(slotStart.Sub(t0)-3*time.Hour, workflows.UpdateCheckIn, workflows.CheckInRequest{By: "prov"})
	onTime := h.update(slotStart.Sub(t0)-5*time.Minute, workflows.UpdateCheckIn, workflows.CheckInRequest{By: "prov"})

	require.Equal(t, domain.StatusCompleted, h.run())
	require.Error(t, early.err)
	require.NoError(t, onTime.err)
	require.Equal(t, domain.StatusCheckedIn, onTime.booking.Status)
	require.Equal(t, []string{"held", "confirmed", "checked_in", "completed"}, statusEvents(t, h.st, "b-1"))
	// Checked in before the 2h reminder? No: 5 minutes before, so both reminders went out.
	require.ElementsMatch(t, pairs("confirmation", "reminder:24h", "reminder:2h"), h.notifications())
}

func TestHoldRefusedWhenSlotTaken(t *testing.T) {
	h := newHarness(t)
	exp := t0.Add(time.Hour)
	_, err := h.st.CreateHold(context.Background(), domain.Booking{ID: "other", ProviderID: "prov-1", ServiceID: "svc-30", PatientID: "pat-1",
		Start: slotStart.Add(15 * time.Minute), End: slotStart.Add(45 * time.Minute), HoldExpiresAt: &exp}, 0, store.EventInput{})
	require.NoError(t, err)
	hold := h.update(0, workflows.UpdateHold)

	require.Equal(t, domain.Status(""), h.run())
	require.Error(t, hold.err)
	require.Contains(t, hold.err.Error(), "taken")
	_, err = h.st.GetBooking(context.Background(), "b-1")
	require.Equal(t, domain.KindNotFound, domain.ErrorKind(err))
}

func TestHoldRefusedWhenNotOffered(t *testing.T) {
	h := newHarness(t)
	h.in.Start = slotStart.Add(10 * time.Minute)
	hold := h.update(0, workflows.UpdateHold)

	require.Equal(t, domain.Status(""), h.run())
	require.Error(t, hold.err)
	require.Contains(t, hold.err.Error(), "not an offered slot")
	require.Empty(t, h.notifications())
}

func TestNoHoldRequestedEndsQuietly(t *testing.T) {
	h := newHarness(t)
	require.Equal(t, domain.Status(""), h.run())
	_, err := h.st.GetBooking(context.Background(), "b-1")
	require.Equal(t, domain.KindNotFound, domain.ErrorKind(err))
}

func TestWorkflowCancellationCompensates(t *testing.T) {
	h := newHarness(t)
	h.update(0, workflows.UpdateHold)
	h.update(time.Minute, workflows.UpdateConfirm)
	h.env.RegisterDelayedCallback(h.env.CancelWorkflow, time.Hour)

	h.env.ExecuteWorkflow(workflows.BookingWorkflow, h.in)
	require.True(t, h.env.IsWorkflowCompleted())
	b := h.booking()
	require.Equal(t, domain.StatusCancelled, b.Status)
	require.Equal(t, "workflow cancelled", b.CancelReason)
	require.ElementsMatch(t, pairs("confirmation", "cancellation"), h.notifications())
}

func TestWorkflowCancellationAfterCheckInCompletes(t *testing.T) {
	h := newHarness(t)
	h.update(0, workflows.UpdateHold)
	h.update(time.Minute, workflows.UpdateConfirm)
	h.update(slotStart.Sub(t0)-5*time.Minute, workflows.UpdateCheckIn, workflows.CheckInRequest{By: "prov"})
	h.env.RegisterDelayedCallback(h.env.CancelWorkflow, slotStart.Sub(t0)+5*time.Minute)

	h.env.ExecuteWorkflow(workflows.BookingWorkflow, h.in)
	require.True(t, h.env.IsWorkflowCompleted())
	require.Equal(t, domain.StatusCompleted, h.booking().Status)
	require.ElementsMatch(t, pairs("confirmation", "reminder:24h", "reminder:2h"), h.notifications())
}

func TestRepeatedCommandsAnswerTheBooking(t *testing.T) {
	h := newHarness(t)
	h.update(0, workflows.UpdateHold)
	first := h.update(time.Minute, workflows.UpdateConfirm)
	again := h.update(2*time.Minute, workflows.UpdateConfirm)
	checkIn := h.update(slotStart.Sub(t0)-5*time.Minute, workflows.UpdateCheckIn, workflows.CheckInRequest{By: "prov"})
	checkInAgain := h.update(slotStart.Sub(t0)-4*time.Minute, workflows.UpdateCheckIn, workflows.CheckInRequest{By: "prov"})

	require.Equal(t, domain.StatusCompleted, h.run())
	require.NoError(t, first.err)
	require.NoError(t, again.err)
	require.Equal(t, domain.StatusConfirmed, again.booking.Status)
	require.NoError(t, checkIn.err)
	require.NoError(t, checkInAgain.err)
	require.Equal(t, domain.StatusCheckedIn, checkInAgain.booking.Status)
	// Confirmed once: one confirmation, not two.
	require.ElementsMatch(t, pairs("confirmation", "reminder:24h", "reminder:2h"), h.notifications())
}

// The workflow refuses a move past the booking's cap itself, in the update's validator, so a
// refused move leaves nothing in the history; bookings made before the cap (nil) move freely.
func TestReschedulesAreCapped(t *testing.T) {
	h := newHarness(t)
	one := 1
	h.in.Policy.MaxReschedules = &one
	h.update(0, workflows.UpdateHold)
	h.update(time.Minute, workflows.UpdateConfirm)
	first := h.update(2*time.Minute, workflows.UpdateReschedule, workflows.RescheduleRequest{Start: slotStart.Add(time.Hour), By: "pat-1"})
	second := h.update(3*time.Minute, workflows.UpdateReschedule, workflows.RescheduleRequest{Start: slotStart.Add(2 * time.Hour), By: "pat-1"})
	h.update(4*time.Minute, workflows.UpdateCancel, workflows.CancelRequest{By: "pat-1"})

	require.Equal(t, domain.StatusCancelled, h.run())
	require.NoError(t, first.err)
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, second.err, &appErr)
	require.Equal(t, string(domain.KindConflict), appErr.Type())
	require.Contains(t, appErr.Message(), "moved as often as allowed (1)")
	require.True(t, h.booking().Start.Equal(slotStart.Add(time.Hour)), "the refused move changed nothing")
}

// Reminders go out furthest first whatever order the policy lists them in.
func TestRemindersAreSortedByTheWorkflow(t *testing.T) {
	h := newHarness(t)
	h.in.Policy.ReminderOffsets = []time.Duration{2 * time.Hour, 24 * time.Hour}
	h.update(0, workflows.UpdateHold)
	h.update(time.Minute, workflows.UpdateConfirm)
	var s workflows.Summary
	h.env.RegisterDelayedCallback(func() {
		v, err := h.env.QueryWorkflow(workflows.QuerySummary)
		require.NoError(t, err)
		require.NoError(t, v.Get(&s))
	}, 2*time.Minute)
	require.Equal(t, domain.StatusNoShow, h.run())
	require.Len(t, s.Reminders, 2)
	require.Equal(t, "24h", s.Reminders[0].Offset)
	require.Equal(t, "2h", s.Reminders[1].Offset)
	require.ElementsMatch(t, pairs("confirmation", "reminder:24h", "reminder:2h", "no_show"), h.notifications())
}

// The database moved first (a confirm committed whose answer the workflow never heard): when
// the hold's expiry finds the booking confirmed, the workflow carries on as confirmed instead
// of failing, with its reminders and confirmation.
func TestWorkflowCatchesUpWithTheDatabase(t *testing.T) {
	h := newHarness(t)
	h.update(0, workflows.UpdateHold)
	h.env.RegisterDelayedCallback(func() {
		_, err := h.st.ChangeStatus(context.Background(), store.StatusChange{BookingID: "b-1",
			From: []domain.Status{domain.StatusHeld}, To: domain.StatusConfirmed})
		require.NoError(t, err)
	}, 5*time.Minute)
	checkIn := h.update(slotStart.Sub(t0)-10*time.Minute, workflows.UpdateCheckIn, workflows.CheckInRequest{By: "prov"})

	require.Equal(t, domain.StatusCompleted, h.run())
	require.NoError(t, checkIn.err)
	require.Equal(t, domain.StatusCompleted, h.booking().Status)
	require.ElementsMatch(t, pairs("confirmation", "reminder:24h", "reminder:2h"), h.notifications())
}

// A resumed run (the reconciler's, for a booking whose workflow is gone) carries on from the
// database: a confirmed booking gets its reminders and its no-show check back, and the
// confirmation already sent is not sent again.
func TestResumeCarriesOnFromTheDatabase(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	exp := t0.Add(10 * time.Minute)
	_, err := h.st.CreateHold(ctx, domain.Booking{ID: "b-1", ProviderID: "prov-1", ServiceID: "svc-30", PatientID: "pat-1",
		Start: slotStart, End: slotStart.Add(30 * time.Minute), HoldExpiresAt: &exp}, 0, store.EventInput{})
	require.NoError(t, err)
	_, err = h.st.ChangeStatus(ctx, store.StatusChange{BookingID: "b-1", From: []domain.Status{domain.StatusHeld}, To: domain.StatusConfirmed})
	require.NoError(t, err)
	_, err = h.st.EnsureNotification(ctx, domain.Notification{ID: "n-1", BookingID: "b-1", Kind: domain.NotifyConfirmation,
		Channel: domain.ChannelSMS, Recipient: "+15550001111"})
	require.NoError(t, err)
	require.NoError(t, h.st.MarkNotificationSent(ctx, "n-1", "SM1"))

	h.in.Resume = true
	require.Equal(t, domain.StatusNoShow, h.run())
	require.ElementsMatch(t, pairs("confirmation", "reminder:24h", "reminder:2h", "no_show"), h.notifications())
	for _, m := range h.rec.all() {
		if m.channel == "sms" {
			require.NotContains(t, m.body, "Confirmed", "the confirmation SMS was sent before the resume")
		}
	}
}
