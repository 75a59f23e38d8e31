package domain

import "testing"

func TestHasControl(t *testing.T) {
	for s, want := range map[string]bool{
		"Dr. Anna Weber":      false,
		"Zoë Ångström-Łukasz": false,
		"Ann\r\nBcc: x@y":     true,
		"tab\there":           true,
		"nul\x00":             true,
		"del\x7f":             true,
		"bidi\u202eoverride":  true,
		"zero\u200bwidth":     true,
		"":                    false,
	} {
		if got := HasControl(s); got != want {
			t.Errorf("HasControl(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestCancelReasonText(t *testing.T) {
	if CancelReasonText("provider_unavailable") == "" {
		t.Fatal("a listed code has text")
	}
	if CancelReasonText("URGENT: verify at http://evil.example") != "" || CancelReasonText("") != "" {
		t.Fatal("anything else has none")
	}
}
