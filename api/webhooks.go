package api

import (
	"encoding/xml"
	"net/http"
	"strings"

	twilioclient "github.com/twilio/twilio-go/client"

	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/workflows"
)

// twilioRequest reads a Twilio webhook's form and checks its X-Twilio-Signature against the
// public URL Twilio was given, since behind a proxy r.URL is not what Twilio signed.
func (s *Server) twilioRequest(w http.ResponseWriter, r *http.Request) (map[string]string, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		writeError(w, r, domain.Errorf(domain.KindInvalid, "the body must be a form"))
		return nil, false
	}
	params := make(map[string]string, len(r.PostForm))
	for k, v := range r.PostForm {
		params[k] = v[0]
	}
	url := s.Config.PublicBaseURL + r.URL.RequestURI()
	validator := twilioclient.NewRequestValidator(s.Config.Twilio.AuthToken)
	sig := r.Header.Get("X-Twilio-Signature")
	if sig == "" || !validator.Validate(url, params, sig) {
		writeError(w, r, domain.Errorf(domain.KindForbidden, "missing or invalid X-Twilio-Signature"))
		return nil, false
	}
	return params, true
}

// twilioStatus records a delivery report for an SMS we sent.
func (s *Server) twilioStatus(w http.ResponseWriter, r *http.Request) {
	params, ok := s.twilioRequest(w, r)
	if !ok {
		return
	}
	sid, status := params["MessageSid"], strings.ToLower(params["MessageStatus"])
	if sid == "" || status == "" {
		writeError(w, r, domain.Invalid("a status callback needs MessageSid and MessageStatus"))
		return
	}
	if mapped, known := twilioStatuses[status]; known {
		if _, err := s.Store.SetDeliveryStatus(r.Context(), sid, mapped); err != nil && !domain.IsKind(err, domain.KindNotFound) {
			writeError(w, r, err)
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// twilioStatuses maps Twilio's message statuses onto the notification states we keep.
var twilioStatuses = map[string]string{
	"queued": "queued", "accepted": "queued", "scheduled": "queued", "sending": "queued",
	"sent": "sent", "delivered": "delivered", "read": "delivered",
	"undelivered": "undelivered", "failed": "failed",
}

// twimlResponse is Twilio's reply format for a message webhook.
type twimlResponse struct {
	XMLName xml.Name `xml:"Response"`
	Message string   `xml:"Message,omitempty"`
}

// twilioInbound handles a patient's SMS reply: C confirms their next held booking, X cancels
// their next booking, anything else gets a short help text.
func (s *Server) twilioInbound(w http.ResponseWriter, r *http.Request) {
	params, ok := s.twilioRequest(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	from := params["From"]
	var reply string
	switch strings.ToUpper(strings.TrimSpace(params["Body"])) {
	case "C":
		b, err := s.Store.NextBookingByPhone(ctx, from, s.now(), domain.StatusHeld)
		if err != nil {
			reply = "We found no booking waiting for confirmation."
			break
		}
		var out domain.Booking
		if err := s.update(ctx, workflows.BookingWorkflowID(b.ID), "", workflows.UpdateConfirm, "", nil, &out); err != nil {
			reply = "We could not confirm your booking: " + replyReason(err)
			break
		}
		reply = "Thank you, your booking is confirmed."
	case "X":
		b, err := s.Store.NextBookingByPhone(ctx, from, s.now(), domain.StatusHeld, domain.StatusConfirmed)
		if err != nil {
			reply = "We found no upcoming booking to cancel."
			break
		}
		var out domain.Booking
		req := workflows.CancelRequest{Reason: "cancelled by SMS reply", By: b.PatientID}
		if err := s.update(ctx, workflows.BookingWorkflowID(b.ID), "", workflows.UpdateCancel, "", req, &out); err != nil {
			reply = "We could not cancel your booking: " + replyReason(err)
			break
		}
		reply = "Your booking is cancelled."
	default:
		reply = "Reply C to confirm your booking or X to cancel it."
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(twimlResponse{Message: reply})
}

func replyReason(err error) string {
	if de := asDomainError(err); de != nil {
		return de.Message
	}
	return "please try again later."
}
