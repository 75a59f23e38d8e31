package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/notify"
)

// inviteMethod is the iCalendar method a booking's download carries: the appointment for a
// booking that has or had one, its cancellation for a cancelled one (so that importing it
// removes the event the confirmation email put in the calendar), and none for a hold that
// lapsed, which never was an appointment.
func inviteMethod(st domain.Status) (string, bool) {
	switch st {
	case domain.StatusHeld, domain.StatusConfirmed, domain.StatusCheckedIn, domain.StatusCompleted, domain.StatusNoShow:
		return "REQUEST", true
	case domain.StatusCancelled:
		return "CANCEL", true
	}
	return "", false
}

// bookingCalendar answers GET /v1/bookings/{id}/calendar.ics: the booking as the invite the
// confirmation email attaches, built by the same code from the same data, so that a download
// and the email update one calendar event.
func (s *Server) bookingCalendar(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	b, err := s.loadVisible(ctx, caller(r), mux.Vars(r)["id"])
	if err != nil {
		writeError(w, r, err)
		return
	}
	method, ok := inviteMethod(b.Status)
	if !ok {
		writeError(w, r, domain.Errorf(domain.KindConflict, "the booking is %s: it has no appointment to put in a calendar", b.Status))
		return
	}
	patient, err := s.Store.GetUser(ctx, b.PatientID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	prov, err := s.Store.GetProvider(ctx, b.ProviderID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	svc, err := s.Store.GetService(ctx, b.ServiceID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	ics, err := notify.Invite(notify.BookingData(b, patient, prov, svc, s.Config.SMTP.From, s.Config.PublicBaseURL), method, b.Revision)
	if err != nil {
		writeError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/calendar; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+quotedStringSafe("booking-"+b.ID+".ics")+`"`)
	h.Set("Content-Length", strconv.Itoa(len(ics)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(ics)
}

// quotedStringSafe keeps a file name inside its quotes: ids are opaque strings, and one with a
// quote, a backslash or a control character must not end the header's value.
func quotedStringSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '"' || r == '\\' || r < 0x20 || r == 0x7f {
			return '_'
		}
		return r
	}, s)
}
