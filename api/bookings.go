package api

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/clinicbook/booking/availability"
	"github.com/clinicbook/booking/config"
	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/store"
	"github.com/clinicbook/booking/workflows"
)

// bookingView is a booking as the API shows it.
type bookingView struct {
	ID            string        `json:"id"`
	Status        domain.Status `json:"status"`
	HoldExpiresAt *time.Time    `json:"hold_expires_at,omitempty"`
	Start         time.Time     `json:"start"`
	End           time.Time     `json:"end"`
	ProviderID    string        `json:"provider_id"`
	ServiceID     string        `json:"service_id"`
	PatientID     string        `json:"patient_id"`
	Notes         string        `json:"notes,omitempty"`
	CancelReason  string        `json:"cancel_reason,omitempty"`
	// CancelReasonCode is the reason staff gave, one of the fixed list.
	CancelReasonCode string    `json:"cancel_reason_code,omitempty"`
	LateCancel       bool      `json:"late_cancel,omitempty"`
	Revision         int       `json:"revision"`
	CreatedAt        time.Time `json:"created_at"`
	UpdatedAt        time.Time `json:"updated_at"`
	// PatientName is for staff only (providers and admins): a doctor's day lists whom they
	// see. Patients are not shown it; they know their own name.
	PatientName string `json:"patient_name,omitempty"`
	// WorkflowURL is the booking's workflow in the Temporal Web UI, for admins only.
	WorkflowURL string      `json:"workflow_url,omitempty"`
	Events      []eventView `json:"events,omitempty"`
}

func viewOf(b domain.Booking) bookingView {
	v := bookingView{
		ID: b.ID, Status: b.Status, Start: b.Start.UTC(), End: b.End.UTC(),
		ProviderID: b.ProviderID, ServiceID: b.ServiceID, PatientID: b.PatientID, Notes: b.Notes,
		CancelReason: b.CancelReason, CancelReasonCode: b.CancelReasonCode, LateCancel: b.LateCancel, Revision: b.Revision,
		CreatedAt: b.CreatedAt.UTC(), UpdatedAt: b.UpdatedAt.UTC(),
	}
	if b.HoldExpiresAt != nil && b.Status == domain.StatusHeld {
		t := b.HoldExpiresAt.UTC()
		v.HoldExpiresAt = &t
	}
	return v
}

// present is how the caller is shown bs: staff see each patient's name, read for the whole
// page in one statement, and admins a link to each booking's workflow.
func (s *Server) present(ctx context.Context, me domain.Principal, bs ...domain.Booking) ([]bookingView, error) {
	views := make([]bookingView, len(bs))
	for i, b := range bs {
		views[i] = viewOf(b)
	}
	if me.Role != domain.RoleProvider && me.Role != domain.RoleAdmin {
		return views, nil
	}
	ids := make([]string, 0, len(bs))
	seen := make(map[string]bool, len(bs))
	for _, b := range bs {
		if !seen[b.PatientID] {
			seen[b.PatientID] = true
			ids = append(ids, b.PatientID)
		}
	}
	names, err := s.Store.UserNames(ctx, ids)
	if err != nil {
		return nil, err
	}
	for i := range views {
		views[i].PatientName = names[views[i].PatientID]
		if me.Role == domain.RoleAdmin {
			views[i].WorkflowURL = s.workflowURL(views[i].ID)
		}
	}
	return views, nil
}

// workflowURL is where the Temporal Web UI shows the booking's workflow; "" when no UI is
// configured.
func (s *Server) workflowURL(bookingID string) string {
	ui := s.Config.Temporal.UIURL
	if ui == "" {
		return ""
	}
	return ui + "/namespaces/" + url.PathEscape(s.Config.Temporal.Namespace) +
		"/workflows/" + url.PathEscape(workflows.BookingWorkflowID(bookingID))
}

// writeBooking answers a new booking or a command with the booking as the caller is shown it.
// What was asked has taken effect by now, so a failure to read the patient's name must not
// turn it into an error: the answer then goes without it.
func (s *Server) writeBooking(w http.ResponseWriter, r *http.Request, status int, b domain.Booking) {
	views, err := s.present(r.Context(), caller(r), b)
	if err != nil {
		slog.WarnContext(r.Context(), "booking answered without the patient's name", "booking_id", b.ID, "request_id", requestID(r.Context()), "err", err)
		views = []bookingView{viewOf(b)}
	}
	writeJSON(w, status, views[0])
}

