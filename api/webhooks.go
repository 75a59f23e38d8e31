package api

import (
	"context"
	"encoding/xml"
	"log/slog"
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

// inboundHelp is the generic answer: to anything but C or X, and to anyone whose reply may
// not act (a number nobody verified, a repeated delivery).
const inboundHelp = "Reply C to confirm your booking or X to cancel it."

// twilioInbound handles a patient's SMS reply: C confirms their next held booking, X cancels
// their next booking, anything else gets a short help text. Only a number one account has
// verified may act: anyone can type someone else's number in at sign-up. Each MessageSid acts
// once, however often Twilio delivers it; a repeat is answered with the first reply.
func (s *Server) twilioInbound(w http.ResponseWriter, r *http.Request) {
	params, ok := s.twilioRequest(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	from, sid := params["From"], params["MessageSid"]
	if sid == "" || from == "" {
		writeError(w, r, domain.Invalid("an inbound message needs MessageSid and From"))
		return
	}
	first, stored, err := s.Store.ClaimInboundMessage(ctx, sid, from, s.now())
	if err != nil {
		writeError(w, r, err)
		return
	}
	if !first {
		if stored == "" {
			stored = inboundHelp
		}
		writeTwiML(w, stored)
		return
	}
	reply := s.inboundReply(ctx, from, params["Body"])
	// Stored on a context of its own: the reply was decided, whatever became of the request.
	if err := s.Store.SetInboundReply(context.WithoutCancel(ctx), sid, reply); err != nil {
		slog.WarnContext(ctx, "store inbound reply", "err", err)
	}
	writeTwiML(w, reply)
}

// inboundReply acts on an inbound SMS's body and returns the answer.
func (s *Server) inboundReply(ctx context.Context, from, body string) string {
	if verified, err := s.Store.PhoneVerified(ctx, from); err != nil || !verified {
		if err != nil {
			slog.WarnContext(ctx, "inbound sms: look up sender", "err", err)
		}
		return inboundHelp
	}
	var reply string
	switch strings.ToUpper(strings.TrimSpace(body)) {
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
		reply = inboundHelp
	}
	return reply
}

func writeTwiML(w http.ResponseWriter, reply string) {
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
