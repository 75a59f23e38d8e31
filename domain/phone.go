package domain

import "strings"

// IsE164 reports whether s is a phone number as the platform stores and texts it: E.164's
// '+', a country code that does not start with 0, and 7 to 15 digits in all, nothing else (no
// spaces, dashes or brackets). Fifteen is E.164's maximum; seven leaves out service numbers
// too short to reach a patient's phone.
func IsE164(s string) bool {
	digits, ok := strings.CutPrefix(s, "+")
	if !ok || len(digits) < 7 || len(digits) > 15 || digits[0] == '0' {
		return false
	}
	for i := range len(digits) {
		if digits[i] < '0' || digits[i] > '9' {
			return false
		}
	}
	return true
}
