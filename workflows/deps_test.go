package workflows_test

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// TestWorkflowsStayFreeOfIO keeps the workflow package's dependencies at the domain, the SDK,
// the activity contract and config: workflow code must not reach the database or the message
// providers, and its build must not pull them in. Test files do not count (go list -deps
// leaves them out).
func TestWorkflowsStayFreeOfIO(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", ".").Output()
	if err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			t.Fatalf("go list -deps: %v\n%s", err, exitErr.Stderr)
		}
		t.Fatalf("go list -deps: %v", err)
	}
	const module = "github.com/clinicbook/booking"
	// Ours that the workflows may import; any other package of ours is refused.
	allowed := map[string]bool{
		module + "/workflows":           true,
		module + "/domain":              true,
		module + "/activities/contract": true,
		module + "/config":              true, // NewPolicy; standard library and domain only
	}
	forbidden := []string{"github.com/jackc/pgx", "github.com/twilio/twilio-go"}
	deps := strings.Fields(string(out))
	if len(deps) == 0 {
		t.Fatal("go list -deps listed nothing")
	}
	for _, dep := range deps {
		if strings.HasPrefix(dep, module+"/") && !allowed[dep] {
			t.Errorf("workflows depends on %s; it may use only the domain, the activity contract and config", dep)
		}
		for _, f := range forbidden {
			if dep == f || strings.HasPrefix(dep, f+"/") {
				t.Errorf("workflows depends on %s (%s): workflow code must not pull in I/O", dep, f)
			}
		}
	}
}