type createBookingRequest struct {
	ProviderID string `json:"provider_id"`
	ServiceID  string `json:"service_id"`
	Start      string `json:"start"`
	Notes      string `json:"notes,omitempty"`
	PatientID  string `json:"patient_id,omitempty"`
}

// parseRFC3339 reads a required RFC 3339 field.
func parseRFC3339(v, field string, fe *domain.FieldErrors) time.Time {
	if v == "" {
		fe.Add(field, "required")
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		fe.Add(field, "must be an RFC 3339 time with offset, such as 2026-12-01T09:00:00+01:00")
	}
	return t
}

// validate checks the fields and settles whose booking it is.
func (req *createBookingRequest) validate(me domain.Principal) (time.Time, error) {
	var fe domain.FieldErrors
	if req.ProviderID == "" || len(req.ProviderID) > 64 {
		fe.Add("provider_id", "required")
	}
	if req.ServiceID == "" || len(req.ServiceID) > 64 {
		fe.Add("service_id", "required")
	}
	start := parseRFC3339(req.Start, "start", &fe)
	if len(req.Notes) > 2000 {
		fe.Add("notes", "at most 2000 characters")
	}
	switch me.Role {
	case domain.RolePatient:
		if req.PatientID != "" && req.PatientID != me.UserID {
			fe.Add("patient_id", "a patient books for themself; leave it out")
		}
		req.PatientID = me.UserID
	case domain.RoleAdmin:
		if req.PatientID == "" || len(req.PatientID) > 64 {
			fe.Add("patient_id", "required when an admin books")
		}
	default:
		return start, domain.Errorf(domain.KindForbidden, "only patients and admins make bookings")
	}
	return start, fe.Err("the booking request is not valid")
}

// maxIdempotencyKey bounds the Idempotency-Key header.
const maxIdempotencyKey = 255

// idempotencyNamespace derives booking ids from (caller, key): the same key always names the
// same booking, and so the same workflow.
var idempotencyNamespace = uuid.MustParse("6f1c5a9e-2b1e-4c67-9a55-0c3b8f7d2e10")

// commandKeyNamespace derives a command's update id from (caller, command, key), so that two
// callers or two commands never share one.
var commandKeyNamespace = uuid.MustParse("0b7e4f3a-91d2-4c1e-8f5b-6a2d9c3e7b14")

// idempotencyKey reads the optional Idempotency-Key header: "" when absent, 400 when too long.
func idempotencyKey(r *http.Request) (string, error) {
	key := r.Header.Get("Idempotency-Key")
	if len(key) > maxIdempotencyKey {
		return "", domain.Invalid("the Idempotency-Key header is too long", domain.FieldError{Field: "Idempotency-Key", Message: "at most 255 characters"})
	}
	return key, nil
}

// errKeyReused answers a request whose Idempotency-Key named another request before.
var errKeyReused = &domain.Error{Kind: domain.KindUnprocessable, Message: "this Idempotency-Key was used with a different request",
	Fields: []domain.FieldError{{Field: "Idempotency-Key", Message: "reused with another body"}}}

