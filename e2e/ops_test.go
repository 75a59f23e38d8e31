package e2e

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/clinicbook/booking/activities"
	"github.com/clinicbook/booking/internal/temporaltest"
	"github.com/clinicbook/booking/worker"
	"github.com/clinicbook/booking/workflows"
)

// TestWorkerOpsEndpoints scrapes a worker's /metrics after it ran a booking: the Temporal
// SDK's own series are there, next to /healthz and /readyz.
func TestWorkerOpsEndpoints(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	patientID, _ := p.patient("ops@example.com", "+15550007777")

	reg := prometheus.NewRegistry()
	c, err := client.Dial(client.Options{HostPort: devServer.Address(), Namespace: "default", Logger: quiet{},
		MetricsHandler: worker.MetricsHandler(reg), DataConverter: temporaltest.DataConverter(),
		FailureConverter: temporaltest.FailureConverter()})
	require.NoError(t, err)
	defer c.Close()
	queue := "ops-" + uuid.NewString()[:8]
	w := worker.New(c, queue, &activities.Activities{Store: p.st, Now: time.Now})
	require.NoError(t, w.Start())
	defer w.Stop()

	in := workflows.Input{BookingID: uuid.NewString(), ProviderID: p.provider.ID, ServiceID: p.service.ID,
		PatientID: patientID, Start: tomorrowAt(16, 0), Policy: p.policy(time.Minute)}
	run, err := c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: workflows.BookingWorkflowID(in.BookingID), TaskQueue: queue}, workflows.WorkflowName, in)
	require.NoError(t, err)
	h, err := c.UpdateWorkflow(context.Background(), client.UpdateWorkflowOptions{WorkflowID: run.GetID(), RunID: run.GetRunID(),
		UpdateName: workflows.UpdateHold, WaitForStage: client.WorkflowUpdateStageCompleted})
	require.NoError(t, err)
	require.NoError(t, h.Get(context.Background(), nil))

	ops := httptest.NewServer(worker.OpsHandler(p.st.Pool(), c, reg))
	defer ops.Close()
	get := func(path string) (int, string) {
		resp, err := http.Get(ops.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}
	code, _ := get("/healthz")
	require.Equal(t, http.StatusOK, code)
	code, body := get("/readyz")
	require.Equal(t, http.StatusOK, code, body)

	// Tally reports on a one-second tick.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		code, body := get("/metrics")
		assert.Equal(c, http.StatusOK, code)
		for _, series := range []string{"temporal_workflow_task_execution_latency", "temporal_local_activity_execution_latency", "temporal_request"} {
			assert.Contains(c, body, series)
		}
	}, 10*time.Second, 250*time.Millisecond)
}
