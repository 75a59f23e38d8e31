package chaos_test

import (
	"strings"
	"testing"
	"time"

	"github.com/clinicbook/booking/chaos"
)

// TestChaosShort is `make chaos -short` inside `make test`: a stack of its own, a small load,
// one fault of each kind, and the audit. Any violation fails it.
func TestChaosShort(t *testing.T) {
	var out strings.Builder
	w := testWriter{t: t, b: &out}
	rep, err := chaos.Run(t.Context(), chaos.Options{Profile: chaos.ShortProfile, Seed: uint64(time.Now().UnixNano()), Out: w, Log: w})
	if rep != nil && rep.Tails != "" {
		t.Logf("last lines of each process's log:\n%s", rep.Tails)
	}
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed > 0 || rep.Passed == 0 {
		t.Fatalf("%d checks failed:\n%s", rep.Failed, out.String())
	}
}

// testWriter sends the run's lines to the test log as they come and keeps them.
type testWriter struct {
	t *testing.T
	b *strings.Builder
}

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	w.b.Write(p)
	return len(p), nil
}
