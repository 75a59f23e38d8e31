package api

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/clinicbook/booking/domain"
)

// An update's failure is told apart by its type: what the server answers for a workflow that
// has completed (NotFound) closes the booking, whatever its text; text alone closes nothing.
func TestUpdateFailureByType(t *testing.T) {
	completed := serviceerror.NewNotFound("workflow execution already completed")
	aborted := serviceerror.NewNotFound("workflow update was aborted by closing workflow")
	refused := temporal.NewApplicationError("the hold has expired", string(domain.KindConflict))
	for name, c := range map[string]struct {
		err  error
		want func(t *testing.T, got error)
	}{
		"completed workflow":          {completed, isClosed},
		"update aborted by the close": {aborted, isClosed},
		"wrapped":                     {fmt.Errorf("update: %w", completed), isClosed},
		"the text without the type": {errors.New("workflow execution already completed"), func(t *testing.T, got error) {
			require.NotErrorIs(t, got, errClosed)
		}},
		"the workflow's refusal": {refused, func(t *testing.T, got error) {
			require.Same(t, refused, got)
		}},
		"no answer in time": {client.NewWorkflowUpdateServiceTimeoutOrCanceledError(context.DeadlineExceeded), func(t *testing.T, got error) {
			require.True(t, domain.IsKind(got, domain.KindUnavailable), "%v", got)
		}},
	} {
		t.Run(name, func(t *testing.T) { c.want(t, updateFailure(c.err)) })
	}
}

func isClosed(t *testing.T, got error) {
	t.Helper()
	require.ErrorIs(t, got, errClosed)
}
