package notify

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"strings"
	texttemplate "text/template"
	"time"
	// Embedded zone data: message times must render in the provider's zone even on images
	// without /usr/share/zoneinfo (distroless, scratch).
	_ "time/tzdata"

	"github.com/clinicbook/booking/domain"
)

// TimeLayout is how appointment times appear in messages, always in the provider's zone:
// "Mon 7 Dec 2026, 09:00 CET".
const TimeLayout = "Mon 2 Jan 2006, 15:04 MST"

// MessageData is what any notification about a booking may mention.
type MessageData struct {
	BookingID string
	// PatientName names the attendee of calendar invites; message bodies never show it,
	// since it is text a user typed.
	PatientName  string
	ProviderName string
	ServiceName  string
	Start, End   time.Time
	// TimeZone is the provider's IANA zone; times are shown in it. Empty means UTC.
	TimeZone string
	// Reminder is how far ahead a reminder is sent, as a Go duration ("24h").
	Reminder string
	// Reason is why a booking was cancelled, in the clinic's words: the text of a
	// domain.CancelReasons code, never what a caller typed.
	Reason string
	// OldStart is the start before a reschedule.
	OldStart time.Time
	// PublicBaseURL is where the web app is served (PUBLIC_BASE_URL). When set, emails and
	// invites link to the booking's page under it, /bookings/{id}; SMS never do (one segment).
	PublicBaseURL string

	// Organizer is the clinic's address, "Name <address>" as in SMTP_FROM; it is the
	// ORGANIZER of invites. Empty means DefaultOrganizer.
	Organizer string
	// PatientEmail, when set, is the ATTENDEE of invites.
	PatientEmail string
}

// BookingData is what every message and invite about b says, from the rows it names: the
// notification activities and the API's calendar download build invites from the same data.
// organizer is the clinic's address (SMTP_FROM); publicBaseURL is where the web app is served
// (PUBLIC_BASE_URL), "" for no link. Reminder and OldStart are the caller's to add.
func BookingData(b domain.Booking, patient domain.User, prov domain.Provider, svc domain.Service, organizer, publicBaseURL string) MessageData {
	return MessageData{
		BookingID: b.ID, PatientName: patient.Name, ProviderName: prov.Name, ServiceName: svc.Name,
		Start: b.Start, End: b.End, TimeZone: prov.TimeZone, Reason: domain.CancelReasonText(b.CancelReasonCode),
		Organizer: organizer, PatientEmail: patient.Email, PublicBaseURL: publicBaseURL,
	}
}

// Rendered is one notification in every form a channel needs.
type Rendered struct {
	SMS     string
	Subject string
	Text    string
	HTML    string
}

// Kinds lists the notification kinds Render knows.
var Kinds = []string{
	domain.NotifyConfirmation,
	domain.NotifyReminder,
	domain.NotifyCancellation,
	domain.NotifyReschedule,
	domain.NotifyNoShow,
	domain.NotifyHoldExpired,
}

//go:embed templates/*.tmpl
var templateFS embed.FS

type templateSet struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

// templates is parsed once at start-up: the files are compiled into the binary, so a parse
// error is a bug that every test run catches.
var templates = func() map[string]templateSet {
	sets := make(map[string]templateSet, len(Kinds))
	layout := htmltemplate.Must(htmltemplate.ParseFS(templateFS, "templates/layout.html.tmpl"))
	for _, kind := range Kinds {
		text := texttemplate.Must(texttemplate.ParseFS(templateFS, "templates/common.txt.tmpl", "templates/"+kind+".txt.tmpl"))
		html := htmltemplate.Must(htmltemplate.Must(layout.Clone()).ParseFS(templateFS, "templates/"+kind+".html.tmpl"))
		sets[kind] = templateSet{text: text, html: html}
	}
	return sets
}()

// view is MessageData plus the strings templates show, computed once in Go so that every
// template formats times the same way.
type view struct {
	MessageData
	When      string // Start in the provider's zone
	EndTime   string // End's wall-clock time, "09:30"
	OldWhen   string // OldStart in the provider's zone, reschedules only
	Lead      string // "in 24 hours", reminders only
	ManageURL string
	Subject   string
}

