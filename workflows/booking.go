package workflows

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/clinicbook/booking/activities/contract"
	"github.com/clinicbook/booking/domain"
)

// BookingWorkflow is one booking's whole life: hold, confirm or expire, remind, check in or
// no-show, complete; cancel and reschedule at any point before the start.
//
// The hold runs in the hold update's handler, so the caller that started the workflow learns
// synchronously whether the slot is theirs, and a refused hold ends the workflow at once.
func BookingWorkflow(ctx workflow.Context, in Input) (domain.Status, error) {
	s := &booking{in: in, logger: workflow.GetLogger(ctx)}
	if err := s.registerHandlers(ctx); err != nil {
		return "", err
	}
	s.cancellableTimers = workflow.GetVersion(ctx, changeTimers, workflow.DefaultVersion, versionTimers) == versionTimers

	if in.Resume {
		if err := s.resume(ctx); err != nil {
			return "", err
		}
	} else if done, err := s.awaitHold(ctx); done || err != nil {
		return "", err
	}

	err := s.run(ctx)
	if temporal.IsCanceledError(err) || errors.Is(ctx.Err(), workflow.ErrCanceled) {
		// The workflow itself was cancelled (an admin in the Web UI): compensate anyway, on a
		// context the cancellation does not reach.
		dctx, _ := workflow.NewDisconnectedContext(ctx)
		if err := s.mu.Lock(dctx); err != nil {
			return s.booking.Status, err
		}
		switch s.booking.Status {
		case domain.StatusHeld, domain.StatusConfirmed:
			err = s.cancel(dctx, CancelRequest{Reason: "workflow cancelled", By: "system"})
		case domain.StatusCheckedIn:
			// The visit is under way: close it rather than cancel it.
			err = s.complete(dctx)
		}
		s.mu.Unlock()
		if err != nil {
			return s.booking.Status, err
		}
		ctx = dctx
	} else if err != nil {
		return s.booking.Status, err
	}
	// Let messages in flight and handlers finish before the workflow closes.
	if err := workflow.Await(ctx, func() bool { return s.sending == 0 && workflow.AllHandlersFinished(ctx) }); err != nil {
		return s.booking.Status, err
	}
	return s.booking.Status, nil
}

// awaitHold waits for the hold update and its outcome. It reports done when the workflow has
// nothing more to do: nobody asked for the hold, or it was refused, or it failed.
func (s *booking) awaitHold(ctx workflow.Context) (bool, error) {
	ok, err := s.awaitWithTimeout(ctx, s.in.Policy.HoldRequestWait, func() bool { return s.holdStarted })
	if err != nil {
		return true, err
	}
	if !ok {
		// Nobody asked for the hold: the caller died between start and update. Nothing was written.
		s.log(ctx, "no hold requested; nothing held")
		return true, nil
	}
	// The hold runs to its end even when the workflow is cancelled meanwhile (an admin in the
	// Web UI): what it wrote must be known before anything is undone.
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	if err := workflow.Await(dctx, func() bool { return s.holdDone }); err != nil {
		return true, err
	}
	if s.holdErr == nil {
		return false, nil
	}
	refused := isRefusal(s.holdErr)
	if workflow.GetVersion(ctx, changeRefusals, workflow.DefaultVersion, versionRefusals) == workflow.DefaultVersion {
		refused = isLegacyRefusal(s.holdErr)
	}
	if !refused {
		// The hold failed rather than being refused (the database away for the whole retry
		// budget, or its answer lost after the insert committed): a row may exist, so expire
		// it. Expiring is safe to repeat and harmless when nothing was written.
		_ = s.setDurableStatus(dctx, contract.StatusInput{From: []domain.Status{domain.StatusHeld}, To: domain.StatusExpired})
	}
	_ = workflow.Await(dctx, func() bool { return workflow.AllHandlersFinished(dctx) })
	return true, nil
}

