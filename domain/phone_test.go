package domain

import "testing"

func TestIsE164(t *testing.T) {
	cases := []struct {
		name  string
		phone string
		want  bool
	}{
		{"German mobile", "+4915112345678", true},
		{"US number", "+15550100777", true},
		{"shortest: 7 digits", "+1555010", true},
		{"longest: 15 digits", "+123456789012345", true},
		{"no plus", "4915112345678", false},
		{"national form", "015112345678", false},
		{"leading zero after the plus", "+04915112345678", false},
		{"16 digits", "+1234567890123456", false},
		{"6 digits", "+155501", false},
		{"letters", "+1555CALLNOW", false},
		{"a space", "+49 15112345678", false},
		{"dashes", "+1-555-010-0777", false},
		{"surrounding space", " +15550100777", false},
		{"trailing newline", "+15550100777\n", false},
		{"two pluses", "++15550100777", false},
		{"non-ASCII digits", "+١٥٥٥٠١٠٠٧٧٧", false},
		{"plus only", "+", false},
		{"empty", "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := IsE164(c.phone); got != c.want {
				t.Errorf("IsE164(%q) = %v, want %v", c.phone, got, c.want)
			}
		})
	}
}
