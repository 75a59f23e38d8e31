package twiliosandbox

import (
	"strings"
	"testing"
)

func TestSegments(t *testing.T) {
	cases := []struct {
		body string
		want int
	}{
		{"hello", 1},
		{strings.Repeat("a", 160), 1},
		{strings.Repeat("a", 161), 2},
		{strings.Repeat("a", 306), 2},
		{strings.Repeat("a", 307), 3},
		{strings.Repeat("€", 80), 1},  // extension characters cost two septets
		{strings.Repeat("€", 81), 2},  // 162 septets
		{strings.Repeat("ü", 160), 1}, // in the GSM basic set
		{strings.Repeat("ł", 70), 1},  // not GSM: UCS-2
		{strings.Repeat("ł", 71), 2},  // 67 per part
		{strings.Repeat("😀", 35), 1},  // two UTF-16 units each
		{strings.Repeat("😀", 36), 2},
	}
	for _, c := range cases {
		if got := segments(c.body); got != c.want {
			t.Errorf("segments(%d × %q) = %d, want %d", len([]rune(c.body)), []rune(c.body)[0], got, c.want)
		}
	}
}