// Render produces the SMS, email subject, text and HTML of one kind of notification.
func Render(kind string, d MessageData) (Rendered, error) {
	set, ok := templates[kind]
	if !ok {
		return Rendered{}, fmt.Errorf("render %q: unknown notification kind", kind)
	}
	v, err := newView(kind, d)
	if err != nil {
		return Rendered{}, fmt.Errorf("render %s for booking %s: %w", kind, d.BookingID, err)
	}
	var r Rendered
	exec := func(name string) (string, error) {
		var b bytes.Buffer
		if err := set.text.ExecuteTemplate(&b, name, v); err != nil {
			return "", fmt.Errorf("render %s %s: %w", kind, name, err)
		}
		return b.String(), nil
	}
	if r.SMS, err = exec("sms"); err != nil {
		return Rendered{}, err
	}
	r.SMS = strings.TrimSpace(r.SMS)
	if r.Subject, err = exec("subject"); err != nil {
		return Rendered{}, err
	}
	// A subject is one line; a newline in a name must not fold it.
	r.Subject = strings.Join(strings.Fields(r.Subject), " ")
	if r.Text, err = exec("text"); err != nil {
		return Rendered{}, err
	}
	r.Text = strings.TrimSpace(r.Text) + "\n"
	v.Subject = r.Subject
	var b bytes.Buffer
	if err := set.html.ExecuteTemplate(&b, "layout", v); err != nil {
		return Rendered{}, fmt.Errorf("render %s html: %w", kind, err)
	}
	r.HTML = b.String()
	return r, nil
}

func newView(kind string, d MessageData) (view, error) {
	switch {
	case d.ProviderName == "":
		return view{}, fmt.Errorf("provider name is empty")
	case d.ServiceName == "":
		return view{}, fmt.Errorf("service name is empty")
	case d.Start.IsZero():
		return view{}, fmt.Errorf("start time is zero")
	case kind == domain.NotifyReschedule && d.OldStart.IsZero():
		return view{}, fmt.Errorf("reschedule without the old start time")
	}
	loc, err := loadZone(d.TimeZone)
	if err != nil {
		return view{}, err
	}
	v := view{MessageData: d, When: d.Start.In(loc).Format(TimeLayout)}
	if kind != domain.NotifyCancellation {
		// A reason recorded on a booking explains its cancellation, not anything else.
		v.Reason = ""
	}
	if !d.End.IsZero() {
		v.EndTime = d.End.In(loc).Format("15:04")
	}
	if kind == domain.NotifyReschedule {
		v.OldWhen = d.OldStart.In(loc).Format(TimeLayout)
	}
	if kind == domain.NotifyReminder {
		v.Lead = lead(d.Reminder)
	}
	v.ManageURL = manageURL(d)
	return v, nil
}

// manageURL is where the patient can see and change the booking, when the public URL is known.
func manageURL(d MessageData) string {
	if d.PublicBaseURL == "" || d.BookingID == "" {
		return ""
	}
	return strings.TrimRight(d.PublicBaseURL, "/") + "/bookings/" + url.PathEscape(d.BookingID)
}

// FormatTime formats t as messages show it, in the IANA zone tz (UTC when empty).
func FormatTime(t time.Time, tz string) (string, error) {
	loc, err := loadZone(tz)
	if err != nil {
		return "", err
	}
	return t.In(loc).Format(TimeLayout), nil
}

func loadZone(tz string) (*time.Location, error) {
	if tz == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", tz, err)
	}
	return loc, nil
}

// lead turns a reminder offset such as "24h" into "in 24 hours"; unreadable offsets are left
// out of the message rather than failing it.
func lead(reminder string) string {
	d, err := time.ParseDuration(reminder)
	if err != nil || d <= 0 {
		return ""
	}
	plural := func(n int, unit string) string {
		if n == 1 {
			return "in 1 " + unit
		}
		return fmt.Sprintf("in %d %ss", n, unit)
	}
	switch {
	case d >= 48*time.Hour && d%(24*time.Hour) == 0:
		return plural(int(d/(24*time.Hour)), "day")
	case d >= time.Hour && d%time.Hour == 0:
		return plural(int(d/time.Hour), "hour")
	case d >= time.Minute:
		return plural(int(d.Round(time.Minute)/time.Minute), "minute")
	default:
		return ""
	}
}
