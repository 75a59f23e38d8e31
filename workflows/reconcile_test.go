package workflows_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"

	"github.com/clinicbook/booking/activities"
	"github.com/clinicbook/booking/activities/contract"
	bookingworker "github.com/clinicbook/booking/worker"
	"github.com/clinicbook/booking/workflows"
)

func reconcileEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	env := suite.NewTestWorkflowEnvironment()
	bookingworker.RegisterReconciler(env, &activities.Reconciler{})
	return env
}

// pages answers a listing's pages in turn, recording where each was asked to start.
func pages(starts *[]*contract.ReconcileCursor, results ...contract.ReconcilePageResult) func(context.Context, contract.ReconcilePage) (contract.ReconcilePageResult, error) {
	return func(_ context.Context, in contract.ReconcilePage) (contract.ReconcilePageResult, error) {
		*starts = append(*starts, in.After)
		r := results[0]
		results = results[1:]
		return r, nil
	}
}

func cursor(id string) *contract.ReconcileCursor {
	return &contract.ReconcileCursor{At: time.Date(2030, 1, 7, 9, 0, 0, 0, time.UTC), ID: id}
}

func TestReconcileWorkflowWalksEveryPage(t *testing.T) {
	env := reconcileEnv(t)
	var held, live []*contract.ReconcileCursor
	env.OnActivity("ExpireLapsedHolds", mock.Anything, mock.Anything).Return(pages(&held,
		contract.ReconcilePageResult{Checked: 200, Repaired: 3, Next: cursor("h200")},
		contract.ReconcilePageResult{Checked: 5, Repaired: 1, Failed: 1},
	))
	env.OnActivity("ResumeLiveBookings", mock.Anything, mock.Anything).Return(pages(&live,
		contract.ReconcilePageResult{Checked: 7, Repaired: 2},
	))

	env.ExecuteWorkflow(workflows.ReconcileWorkflow, workflows.ReconcileInput{})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res workflows.ReconcileResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, workflows.ReconcileResult{Checked: 212, Expired: 4, Resumed: 2, Failed: 1}, res)
	require.Equal(t, []*contract.ReconcileCursor{nil, cursor("h200")}, held)
	require.Equal(t, []*contract.ReconcileCursor{nil}, live)
}

// A run reads at most MaxPages pages of a listing; the next run starts where it stopped.
func TestReconcileWorkflowCarriesOnWhereTheLastRunStopped(t *testing.T) {
	env := reconcileEnv(t)
	var held, live []*contract.ReconcileCursor
	env.OnActivity("ExpireLapsedHolds", mock.Anything, mock.Anything).Return(pages(&held,
		contract.ReconcilePageResult{Checked: 1},
	))
	env.OnActivity("ResumeLiveBookings", mock.Anything, mock.Anything).Return(pages(&live,
		contract.ReconcilePageResult{Checked: 1, Next: cursor("l2")},
		contract.ReconcilePageResult{Checked: 1, Next: cursor("l3")},
	))
	env.SetLastCompletionResult(workflows.ReconcileResult{HeldCursor: cursor("h1")})

	env.ExecuteWorkflow(workflows.ReconcileWorkflow, workflows.ReconcileInput{PageSize: 1, MaxPages: 2})
	require.NoError(t, env.GetWorkflowError())
	var res workflows.ReconcileResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, []*contract.ReconcileCursor{cursor("h1")}, held)
	require.Equal(t, []*contract.ReconcileCursor{nil, cursor("l2")}, live)
	require.Nil(t, res.HeldCursor, "the held listing reached its end")
	require.Equal(t, cursor("l3"), res.LiveCursor)
}

// One listing failing does not keep the other from running; the run then fails, and the
// schedule's next run tries again.
func TestReconcileWorkflowRunsBothListingsWhenOneFails(t *testing.T) {
	env := reconcileEnv(t)
	env.OnActivity("ExpireLapsedHolds", mock.Anything, mock.Anything).Return(contract.ReconcilePageResult{}, errors.New("database away"))
	var live []*contract.ReconcileCursor
	env.OnActivity("ResumeLiveBookings", mock.Anything, mock.Anything).Return(pages(&live,
		contract.ReconcilePageResult{Checked: 2, Repaired: 1},
	))

	env.ExecuteWorkflow(workflows.ReconcileWorkflow, workflows.ReconcileInput{})
	require.Error(t, env.GetWorkflowError())
	require.Contains(t, env.GetWorkflowError().Error(), "database away")
	require.Len(t, live, 1)
}

// A database away for a few seconds (a restart) is waited out: the run completes.
func TestReconcileWorkflowWaitsOutAShortOutage(t *testing.T) {
	env := reconcileEnv(t)
	var held, live []*contract.ReconcileCursor
	env.OnActivity("ExpireLapsedHolds", mock.Anything, mock.Anything).Return(contract.ReconcilePageResult{}, errors.New("database away")).Times(4)
	env.OnActivity("ExpireLapsedHolds", mock.Anything, mock.Anything).Return(pages(&held, contract.ReconcilePageResult{Checked: 1}))
	env.OnActivity("ResumeLiveBookings", mock.Anything, mock.Anything).Return(pages(&live, contract.ReconcilePageResult{Checked: 2}))

	env.ExecuteWorkflow(workflows.ReconcileWorkflow, workflows.ReconcileInput{})
	require.NoError(t, env.GetWorkflowError())
	var res workflows.ReconcileResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, 3, res.Checked)
}
