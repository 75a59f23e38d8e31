package notify

import (
	"fmt"
	"net/mail"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"
)

// DefaultOrganizer organises invites when MessageData.Organizer is empty.
const DefaultOrganizer = "Clinic <no-reply@clinic.localhost>"

// InviteUID is the calendar UID of a booking's event. It never changes for a booking, so a
// rescheduled or cancelled invite updates the event already in the patient's calendar.
func InviteUID(bookingID string) string {
	return "booking-" + bookingID + "@clinicbook"
}

// Invite builds an iCalendar (RFC 5545/5546) for the booking: method REQUEST offers or
// updates the event, CANCEL removes it. sequence must grow with every change (reschedules)
// or calendar clients ignore the update.
func Invite(d MessageData, method string, sequence int) ([]byte, error) {
	m := ics.Method(strings.ToUpper(method))
	status := ics.ObjectStatusConfirmed
	switch m {
	case ics.MethodRequest:
	case ics.MethodCancel:
		status = ics.ObjectStatusCancelled
	default:
		return nil, fmt.Errorf("invite method %q: want REQUEST or CANCEL", method)
	}
	switch {
	case d.BookingID == "":
		return nil, fmt.Errorf("invite: booking id is empty")
	case d.Start.IsZero() || !d.End.After(d.Start):
		return nil, fmt.Errorf("invite for booking %s: end %v is not after start %v", d.BookingID, d.End, d.Start)
	case sequence < 0:
		return nil, fmt.Errorf("invite for booking %s: negative sequence %d", d.BookingID, sequence)
	}
	organizer := d.Organizer
	if organizer == "" {
		organizer = DefaultOrganizer
	}
	org, err := mail.ParseAddress(organizer)
	if err != nil {
		return nil, fmt.Errorf("invite organizer %q: %w", organizer, err)
	}

	cal := ics.NewCalendar()
	cal.SetProductId("-//clinicbook//booking//EN")
	cal.SetCalscale("GREGORIAN")
	cal.SetMethod(m)
	ev := cal.AddEvent(InviteUID(d.BookingID))
	ev.SetDtStampTime(time.Now())
	// UTC times need no VTIMEZONE; clients show them in the patient's own zone.
	ev.SetStartAt(d.Start)
	ev.SetEndAt(d.End)
	ev.SetSequence(sequence)
	ev.SetStatus(status)
	ev.SetSummary(fmt.Sprintf("%s with %s", d.ServiceName, d.ProviderName))
	if desc := inviteDescription(d, m); desc != "" {
		ev.SetDescription(desc)
	}
	var orgParams []ics.PropertyParameter
	if org.Name != "" {
		orgParams = append(orgParams, ics.WithCN(org.Name))
	}
	ev.SetOrganizer("mailto:"+org.Address, orgParams...)
	if d.PatientEmail != "" {
		// No RSVP parameter: golang-ical writes booleans in lower case, and FALSE is the default.
		params := []ics.PropertyParameter{ics.ParticipationRoleReqParticipant}
		if d.PatientName != "" {
			params = append(params, ics.WithCN(d.PatientName))
		}
		if status == ics.ObjectStatusConfirmed {
			// The patient booked it themselves: there is nothing left to accept.
			params = append(params, ics.ParticipationStatusAccepted)
		}
		ev.AddAttendee("mailto:"+d.PatientEmail, params...)
	}
	// RFC 5545 requires CRLF line ends; golang-ical defaults to the OS's.
	var b strings.Builder
	if err := cal.SerializeTo(&b, ics.WithNewLineWindows); err != nil {
		return nil, fmt.Errorf("invite for booking %s: %w", d.BookingID, err)
	}
	return []byte(b.String()), nil
}

func inviteDescription(d MessageData, m ics.Method) string {
	var lines []string
	if when, err := FormatTime(d.Start, d.TimeZone); err == nil {
		lines = append(lines, fmt.Sprintf("%s with %s, %s.", d.ServiceName, d.ProviderName, when))
	}
	if d.Reason != "" && m == ics.MethodCancel {
		lines = append(lines, "Reason: "+d.Reason)
	}
	if u := manageURL(d); u != "" {
		lines = append(lines, "Manage your booking: "+u)
	}
	lines = append(lines, "Booking reference: "+d.BookingID)
	return strings.Join(lines, "\n")
}
