// Package worker hosts the booking workflow and its activities on a Temporal task queue.
package worker

import (
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/clinicbook/booking/activities"
	"github.com/clinicbook/booking/workflows"
)

// Register puts the workflow and the activities on r: a worker, a test environment or a replayer.
func Register(r worker.Registry, acts *activities.Activities) {
	RegisterWorkflow(r)
	r.RegisterActivity(acts)
}

// RegisterWorkflow registers the workflow alone, as a replayer needs.
func RegisterWorkflow(r worker.WorkflowRegistry) {
	r.RegisterWorkflowWithOptions(workflows.BookingWorkflow, workflow.RegisterOptions{Name: workflows.WorkflowName})
}

// New creates a worker on taskQueue. The API process runs one too, on the same client as its
// starter, so that a new booking's first workflow task is handed to it eagerly.
func New(c client.Client, taskQueue string, acts *activities.Activities) worker.Worker {
	w := worker.New(c, taskQueue, worker.Options{
		// Let in-flight activities finish on shutdown (a send half done is what we avoid).
		WorkerStopTimeout: 30 * time.Second,
	})
	Register(w, acts)
	return w
}
