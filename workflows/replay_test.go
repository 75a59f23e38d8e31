package workflows_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"

	"github.com/clinicbook/booking/internal/temporaltest"
	bookingworker "github.com/clinicbook/booking/worker"
)

// TestReplayRecordedHistories replays histories recorded from real runs (see
// e2e/history_test.go) against today's workflow code. A change that would break a booking in
// flight fails here: such a change needs workflow.GetVersion. The replayer decodes with the
// platform's codec and the test key: newer histories are encrypted with it, older ones were
// recorded before the codec and pass through it.
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "histories", "*.json"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 4, "the recorded histories are missing")
	encrypted := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		// "binary/encrypted", base64 as protojson writes metadata.
		if strings.Contains(string(b), "YmluYXJ5L2VuY3J5cHRlZA==") {
			encrypted++
		}
	}
	require.Positive(t, encrypted, "no history recorded with the payload codec")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{DataConverter: temporaltest.DataConverter(),
				FailureConverter: temporaltest.FailureConverter()})
			require.NoError(t, err)
			bookingworker.RegisterWorkflow(r)
			require.NoError(t, r.ReplayWorkflowHistoryFromJSONFile(nil, f))
		})
	}
}