// resume starts a run for a booking whose workflow is gone (see Input.Resume): the database's
// booking is the truth, and the run carries on from its status.
func (s *booking) resume(ctx workflow.Context) error {
	s.holdStarted, s.holdDone = true, true
	b, err := s.reread(ctx)
	if err != nil {
		return err
	}
	s.log(ctx, "resumed from the database as %s", b.Status)
	s.adopt(ctx, b)
	return nil
}

// booking is the workflow's state. Handlers and the main loop take turns through mu.
type booking struct {
	in      Input
	logger  interface{ Info(string, ...interface{}) }
	mu      workflow.Mutex
	booking domain.Booking

	holdStarted bool
	holdDone    bool
	holdErr     error

	// cancellableTimers: timers that no longer matter are cancelled (versionTimers).
	cancellableTimers bool

	// changed is bumped whenever the main loop's next deadline may have moved.
	changed   int
	reminders []Reminder
	// compensations undo completed steps; they run last-in, first-out.
	compensations []string
	sending       int
	journal       []LogEntry
}

func (s *booking) log(ctx workflow.Context, format string, args ...any) {
	what := fmt.Sprintf(format, args...)
	s.journal = append(s.journal, LogEntry{At: workflow.Now(ctx), What: what})
	s.logger.Info(what, "BookingID", s.in.BookingID)
}

func (s *booking) registerHandlers(ctx workflow.Context) error {
	s.mu = workflow.NewMutex(ctx)
	if err := workflow.SetQueryHandler(ctx, QuerySummary, s.summary); err != nil {
		return err
	}
	handlers := []struct {
		name    string
		handler any
		valid   any
	}{
		{UpdateHold, s.hold, nil},
		{UpdateConfirm, s.confirm, s.validateConfirm},
		{UpdateCancel, s.cancelUpdate, s.validateCancel},
		{UpdateReschedule, s.reschedule, s.validateReschedule},
		{UpdateCheckIn, s.checkIn, s.validateCheckIn},
	}
	for _, h := range handlers {
		opts := workflow.UpdateHandlerOptions{Validator: h.valid}
		if err := workflow.SetUpdateHandlerWithOptions(ctx, h.name, h.handler, opts); err != nil {
			return err
		}
	}
	return nil
}

func (s *booking) summary() (Summary, error) {
	return Summary{Booking: s.booking, Reminders: s.reminders, Compensations: s.compensations, Log: s.journal}, nil
}

// hold is the first step. A second hold update (a retried POST with a new update id) gets the
// first answer.
func (s *booking) hold(ctx workflow.Context) (domain.Booking, error) {
	// The hold runs to its end even if the workflow is cancelled meanwhile, so that what it
	// wrote is known before the cancellation compensates (see awaitHold).
	ctx, _ = workflow.NewDisconnectedContext(ctx)
	if err := s.mu.Lock(ctx); err != nil {
		return domain.Booking{}, err
	}
	defer s.mu.Unlock()
	if s.holdDone {
		return s.booking, s.holdErr
	}
	s.holdStarted = true
	expires := workflow.Now(ctx).Add(s.in.Policy.HoldTTL)
	var held domain.Booking
	err := workflow.ExecuteLocalActivity(localCtx(ctx), contract.HoldSlot, contract.HoldInput{
		BookingID: s.in.BookingID, ProviderID: s.in.ProviderID, ServiceID: s.in.ServiceID,
		PatientID: s.in.PatientID, Start: s.in.Start, Notes: s.in.Notes, ExpiresAt: expires,
		MaxActive: s.in.Policy.MaxActiveBookings,
	}).Get(ctx, &held)
	s.holdDone = true
	if err != nil {
		s.holdErr = updateError(err)
		s.log(ctx, "hold refused: %v", s.holdErr)
		if !isRefusal(s.holdErr) {
			// The caller sees that it may try again, not our internal error.
			return domain.Booking{}, temporal.NewApplicationError("the slot could not be held just now; try again", string(domain.KindUnavailable))
		}
		return domain.Booking{}, s.holdErr
	}
	s.booking = held
	s.compensations = append(s.compensations, compReleaseSlot)
	s.log(ctx, "slot held until %s", expires.Format(time.RFC3339))
	if err := s.publish(ctx); err != nil {
		return domain.Booking{}, err
	}
	return held, nil
}

