package domain

import "unicode"

// CancelReason is a reason staff may give for a cancellation. Only these, in the clinic's own
// words, ever reach a patient's messages: free text typed into the API stays in the database,
// so the clinic's SMS number and mail server cannot be made to carry someone else's words.
type CancelReason struct {
	Code string `json:"code"`
	Text string `json:"text"`
}

// CancelReasons is the fixed list, in the order forms show it.
var CancelReasons = []CancelReason{
	{"provider_unavailable", "Your doctor is unavailable at that time."},
	{"clinic_closed", "The clinic is closed at that time."},
	{"patient_request", "Cancelled at your request."},
	{"duplicate", "This booking duplicated another one of yours."},
	{"rebook_needed", "Please book a different service for this visit."},
}

// CancelReasonText is the patient-facing text of a reason code, "" for an unknown or empty code.
func CancelReasonText(code string) string {
	for _, r := range CancelReasons {
		if r.Code == code {
			return r.Text
		}
	}
	return ""
}

// HasControl reports whether s holds a control character (CR, LF, tab, NUL, DEL and the
// rest, including Unicode's format controls such as bidirectional overrides). Names and other
// fields that reach email headers or calendar invites must not: a line break there starts a
// new header or property.
func HasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return true
		}
	}
	return false
}
