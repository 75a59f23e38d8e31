package layers_test

import (
	"os/exec"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/clinicbook/booking"

// allowed lists, for each package of ours, the packages of ours it may import (production
// code only; tests may reach further). It is ARCHITECTURE.md's table: change both together.
var allowed = map[string][]string{
	"domain":              {},
	"availability":        {"domain"},
	"config":              {"domain"},
	"codec":               {},
	"store":               {"domain"},
	"notify":              {"config", "domain"},
	"auth":                {"config", "domain", "store"},
	"activities/contract": {"domain"},
	"workflows":           {"activities/contract", "config", "domain"},
	"activities":          {"activities/contract", "availability", "domain", "notify", "store"},
	"worker":              {"activities", "domain", "workflows"},
	"api":                 {"auth", "availability", "codec", "config", "domain", "notify", "store", "workflows"},
	"seed":                {"domain", "store"},
	"telemetry":           {},
	"web":                 {},
	"twiliosandbox":       {},
	"app": {"activities", "api", "auth", "codec", "config", "notify", "store", "telemetry", "web",
		"worker", "workflows"},

	// Test and tool support.
	"store/storetest":       {"store"},
	"notify/notifytest":     {"config", "twiliosandbox"},
	"internal/temporaltest": {"codec", "workflows"},
	"internal/layers":       {},
	"chaos":                 {"domain"},
	"deploy":                {},
	"deploy/healthcheck":    {},
	"e2e":                   {},

	// Binaries: the wiring is app's, so they stay thin.
	"cmd/booking":        {"api", "app", "codec", "config", "seed", "store", "telemetry", "worker"},
	"cmd/bench":          {"api", "auth", "codec", "config", "domain", "store", "workflows"},
	"cmd/chaos":          {"chaos"},
	"cmd/twilio-sandbox": {"twiliosandbox"},
}

func TestPackagesImportOnlyTheirLayers(t *testing.T) {
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, module+"/...")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	seen := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		pkg := strings.TrimPrefix(strings.TrimPrefix(f[0], module), "/")
		may, known := allowed[pkg]
		if !known {
			t.Errorf("package %s is not in ARCHITECTURE.md's table: say which layer it is (and add it here)", pkg)
			continue
		}
		seen++
		ok := map[string]bool{}
		for _, p := range may {
			ok[p] = true
		}
		var bad []string
		for _, imp := range f[1:] {
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			if dep := strings.TrimPrefix(imp, module+"/"); !ok[dep] {
				bad = append(bad, dep)
			}
		}
		sort.Strings(bad)
		for _, dep := range bad {
			t.Errorf("%s imports %s, which its layer may not (ARCHITECTURE.md)", pkg, dep)
		}
	}
	if seen < 20 {
		t.Fatalf("go list found only %d of our packages", seen)
	}
}