// validateConfirm accepts a confirm of a live hold, and a repeat of one that succeeded (a
// retried request gets the booking, not an error).
func (s *booking) validateConfirm(ctx workflow.Context) error {
	if err := s.requireStatus(domain.StatusHeld, domain.StatusConfirmed); err != nil {
		return err
	}
	if s.booking.Status == domain.StatusHeld && !workflow.Now(ctx).Before(*s.booking.HoldExpiresAt) {
		return temporal.NewApplicationError("the hold has expired", string(domain.KindConflict))
	}
	return nil
}

func (s *booking) confirm(ctx workflow.Context) (domain.Booking, error) {
	if err := s.mu.Lock(ctx); err != nil {
		return domain.Booking{}, err
	}
	defer s.mu.Unlock()
	if s.booking.Status == domain.StatusConfirmed {
		return s.booking, nil
	}
	if err := s.validateConfirm(ctx); err != nil {
		return domain.Booking{}, err
	}
	if err := s.setStatus(ctx, contract.StatusInput{From: []domain.Status{domain.StatusHeld}, To: domain.StatusConfirmed}); err != nil {
		return domain.Booking{}, err
	}
	s.compensations = append(s.compensations, compDropReminders)
	s.planReminders(ctx)
	s.notify(ctx, domain.NotifyConfirmation, "")
	return s.booking, nil
}

func (s *booking) validateCancel(ctx workflow.Context, req CancelRequest) error {
	if err := s.requireStatus(domain.StatusHeld, domain.StatusConfirmed, domain.StatusCancelled); err != nil {
		return err
	}
	if s.booking.Status == domain.StatusCancelled {
		return nil // a repeat: the handler answers with the booking
	}
	if !workflow.Now(ctx).Before(s.booking.Start) {
		return temporal.NewApplicationError("the appointment has started; it can no longer be cancelled", string(domain.KindConflict))
	}
	return nil
}

func (s *booking) cancelUpdate(ctx workflow.Context, req CancelRequest) (domain.Booking, error) {
	if err := s.mu.Lock(ctx); err != nil {
		return domain.Booking{}, err
	}
	defer s.mu.Unlock()
	if s.booking.Status == domain.StatusCancelled {
		return s.booking, nil
	}
	if err := s.validateCancel(ctx, req); err != nil {
		return domain.Booking{}, err
	}
	// Compensation must finish even if the workflow is cancelled while it runs.
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	if err := s.cancel(dctx, req); err != nil {
		return domain.Booking{}, err
	}
	return s.booking, nil
}

// Compensation steps, registered as the steps they undo succeed.
const (
	compReleaseSlot   = "release slot"
	compDropReminders = "drop pending reminders"
)

// cancel runs the compensations in reverse order, then tells the patient.
func (s *booking) cancel(ctx workflow.Context, req CancelRequest) error {
	late := !workflow.Now(ctx).Before(s.booking.Start.Add(-s.in.Policy.LateCancelWindow))
	for i := len(s.compensations) - 1; i >= 0; i-- {
		switch s.compensations[i] {
		case compDropReminders:
			s.dropReminders(ctx)
		case compReleaseSlot:
			if err := s.setDurableStatus(ctx, contract.StatusInput{
				From: []domain.Status{domain.StatusHeld, domain.StatusConfirmed}, To: domain.StatusCancelled,
				Reason: req.Reason, ReasonCode: req.ReasonCode, LateCancel: late, By: req.By,
			}); err != nil {
				return err
			}
		}
	}
	s.compensations = nil
	if late {
		s.log(ctx, "late cancellation")
	}
	s.notify(ctx, domain.NotifyCancellation, "")
	return nil
}