// createBooking holds a slot. It starts the booking's workflow (eagerly, on this process's own
// worker when it can) and asks it for the hold with an update, so that 201 means held.
func (s *Server) createBooking(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	me := caller(r)
	req, start, err := readCreateBooking(w, r, me)
	if err == nil {
		err = s.withinHorizon(start)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	// A patient the clinic may write to nowhere is refused before anything is held.
	if err := s.Accounts.RequireVerifiedContact(ctx, req.PatientID); err != nil {
		writeError(w, r, err)
		return
	}

	id := uuid.NewString()
	key, err := idempotencyKey(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	retry := false
	if key != "" {
		id = uuid.NewSHA1(idempotencyNamespace, []byte(me.UserID+"\x00"+key)).String()
		hash := requestHash(req, start)
		claim, err := s.Store.ClaimKey(ctx, me.UserID, key, hash, id)
		if err != nil {
			writeError(w, r, err)
			return
		}
		if claim.RequestHash != hash {
			writeError(w, r, errKeyReused)
			return
		}
		retry = !claim.New
	}

	// In a rush most requests are for a slot somebody holds already: they are answered from
	// one indexed read, with no workflow started to say no. Of those that find it free, one
	// at a time goes on to hold it; the others are told at once that it is being taken.
	leave, err := s.slots.admit(req.ProviderID+"\x00"+start.UTC().Format(time.RFC3339Nano), func() error {
		return s.checkSlot(ctx, id, req, start)
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	defer leave()

	b, err := s.hold(ctx, workflows.Input{
		BookingID: id, ProviderID: req.ProviderID, ServiceID: req.ServiceID, PatientID: req.PatientID,
		Start: start, Notes: req.Notes, Policy: s.policy(),
	})
	if retry && (err == nil || domain.IsKind(asDomainError(err), domain.KindUnavailable)) {
		// A retry is answered with the first hold's outcome, which Temporal keeps: but a hold
		// that has lapsed since, or that failed, holds nothing, whatever it once answered. The
		// first attempt keeps its own outcome (a failed hold is a 503), even when the workflow
		// has expired the row already.
		if now, gerr := s.Store.GetBooking(ctx, id); gerr == nil && now.Status == domain.StatusExpired {
			err = errLapsed
		}
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/bookings/"+b.ID)
	s.writeBooking(w, r, http.StatusCreated, b)
}

// readCreateBooking decodes and checks a booking request's body.
func readCreateBooking(w http.ResponseWriter, r *http.Request, me domain.Principal) (createBookingRequest, time.Time, error) {
	var req createBookingRequest
	if err := decode(w, r, &req, false); err != nil {
		return req, time.Time{}, err
	}
	start, err := req.validate(me)
	return req, start, err
}

func requestHash(req createBookingRequest, start time.Time) string {
	h := sha256.New()
	for _, part := range []string{req.ProviderID, req.ServiceID, start.UTC().Format(time.RFC3339Nano), req.Notes, req.PatientID} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// checkSlot refuses, before anything is started, a request the hold would refuse: a start in
// the past or not among the provider's slots for the service (422), or a slot another booking
// than id holds (409). It reads one statement. A request it lets through may still lose the
// race for the slot: the exclusion constraint inside the hold decides that.
func (s *Server) checkSlot(ctx context.Context, id string, req createBookingRequest, start time.Time) error {
	cal, taken, err := s.Store.SlotCheck(ctx, id, req.ProviderID, req.ServiceID, start)
	if domain.IsKind(err, domain.KindNotFound) {
		return &domain.Error{Kind: domain.KindUnprocessable, Message: "unknown provider",
			Fields: []domain.FieldError{{Field: "provider_id", Message: "no such provider"}}}
	}
	if err != nil {
		return err
	}
	if err := availability.CheckStart(cal.Schedule, cal.Length, start, s.now()); err != nil {
		return err
	}
	if taken {
		return store.ErrSlotTaken
	}
	return nil
}

// withinHorizon refuses a start further ahead than bookings may be made, so that one account
// cannot take a doctor's calendar for years to come.
func (s *Server) withinHorizon(start time.Time) error {
	h := s.Config.Limits.BookingHorizon
	if h <= 0 || !start.After(s.now().Add(h)) {
		return nil
	}
	days := int(h / (24 * time.Hour))
	return &domain.Error{Kind: domain.KindUnprocessable, Message: fmt.Sprintf("bookings can be made at most %d days ahead", days),
		Fields: []domain.FieldError{{Field: "start", Message: fmt.Sprintf("more than %d days ahead", days)}}}
}

// policy is the timing and the limits every new booking is made under.
func (s *Server) policy() workflows.Policy {
	return workflows.NewPolicy(s.Config)
}

// hold starts the workflow and waits for the hold update's answer: an eager start then the
// update, or one Update-with-Start call (HOLD_START).
func (s *Server) hold(ctx context.Context, in workflows.Input) (domain.Booking, error) {
	wfID := workflows.BookingWorkflowID(in.BookingID)
	opts := client.StartWorkflowOptions{
		ID:        wfID,
		TaskQueue: s.Config.Temporal.TaskQueue,
		// A retried request joins the running workflow; a finished one is never started again.
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enums.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		// The memo and search attributes are the workflow's to set, once the slot is held:
		// a refused hold leaves no booking to find.
	}
	var run client.WorkflowRun
	var b domain.Booking
	var err error
	withStart := s.Config.Temporal.HoldStart == config.HoldStartUpdateWithStart
	if withStart {
		err = s.holdWithStart(ctx, opts, in, &b)
	} else {
		opts.EnableEagerStart = true
		run, err = s.Temporal.ExecuteWorkflow(ctx, opts, workflows.WorkflowName, in)
	}
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		// The workflow for this key ran and finished: answer with what it left behind, unless
		// that is a hold which failed or lapsed, which holds nothing.
		b, gerr := s.Store.GetBooking(ctx, in.BookingID)
		if gerr != nil || b.Status == domain.StatusExpired {
			return domain.Booking{}, errLapsed
		}
		return b, nil
	}
	if withStart {
		// holdWithStart has explained any failure already.
		return b, err
	}
	if err != nil {
		return domain.Booking{}, temporalUnavailable(err)
	}
	err = s.update(ctx, wfID, run.GetRunID(), workflows.UpdateHold, workflows.HoldUpdateID, nil, &b)
	return b, err
}

// holdWithStart starts the workflow and sends it the hold update in one Update-with-Start
// call, waiting for the update's answer into b.
func (s *Server) holdWithStart(ctx context.Context, opts client.StartWorkflowOptions, in workflows.Input, b *domain.Booking) error {
	ctx, cancel := context.WithTimeout(ctx, updateTimeout)
	defer cancel()
	op := s.Temporal.NewWithStartWorkflowOperation(opts, workflows.WorkflowName, in)
	h, err := s.Temporal.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: op,
		UpdateOptions: client.UpdateWorkflowOptions{UpdateName: workflows.UpdateHold, UpdateID: workflows.HoldUpdateID,
			WaitForStage: client.WorkflowUpdateStageCompleted},
	})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return err
	}
	if err == nil {
		err = h.Get(ctx, b)
	}
	if err != nil {
		return updateFailure(err)
	}
	return nil
}

// errLapsed answers a retried POST /v1/bookings whose first attempt holds nothing now.
var errLapsed = domain.Errorf(domain.KindConflict, "this request was refused, or its hold failed or lapsed, earlier; send it with a new Idempotency-Key to try again")

// updateTimeout bounds how long a request waits for the booking's workflow: with no worker
// polling, an update would otherwise wait as long as the client does.
const updateTimeout = 45 * time.Second

// update sends an update and waits for its result.
func (s *Server) update(ctx context.Context, wfID, runID, name, updateID string, arg any, out any) error {
	ctx, cancel := context.WithTimeout(ctx, updateTimeout)
	defer cancel()
	opts := client.UpdateWorkflowOptions{
		WorkflowID: wfID, RunID: runID, UpdateName: name, UpdateID: updateID,
		WaitForStage: client.WorkflowUpdateStageCompleted,
	}
	if arg != nil {
		opts.Args = []any{arg}
	}
	h, err := s.Temporal.UpdateWorkflow(ctx, opts)
	if err != nil {
		return updateFailure(err)
	}
	if err := h.Get(ctx, out); err != nil {
		return updateFailure(err)
	}
	return nil
}

// updateFailure explains why an update did not go through.
func updateFailure(err error) error {
	if asDomainError(err) != nil {
		return err
	}
	// The server answers an update to a workflow that has completed, and one aborted because
	// its workflow completed, with NotFound ("workflow execution already completed", "workflow
	// update was aborted by closing workflow"); the SDK passes it on as that type.
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return errClosed
	}
	return temporalUnavailable(err)
}

// errClosed answers a command to a booking whose workflow has ended.
var errClosed = domain.Errorf(domain.KindConflict, "the booking is closed; nothing more can change")

func temporalUnavailable(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &domain.Error{Kind: domain.KindUnavailable, Message: "the booking engine did not answer in time; try again"}
	}
	return err
}

