package workflows_test

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// TestWorkflowsStayFreeOfIO keeps pgx and twilio-go out of the workflow package's build, by any
// path: workflow code must not reach the database or the message providers. Test files do not
// count (go list -deps leaves them out).
func TestWorkflowsStayFreeOfIO(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", ".").Output()
	if err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			t.Fatalf("go list -deps: %v\n%s", err, exitErr.Stderr)
		}
		t.Fatalf("go list -deps: %v", err)
	}
	// Which of our packages the workflows may import is internal/layers' table; this checks
	// what no direct-import rule can see: I/O libraries pulled in through any path.
	forbidden := []string{"github.com/jackc/pgx", "github.com/twilio/twilio-go"}
	deps := strings.Fields(string(out))
	if len(deps) == 0 {
		t.Fatal("go list -deps listed nothing")
	}
	for _, dep := range deps {
		for _, f := range forbidden {
			if dep == f || strings.HasPrefix(dep, f+"/") {
				t.Errorf("workflows depends on %s (%s): workflow code must not pull in I/O", dep, f)
			}
		}
	}
}