func (s *booking) validateReschedule(ctx workflow.Context, req RescheduleRequest) error {
	if err := s.requireStatus(domain.StatusHeld, domain.StatusConfirmed); err != nil {
		return err
	}
	now := workflow.Now(ctx)
	if !now.Before(s.booking.Start) {
		return temporal.NewApplicationError("the appointment has started; it can no longer be moved", string(domain.KindConflict))
	}
	if !req.Start.After(now) {
		return temporal.NewApplicationError("the new time has passed", string(domain.KindUnprocessable),
			[]domain.FieldError{{Field: "start", Message: "in the past"}})
	}
	if max := s.in.Policy.MaxReschedules; max != nil && s.booking.Revision >= *max {
		return temporal.NewApplicationError(fmt.Sprintf("this booking has been moved as often as allowed (%d); cancel it and book a new time", s.booking.Revision),
			string(domain.KindConflict))
	}
	if req.Start.Equal(s.booking.Start) {
		return temporal.NewApplicationError("the booking is at that time already", string(domain.KindUnprocessable),
			[]domain.FieldError{{Field: "start", Message: "same as the current start"}})
	}
	return nil
}

// reschedule holds the new slot and releases the old one in one step (see store.Move), then
// re-plans the reminders and tells the patient. A refused move changes nothing.
func (s *booking) reschedule(ctx workflow.Context, req RescheduleRequest) (domain.Booking, error) {
	if err := s.mu.Lock(ctx); err != nil {
		return domain.Booking{}, err
	}
	defer s.mu.Unlock()
	if err := s.validateReschedule(ctx, req); err != nil {
		return domain.Booking{}, err
	}
	old := s.booking.Start
	var moved domain.Booking
	err := workflow.ExecuteLocalActivity(localCtx(ctx), contract.MoveBooking, contract.MoveInput{
		BookingID: s.in.BookingID, Start: req.Start, Revision: s.booking.Revision + 1, By: req.By,
	}).Get(ctx, &moved)
	if err != nil {
		err = updateError(err)
		s.log(ctx, "reschedule to %s refused: %v", req.Start.Format(time.RFC3339), err)
		return domain.Booking{}, err
	}
	// The old time's reminders are dropped under the old revision, before the booking moves.
	s.dropReminders(ctx)
	s.booking = moved
	s.log(ctx, "rescheduled from %s to %s", old.Format(time.RFC3339), moved.Start.Format(time.RFC3339))
	if err := s.publish(ctx); err != nil {
		return domain.Booking{}, err
	}
	if s.booking.Status == domain.StatusConfirmed {
		s.planReminders(ctx)
		s.notifyMoved(ctx, domain.NotifyReschedule, "", old)
	}
	s.changed++
	return s.booking, nil
}

func (s *booking) validateCheckIn(ctx workflow.Context, req CheckInRequest) error {
	if err := s.requireStatus(domain.StatusConfirmed, domain.StatusCheckedIn); err != nil {
		return err
	}
	if s.booking.Status == domain.StatusCheckedIn {
		return nil // a repeat: the handler answers with the booking
	}
	if workflow.Now(ctx).Before(s.booking.Start.Add(-s.in.Policy.CheckInEarly)) {
		return temporal.NewApplicationError(fmt.Sprintf("check-in opens %s before the start", s.in.Policy.CheckInEarly), string(domain.KindConflict))
	}
	return nil
}

func (s *booking) checkIn(ctx workflow.Context, req CheckInRequest) (domain.Booking, error) {
	if err := s.mu.Lock(ctx); err != nil {
		return domain.Booking{}, err
	}
	defer s.mu.Unlock()
	if s.booking.Status == domain.StatusCheckedIn {
		return s.booking, nil
	}
	if err := s.validateCheckIn(ctx, req); err != nil {
		return domain.Booking{}, err
	}
	if err := s.setStatus(ctx, contract.StatusInput{From: []domain.Status{domain.StatusConfirmed}, To: domain.StatusCheckedIn, By: req.By}); err != nil {
		return domain.Booking{}, err
	}
	s.dropReminders(ctx)
	return s.booking, nil
}