// loadVisible returns the booking if the caller may see it: a patient their own, a provider
// theirs, an admin any. Anyone else gets not found, so ids cannot be probed.
func (s *Server) loadVisible(ctx context.Context, me domain.Principal, id string) (domain.Booking, error) {
	b, err := s.Store.GetBooking(ctx, id)
	if err != nil {
		return domain.Booking{}, err
	}
	switch me.Role {
	case domain.RoleAdmin:
		return b, nil
	case domain.RolePatient:
		if b.PatientID == me.UserID {
			return b, nil
		}
	case domain.RoleProvider:
		if p, err := s.Store.GetProviderByUser(ctx, me.UserID); err == nil && p.ID == b.ProviderID {
			return b, nil
		}
	}
	return domain.Booking{}, domain.Errorf(domain.KindNotFound, "booking not found")
}

// commandSpec is one command on a booking.
type commandSpec struct {
	// name is the workflow update that carries the command; arg is its argument.
	name string
	arg  any
	// request is the command's body in a canonical form: with an Idempotency-Key, the key is
	// bound to (booking, name, request), and a key reused for anything else is refused.
	request string
	// done is the status the command leads to: a command repeated once the booking is in it
	// (a retried cancel, also after the workflow closed) answers with the booking rather than
	// an error.
	done domain.Status
	// check, when not nil, refuses the command from the booking as stored, before the
	// workflow is asked: limits the API can tell without it.
	check func(domain.Booking) error
	// applied, when not nil, tells from the stored booking that a command sent before under
	// the same Idempotency-Key took effect, when the workflow no longer knows its update (a
	// new run started by the reconciler).
	applied func(domain.Booking) bool
	roles   []domain.Role
}