// run waits for the next deadline of the current status, or for a handler to change things,
// until the booking reaches a terminal status.
func (s *booking) run(ctx workflow.Context) error {
	for !s.booking.Status.Terminal() {
		at, fire := s.next()
		seen := s.changed
		wait := at.Sub(workflow.Now(ctx))
		if wait > 0 {
			changed, err := s.awaitWithTimeout(ctx, wait, func() bool { return s.changed != seen })
			if err != nil {
				return err
			}
			if changed {
				continue
			}
		}
		if err := s.mu.Lock(ctx); err != nil {
			return err
		}
		// A handler may have moved things while we waited for the lock.
		if s.changed == seen {
			before := s.booking.Status
			if err := fire(ctx); err != nil {
				s.mu.Unlock()
				if s.booking.Status != before {
					// The database had moved first; the workflow caught up (see
					// writeStatus) and carries on from there rather than failing.
					continue
				}
				return err
			}
		}
		s.mu.Unlock()
	}
	return nil
}

// awaitWithTimeout waits for cond for at most d and reports whether cond came true. Unlike
// workflow.AwaitWithTimeout it cancels its timer when cond wins, so a booking's history holds
// only the timers that fired or were called off, not one left running per re-plan.
func (s *booking) awaitWithTimeout(ctx workflow.Context, d time.Duration, cond func() bool) (bool, error) {
	if !s.cancellableTimers {
		return workflow.AwaitWithTimeout(ctx, d, cond)
	}
	if cond() {
		return true, nil
	}
	tctx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	timer := workflow.NewTimer(tctx, d)
	if err := workflow.Await(ctx, func() bool { return cond() || timer.IsReady() }); err != nil {
		return false, err
	}
	return cond(), nil
}

// next is the booking's next deadline and what happens then.
func (s *booking) next() (time.Time, func(workflow.Context) error) {
	b := s.booking
	switch b.Status {
	case domain.StatusHeld:
		return *b.HoldExpiresAt, s.expire
	case domain.StatusConfirmed:
		for i, r := range s.reminders {
			if r.State == reminderPlanned {
				return r.At, func(ctx workflow.Context) error { return s.remind(ctx, i) }
			}
		}
		return b.Start.Add(s.in.Policy.NoShowGrace), s.noShow
	case domain.StatusCheckedIn:
		return b.End, s.complete
	}
	// Terminal statuses never get here; a status we do not know waits for a handler.
	return b.Start.Add(24 * time.Hour * 365), func(workflow.Context) error { return nil }
}

func (s *booking) expire(ctx workflow.Context) error {
	if err := s.setDurableStatus(ctx, contract.StatusInput{From: []domain.Status{domain.StatusHeld}, To: domain.StatusExpired}); err != nil {
		return err
	}
	s.compensations = nil // expiring released the slot
	s.notify(ctx, domain.NotifyHoldExpired, "")
	return nil
}

func (s *booking) noShow(ctx workflow.Context) error {
	if err := s.setDurableStatus(ctx, contract.StatusInput{From: []domain.Status{domain.StatusConfirmed}, To: domain.StatusNoShow}); err != nil {
		return err
	}
	s.compensations = nil
	s.notify(ctx, domain.NotifyNoShow, "")
	return nil
}

func (s *booking) complete(ctx workflow.Context) error {
	s.compensations = nil
	return s.setDurableStatus(ctx, contract.StatusInput{From: []domain.Status{domain.StatusCheckedIn}, To: domain.StatusCompleted})
}

// Reminder states.
const (
	reminderPlanned = "planned"
	reminderSending = "sending"
	reminderSent    = "sent"
	reminderFailed  = "failed"
	reminderSkipped = "skipped"
	reminderDropped = "dropped"
)

// planReminders plans one reminder per offset for the current time, furthest first whatever
// order the configuration gave; those already past are skipped rather than sent late.
func (s *booking) planReminders(ctx workflow.Context) {
	now := workflow.Now(ctx)
	s.reminders = nil
	offsets := slices.Clone(s.in.Policy.ReminderOffsets)
	slices.SortFunc(offsets, func(x, y time.Duration) int { return cmp.Compare(y, x) })
	for _, off := range offsets {
		r := Reminder{Offset: formatOffset(off), At: s.booking.Start.Add(-off), State: reminderPlanned}
		if !r.At.After(now) {
			r.State = reminderSkipped
		}
		s.reminders = append(s.reminders, r)
		s.recordEvent(ctx, fmt.Sprintf("reminder:%d:%s:%s", s.booking.Revision, r.Offset, r.State), "reminder_"+r.State,
			map[string]any{"offset": r.Offset, "at": r.At, "revision": s.booking.Revision})
	}
	s.changed++
}

func (s *booking) dropReminders(ctx workflow.Context) {
	for i := range s.reminders {
		if r := &s.reminders[i]; r.State == reminderPlanned {
			r.State = reminderDropped
			s.recordEvent(ctx, fmt.Sprintf("reminder:%d:%s:dropped", s.booking.Revision, r.Offset), "reminder_dropped",
				map[string]any{"offset": r.Offset, "at": r.At, "revision": s.booking.Revision})
		}
	}
	s.changed++
}

// remind sends a reminder. It is marked sent once a message went out on some channel, and
// failed when none did; until then it is sending, and no longer waited for.
func (s *booking) remind(ctx workflow.Context, i int) error {
	r := &s.reminders[i]
	r.State = reminderSending
	s.log(ctx, "reminder %s before the start", r.Offset)
	revision := s.booking.Revision
	s.notifyThen(ctx, domain.NotifyReminder, r.Offset, time.Time{}, func(sent bool) {
		// A reschedule meanwhile replaced the plan; this reminder is no longer in it.
		if i >= len(s.reminders) || s.booking.Revision != revision || s.reminders[i].State != reminderSending {
			return
		}
		if sent {
			s.reminders[i].State = reminderSent
		} else {
			s.reminders[i].State = reminderFailed
		}
	})
	return nil
}

// setStatus writes a status change a caller is waiting for (a local activity, retried
// briefly) and makes it visible: state, search attributes, timeline.
func (s *booking) setStatus(ctx workflow.Context, in contract.StatusInput) error {
	return s.writeStatus(ctx, in, false)
}

// setDurableStatus writes a status change nobody waits for but that must happen, such as an
// expiry or a release of the slot: it retries until the database takes it.
func (s *booking) setDurableStatus(ctx workflow.Context, in contract.StatusInput) error {
	return s.writeStatus(ctx, in, true)
}

// Versions of changes that alter the commands a booking in flight emits.
const (
	// Before it, durable status writes were local activities with a 30-second budget, which
	// a longer database outage could exhaust and fail the workflow.
	changeDurableStatus  = "durable-status-writes"
	versionDurableStatus = 1

	// Before it, waits left their timer running when the condition won.
	changeTimers  = "cancellable-timers"
	versionTimers = 1

	// Before it, a failed hold whose error had any type but "internal" (a converted Go
	// error's "wrapError", say) counted as a refusal, and what it wrote was never expired.
	changeRefusals  = "refusals-by-kind"
	versionRefusals = 1

	// Before it, a status write the database refused (it had moved first) failed the workflow.
	changeCatchUp  = "catch-up-with-database"
	versionCatchUp = 1
)

func (s *booking) writeStatus(ctx workflow.Context, in contract.StatusInput, durable bool) error {
	in.BookingID = s.in.BookingID
	in.EventKey = fmt.Sprintf("status:%s:%d", in.To, s.booking.Revision)
	var b domain.Booking
	var err error
	if durable && workflow.GetVersion(ctx, changeDurableStatus, workflow.DefaultVersion, versionDurableStatus) == versionDurableStatus {
		err = workflow.ExecuteActivity(durableCtx(ctx), contract.SetStatus, in).Get(ctx, &b)
	} else {
		err = workflow.ExecuteLocalActivity(localCtx(ctx), contract.SetStatus, in).Get(ctx, &b)
	}
	if err != nil {
		err = updateError(err)
		if workflow.GetVersion(ctx, changeCatchUp, workflow.DefaultVersion, versionCatchUp) == workflow.DefaultVersion {
			return err
		}
		// Refused (the database moved first: an expiry by the reconciler, a write whose
		// answer was lost) or of unknown outcome (the local budget ran out): the database
		// knows what happened, so ask it.
		cur, rerr := s.reread(ctx)
		if rerr != nil {
			return err
		}
		if cur.Status != in.To {
			s.adopt(ctx, cur)
			return err
		}
		b = cur // it had taken effect after all
	}
	s.booking = b
	s.changed++
	s.log(ctx, "status %s", b.Status)
	return s.publish(ctx)
}