// command runs one booking update for callers with one of the spec's roles.
//
// With an Idempotency-Key the key becomes the update's id (derived from caller, command and
// key), and Temporal answers a retried update with the first one's result, also after it
// completed: a retried command answers what the first one answered. The key is bound to the
// request in idempotency_keys first, so that the same key with another request is refused
// rather than answered with the first result.
func (s *Server) command(w http.ResponseWriter, r *http.Request, c commandSpec) {
	ctx := r.Context()
	me := caller(r)
	key, err := idempotencyKey(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	b, err := s.loadVisible(ctx, me, mux.Vars(r)["id"])
	if err != nil {
		writeError(w, r, err)
		return
	}
	if err := requireRole(r, c.roles...); err != nil {
		writeError(w, r, err)
		return
	}
	updateID, repeat := "", false
	if key != "" {
		hash := commandHash(b.ID, c.name, c.request)
		claim, err := s.Store.ClaimKey(ctx, me.UserID, key, hash, b.ID)
		if err != nil {
			writeError(w, r, err)
			return
		}
		if claim.RequestHash != hash {
			writeError(w, r, errKeyReused)
			return
		}
		updateID = uuid.NewSHA1(commandKeyNamespace, []byte(me.UserID+"\x00"+c.name+"\x00"+key)).String()
		repeat = !claim.New
	}
	if c.done != "" && b.Status == c.done {
		// A repeat of a command that took effect: the database answers, and the workflow's
		// history does not grow with every retry.
		s.writeBooking(w, r, http.StatusOK, b)
		return
	}
	// A retry under a bound key goes to the workflow, which answers it with the first
	// attempt's result: the booking as stored now may well fail the check because of it (a
	// reschedule that used up the last move).
	if c.check != nil && !repeat {
		if err := c.check(b); err != nil {
			writeError(w, r, err)
			return
		}
	}
	var out domain.Booking
	if err := s.update(ctx, workflows.BookingWorkflowID(b.ID), "", c.name, updateID, c.arg, &out); err != nil {
		if now, ok := s.tookEffect(ctx, b.ID, c, repeat, err); ok {
			s.writeBooking(w, r, http.StatusOK, now)
			return
		}
		writeError(w, r, err)
		return
	}
	s.writeBooking(w, r, http.StatusOK, out)
}

// tookEffect looks at the stored booking after its command failed in a way that may mean the
// command took effect before: a conflict once the booking is in the command's done status (a
// cancel racing the workflow's close), or any refusal of a retry under a bound key whose effect
// the booking shows.
func (s *Server) tookEffect(ctx context.Context, id string, c commandSpec, repeat bool, err error) (domain.Booking, bool) {
	de := asDomainError(err)
	if de == nil {
		return domain.Booking{}, false
	}
	byStatus := c.done != "" && de.Kind == domain.KindConflict
	byKey := repeat && c.applied != nil
	if !byStatus && !byKey {
		return domain.Booking{}, false
	}
	now, gerr := s.Store.GetBooking(ctx, id)
	if gerr != nil {
		return domain.Booking{}, false
	}
	if byStatus && now.Status == c.done || byKey && c.applied(now) {
		return now, true
	}
	return domain.Booking{}, false
}

// commandHash is the hash an Idempotency-Key of a command is bound to. It differs from every
// requestHash of a new booking, so a key cannot name both.
func commandHash(bookingID, name, request string) string {
	h := sha256.New()
	for _, part := range []string{"command", bookingID, name, request} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (s *Server) confirmBooking(w http.ResponseWriter, r *http.Request) {
	if err := decode(w, r, &struct{}{}, true); err != nil {
		writeError(w, r, err)
		return
	}
	s.command(w, r, commandSpec{name: workflows.UpdateConfirm, done: domain.StatusConfirmed,
		roles: []domain.Role{domain.RolePatient, domain.RoleAdmin}})
}

func (s *Server) cancelBooking(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Reason     string `json:"reason"`
		ReasonCode string `json:"reason_code"`
	}
	if err := decode(w, r, &req, true); err != nil {
		writeError(w, r, err)
		return
	}
	var fe domain.FieldErrors
	if len(req.Reason) > 500 {
		fe.Add("reason", "at most 500 characters")
	}
	if req.ReasonCode != "" {
		switch {
		case caller(r).Role != domain.RoleAdmin:
			fe.Add("reason_code", "only staff give a reason code; patients may write a reason")
		case domain.CancelReasonText(req.ReasonCode) == "":
			fe.Add("reason_code", "must be one of %s", strings.Join(cancelReasonCodes(), ", "))
		}
	}
	if err := fe.Err("the cancellation is not valid"); err != nil {
		writeError(w, r, err)
		return
	}
	s.command(w, r, commandSpec{name: workflows.UpdateCancel,
		arg:     workflows.CancelRequest{Reason: req.Reason, ReasonCode: req.ReasonCode, By: caller(r).UserID},
		request: req.Reason + "\x00" + req.ReasonCode,
		done:    domain.StatusCancelled,
		roles:   []domain.Role{domain.RolePatient, domain.RoleAdmin}})
}

func cancelReasonCodes() []string {
	codes := make([]string, len(domain.CancelReasons))
	for i, r := range domain.CancelReasons {
		codes[i] = r.Code
	}
	return codes
}

func (s *Server) rescheduleBooking(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Start string `json:"start"`
	}
	if err := decode(w, r, &req, false); err != nil {
		writeError(w, r, err)
		return
	}
	var fe domain.FieldErrors
	start := parseRFC3339(req.Start, "start", &fe)
	err := fe.Err("the new time is not valid")
	if err == nil {
		err = s.withinHorizon(start)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.command(w, r, commandSpec{name: workflows.UpdateReschedule,
		arg: workflows.RescheduleRequest{Start: start, By: caller(r).UserID},
		// The same instant written with another offset is the same request.
		request: start.UTC().Format(time.RFC3339Nano),
		check:   s.rescheduleLimit,
		applied: func(b domain.Booking) bool {
			return b.Revision > 0 && b.Start.Equal(start) && (b.Status == domain.StatusHeld || b.Status == domain.StatusConfirmed)
		},
		roles: []domain.Role{domain.RolePatient, domain.RoleAdmin}})
}

// rescheduleLimit refuses moving a booking that has been moved as often as allowed: each move
// sends messages and grows the workflow's history.
func (s *Server) rescheduleLimit(b domain.Booking) error {
	if max := s.policy().MaxReschedules; max != nil && b.Revision >= *max {
		return domain.Errorf(domain.KindConflict, "this booking has been moved as often as allowed (%d); cancel it and book a new time", b.Revision)
	}
	return nil
}

func (s *Server) checkInBooking(w http.ResponseWriter, r *http.Request) {
	if err := decode(w, r, &struct{}{}, true); err != nil {
		writeError(w, r, err)
		return
	}
	s.command(w, r, commandSpec{name: workflows.UpdateCheckIn, arg: workflows.CheckInRequest{By: caller(r).UserID},
		done: domain.StatusCheckedIn, roles: []domain.Role{domain.RoleProvider, domain.RoleAdmin}})
}

// eventView is one timeline entry: a recorded event or a notification with its delivery state.
type eventView struct {
	At     time.Time      `json:"at"`
	Type   string         `json:"type"`
	Detail map[string]any `json:"detail,omitempty"`
}

func (s *Server) getBooking(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	b, err := s.loadVisible(ctx, caller(r), mux.Vars(r)["id"])
	if err != nil {
		writeError(w, r, err)
		return
	}
	events, err := s.Store.ListEvents(ctx, b.ID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	notes, err := s.Store.ListNotifications(ctx, b.ID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	views, err := s.present(ctx, caller(r), b)
	if err != nil {
		writeError(w, r, err)
		return
	}
	v := views[0]
	v.Events = make([]eventView, 0, len(events)+len(notes))
	for _, e := range events {
		v.Events = append(v.Events, eventView{At: e.At.UTC(), Type: e.Type, Detail: e.Detail})
	}
	for _, n := range notes {
		d := map[string]any{
			"kind": n.Kind, "channel": n.Channel, "recipient": n.Recipient, "status": n.Status,
			"attempts": n.Attempts, "revision": n.Revision, "updated_at": n.UpdatedAt.UTC(),
		}
		if n.Variant != "" {
			d["reminder"] = n.Variant
		}
		// A provider's error text can name accounts and hosts: staff see it, patients do not.
		if n.Error != "" && caller(r).Role != domain.RolePatient {
			d["error"] = n.Error
		}
		v.Events = append(v.Events, eventView{At: n.CreatedAt.UTC(), Type: "notification", Detail: d})
	}
	sort.SliceStable(v.Events, func(i, j int) bool { return v.Events[i].At.Before(v.Events[j].At) })
	writeJSON(w, http.StatusOK, v)
}

const (
	defaultPageSize = 20
	maxPageSize     = 100
)

func (s *Server) listBookings(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	me := caller(r)
	q := r.URL.Query()
	var fe domain.FieldErrors
	f := store.BookingFilter{Limit: defaultPageSize, ProviderID: q.Get("provider_id")}
	if st := q.Get("status"); st != "" {
		if !domain.Status(st).Valid() {
			fe.Add("status", "must be one of held, confirmed, checked_in, completed, expired, cancelled, no_show")
		}
		f.Status = domain.Status(st)
	}
	if v := q.Get("from"); v != "" {
		f.From = parseTimeParam(v, time.Time{}, "from", &fe)
	}
	if v := q.Get("to"); v != "" {
		f.To = parseTimeParam(v, time.Time{}, "to", &fe)
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			fe.Add("limit", "must be a whole number from 1 to 100")
		}
		f.Limit = n
	}
	if v := q.Get("cursor"); v != "" {
		start, id, ok := decodeCursor(v)
		if !ok {
			fe.Add("cursor", "not a cursor this API gave out")
		}
		f.AfterStart, f.AfterID = start, id
	}
	if err := fe.Err("the query is not valid"); err != nil {
		writeError(w, r, err)
		return
	}
	switch me.Role {
	case domain.RolePatient:
		f.PatientID = me.UserID
	case domain.RoleProvider:
		p, err := s.Store.GetProviderByUser(ctx, me.UserID)
		if err != nil {
			writeError(w, r, err)
			return
		}
		if f.ProviderID != "" && f.ProviderID != p.ID {
			writeJSON(w, http.StatusOK, map[string]any{"bookings": []bookingView{}, "next_cursor": nil})
			return
		}
		f.ProviderID = p.ID
	}
	// One more than the page tells whether there is a next page.
	want := f.Limit
	f.Limit++
	bs, err := s.Store.ListBookings(ctx, f)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var next *string
	if len(bs) > want {
		bs = bs[:want]
		c := encodeCursor(bs[want-1].Start, bs[want-1].ID)
		next = &c
	}
	views, err := s.present(ctx, me, bs...)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"bookings": views, "next_cursor": next})
}

func encodeCursor(start time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(start.UTC().Format(time.RFC3339Nano) + "|" + id))
}

func decodeCursor(c string) (time.Time, string, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, "", false
	}
	ts, id, ok := strings.Cut(string(raw), "|")
	t, err := time.Parse(time.RFC3339Nano, ts)
	if !ok || err != nil || id == "" {
		return time.Time{}, "", false
	}
	return t, id, true
}