// reread reads the booking from the database, retrying for as long as that takes: the
// workflow cannot go on without knowing where the booking stands.
func (s *booking) reread(ctx workflow.Context) (domain.Booking, error) {
	var b domain.Booking
	err := workflow.ExecuteActivity(durableCtx(ctx), contract.LoadBooking, s.in.BookingID).Get(ctx, &b)
	return b, err
}

// adopt takes the database's booking as the truth and rebuilds the plan from its status:
// which compensations apply, and, for a confirmed booking, its reminders and confirmation
// (messages are sent once per booking, kind and revision, so one already sent is not sent
// again).
func (s *booking) adopt(ctx workflow.Context, b domain.Booking) {
	was := s.booking.Status
	s.booking = b
	switch b.Status {
	case domain.StatusHeld:
		s.compensations = []string{compReleaseSlot}
	case domain.StatusConfirmed:
		s.compensations = []string{compReleaseSlot, compDropReminders}
		if !s.hasPlannedReminders() {
			s.planReminders(ctx)
		}
		s.notify(ctx, domain.NotifyConfirmation, "")
	default:
		s.compensations = nil
		s.dropReminders(ctx)
	}
	if was != "" && was != b.Status {
		s.log(ctx, "caught up with the database: %s, not %s", b.Status, was)
	}
	s.changed++
	_ = s.publish(ctx)
}

func (s *booking) hasPlannedReminders() bool {
	for _, r := range s.reminders {
		if r.State == reminderPlanned {
			return true
		}
	}
	return false
}

// publish keeps the search attributes and memo current, so the Web UI's list and filters
// show the booking as it is. Search attributes are stored in the clear (the server indexes
// them), so they hold ids, the status and the start time only: no names, phones, emails or
// notes. The memo goes through the payload codec like every other payload, so it is
// encrypted in Temporal; it still holds ids and times only.
func (s *booking) publish(ctx workflow.Context) error {
	b := s.booking
	err := workflow.UpsertTypedSearchAttributes(ctx,
		StatusAttr.ValueSet(string(b.Status)),
		ProviderAttr.ValueSet(b.ProviderID),
		PatientAttr.ValueSet(b.PatientID),
		AppointmentStartAttr.ValueSet(b.Start),
	)
	if err != nil {
		return err
	}
	return workflow.UpsertMemo(ctx, memo(b))
}

// memo is the workflow memo of a booking: ids and times only (encrypted by the codec, but
// shown to whoever can decode, so nothing personal goes in it either).
func memo(b domain.Booking) map[string]any {
	return map[string]any{
		"provider_id": b.ProviderID,
		"service_id":  b.ServiceID,
		"patient_id":  b.PatientID,
		"start":       b.Start.Format(time.RFC3339),
		"end":         b.End.Format(time.RFC3339),
		"status":      string(b.Status),
	}
}

func (s *booking) recordEvent(ctx workflow.Context, key, typ string, detail map[string]any) {
	s.sending++
	workflow.Go(ctx, func(ctx workflow.Context) {
		defer func() { s.sending-- }()
		err := workflow.ExecuteLocalActivity(localCtx(ctx), contract.RecordEvent, contract.EventInput{
			BookingID: s.in.BookingID, Key: key, Type: typ, At: workflow.Now(ctx), Detail: detail,
		}).Get(ctx, nil)
		if err != nil {
			s.log(ctx, "timeline entry %s not recorded: %v", key, err)
		}
	})
}

// notify sends a message on every channel, without holding up the booking: sends retry for a
// long time and the booking's timers must not wait for them.
func (s *booking) notify(ctx workflow.Context, kind, variant string) {
	s.notifyMoved(ctx, kind, variant, time.Time{})
}

// notifyMoved is notify for a reschedule, which names the old time too.
func (s *booking) notifyMoved(ctx workflow.Context, kind, variant string, oldStart time.Time) {
	s.notifyThen(ctx, kind, variant, oldStart, nil)
}

// notifyThen sends on every channel and, when done is not nil, calls it once every channel
// has an outcome, with whether a message went out on at least one.
func (s *booking) notifyThen(ctx workflow.Context, kind, variant string, oldStart time.Time, done func(sent bool)) {
	channels := []string{domain.ChannelSMS, domain.ChannelEmail}
	pending, sent := len(channels), false
	for _, ch := range channels {
		in := contract.NotifyInput{BookingID: s.in.BookingID, Kind: kind, Variant: variant, Channel: ch,
			Revision: s.booking.Revision, OldStart: oldStart}
		s.sending++
		workflow.Go(ctx, func(ctx workflow.Context) {
			defer func() { s.sending-- }()
			var res contract.NotifyResult
			err := workflow.ExecuteActivity(notifyCtx(ctx), contract.SendNotification, in).Get(ctx, &res)
			if err == nil && res.Sent() {
				sent = true
			}
			if pending--; pending == 0 && done != nil {
				done(sent)
			}
			if err != nil {
				s.log(ctx, "%s %s not sent: %v", in.Kind, in.Channel, err)
				return
			}
			s.log(ctx, "%s %s %s", in.Kind, in.Channel, res.Status)
		})
	}
}

func (s *booking) requireStatus(allowed ...domain.Status) error {
	if !s.holdDone || s.holdErr != nil {
		return temporal.NewApplicationError("the booking does not exist", string(domain.KindNotFound))
	}
	for _, st := range allowed {
		if s.booking.Status == st {
			return nil
		}
	}
	msg := fmt.Sprintf("the booking is %s", s.booking.Status)
	if s.booking.Status == domain.StatusExpired {
		msg = "the hold has expired"
	}
	return temporal.NewApplicationError(msg, string(domain.KindConflict))
}

// localCtx is for the short database writes: local activities, retried briefly on the same
// worker, because they sit on the caller's path (the hold is the POST's answer).
func localCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		ScheduleToCloseTimeout: 30 * time.Second,
		StartToCloseTimeout:    5 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    100 * time.Millisecond,
			BackoffCoefficient: 2,
			MaximumInterval:    2 * time.Second,
		},
	})
}

// durableCtx is for database writes that must eventually happen: retried with backoff for as
// long as it takes, unless the database refuses them for good (a non-retryable error).
func durableCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    200 * time.Millisecond,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
		},
	})
}

// notifyCtx is for sending messages: providers fail for a while, so retry with backoff for
// up to a day. The notification row makes each retry send at most once.
func notifyCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    45 * time.Second,
		ScheduleToCloseTimeout: 24 * time.Hour,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    2 * time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    10 * time.Minute,
		},
	})
}

// isRefusal reports whether err is a business refusal: one of the domain's kinds for a request
// we will not carry out. Anything else (a failure whose error type is a Go type's name, a
// timeout, an unavailable database) is a failure, after which a write may still have happened.
func isRefusal(err error) bool {
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) {
		return false
	}
	switch domain.Kind(appErr.Type()) {
	case domain.KindInvalid, domain.KindUnprocessable, domain.KindNotFound, domain.KindConflict, domain.KindForbidden:
		return true
	}
	return false
}

// isLegacyRefusal is how refusals were told apart before versionRefusals, kept so that the
// bookings decided that way replay.
func isLegacyRefusal(err error) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && appErr.Type() != "" && appErr.Type() != string(domain.KindInternal)
}

// updateError strips the activity wrapper so the caller sees the refusal itself: its kind
// (the error type) and its bad fields (the details).
func updateError(err error) error {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		var fields []domain.FieldError
		if appErr.HasDetails() {
			_ = appErr.Details(&fields)
		}
		return temporal.NewApplicationError(appErr.Message(), appErr.Type(), fields)
	}
	return err
}

// formatOffset writes a reminder offset the way people do: 24h, 2h, 90m.
func formatOffset(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}
