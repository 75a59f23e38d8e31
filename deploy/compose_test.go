package deploy

import (
	"context"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

// bookingServices run the booking binary and read config/config.go's variables.
var bookingServices = []string{"migrate", "api", "worker", "seed"}

// loadCompose loads docker-compose.yml with the Compose specification's reference loader:
// schema validation, interpolation, merge keys and consistency checks included, every profile
// enabled, no Docker engine. Interpolation sees an empty environment, so ${VAR:-default}
// resolves to its default whatever the developer's shell holds.
func loadCompose(t *testing.T) *types.Project {
	t.Helper()
	abs, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	details := types.ConfigDetails{
		WorkingDir:  abs,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(abs, "docker-compose.yml")}},
		Environment: types.Mapping{},
	}
	project, err := loader.LoadWithContext(context.Background(), details, func(o *loader.Options) {
		o.Profiles = []string{"*"}
	})
	if err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return project
}

func service(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, ok := p.Services[name]
	if !ok {
		t.Fatalf("docker-compose.yml: no service %q", name)
	}
	return s
}

// env flattens a service's environment; a name without a value (taken from the host) counts
// as unset.
func env(s types.ServiceConfig) map[string]string {
	out := map[string]string{}
	for k, v := range s.Environment {
		if v != nil {
			out[k] = *v
		}
	}
	return out
}

func TestComposeServices(t *testing.T) {
	p := loadCompose(t)
	for _, name := range []string{"postgresql", "temporal", "temporal-search-attributes", "temporal-ui",
		"mailpit", "twilio-sandbox", "migrate", "api", "worker"} {
		service(t, p, name)
	}

	published := map[string][][2]string{ // service -> {published, target}
		"api":         {{"8080", "8080"}},
		"temporal-ui": {{"8233", "8080"}},
		"mailpit":     {{"1025", "1025"}, {"8025", "8025"}},
	}
	for name, ports := range published {
		s := service(t, p, name)
		for _, want := range ports {
			found := false
			for _, port := range s.Ports {
				if port.Published == want[0] && strconv.Itoa(int(port.Target)) == want[1] {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: does not publish %s:%s (ports %+v)", name, want[0], want[1], s.Ports)
			}
		}
	}

	// The booking services share one image, built here, whose command picks the process.
	for _, name := range append([]string{"twilio-sandbox"}, bookingServices...) {
		s := service(t, p, name)
		if s.Build == nil {
			t.Errorf("%s: not built from the Dockerfile", name)
		}
	}
	commands := map[string]string{"migrate": "migrate", "api": "api", "worker": "worker", "seed": "seed"}
	for name, want := range commands {
		if s := service(t, p, name); len(s.Command) != 1 || s.Command[0] != want || len(s.Entrypoint) != 0 {
			t.Errorf("%s: entrypoint %v command %v, want the image's /booking with [%s]", name, s.Entrypoint, s.Command, want)
		}
	}
	if s := service(t, p, "twilio-sandbox"); len(s.Entrypoint) == 0 || s.Entrypoint[0] != "/twilio-sandbox" {
		t.Errorf("twilio-sandbox: entrypoint %v, want [/twilio-sandbox]", s.Entrypoint)
	}

	// PostgreSQL and Mailpit keep their data in named volumes.
	for name, target := range map[string]string{"postgresql": "/var/lib/postgresql/data", "mailpit": "/data"} {
		found := false
		for _, v := range service(t, p, name).Volumes {
			if v.Type == types.VolumeTypeVolume && v.Target == target {
				if _, declared := p.Volumes[v.Source]; declared {
					found = true
				}
			}
		}
		if !found {
			t.Errorf("%s: %s is not on a declared named volume", name, target)
		}
	}
}

func TestComposeDependencies(t *testing.T) {
	p := loadCompose(t)
	want := map[string]string{
		"postgresql": types.ServiceConditionHealthy,
		"temporal":   types.ServiceConditionHealthy,
		"migrate":    types.ServiceConditionCompletedSuccessfully,
	}
	for _, name := range []string{"api", "worker"} {
		deps := service(t, p, name).DependsOn
		for dep, cond := range want {
			if got := deps[dep].Condition; got != cond {
				t.Errorf("%s: depends on %s with condition %q, want %q", name, dep, got, cond)
			}
		}
		if got := deps["temporal-search-attributes"].Condition; got != types.ServiceConditionCompletedSuccessfully {
			t.Errorf("%s: should wait for the search attributes (condition %q)", name, got)
		}
	}
	if got := service(t, p, "temporal").DependsOn["postgresql"].Condition; got != types.ServiceConditionHealthy {
		t.Errorf("temporal: depends on postgresql with %q, want healthy", got)
	}
	if got := service(t, p, "temporal-search-attributes").DependsOn["temporal"].Condition; got != types.ServiceConditionHealthy {
		t.Errorf("temporal-search-attributes: depends on temporal with %q, want healthy", got)
	}
	if got := service(t, p, "migrate").DependsOn["postgresql"].Condition; got != types.ServiceConditionHealthy {
		t.Errorf("migrate: depends on postgresql with %q, want healthy", got)
	}

	// Every condition must be satisfiable: healthy needs a healthcheck, completed needs a
	// one-shot that is not restarted forever.
	for name, s := range p.Services {
		for dep, d := range s.DependsOn {
			target, ok := p.Services[dep]
			if !ok {
				t.Errorf("%s: depends on unknown service %s", name, dep)
				continue
			}
			switch d.Condition {
			case types.ServiceConditionHealthy:
				if target.HealthCheck == nil || target.HealthCheck.Disable || len(target.HealthCheck.Test) == 0 {
					t.Errorf("%s: waits for %s to be healthy, but %s has no healthcheck", name, dep, dep)
				}
			case types.ServiceConditionCompletedSuccessfully:
				if target.Restart == types.RestartPolicyAlways || target.Restart == types.RestartPolicyUnlessStopped {
					t.Errorf("%s: waits for %s to complete, but %s restarts %s", name, dep, dep, target.Restart)
				}
			}
		}
	}

	// api and worker report readiness (PostgreSQL + Temporal) on their own ports.
	for name, addrVar := range map[string]string{"api": "HTTP_ADDR", "worker": "WORKER_HTTP_ADDR"} {
		s := service(t, p, name)
		if s.HealthCheck == nil || len(s.HealthCheck.Test) == 0 {
			t.Errorf("%s: no healthcheck", name)
			continue
		}
		test := strings.Join(s.HealthCheck.Test, " ")
		port := portOf(t, name, effective(t, env(s), addrVar))
		if !strings.Contains(test, "/readyz") || !strings.Contains(test, ":"+port+"/") {
			t.Errorf("%s: healthcheck %q should probe /readyz on port %s (%s)", name, test, port, addrVar)
		}
		if strings.HasPrefix(s.HealthCheck.Test[0], "CMD") && len(s.HealthCheck.Test) > 1 {
			checkImageBinary(t, name, s.HealthCheck.Test[1])
		}
	}
}

// checkImageBinary fails absolute paths that the Dockerfile does not put in the image.
func checkImageBinary(t *testing.T, where, path string) {
	t.Helper()
	if _, ok := imageBinaries[strings.TrimPrefix(path, "/")]; !ok {
		t.Errorf("%s: runs %s, which the image does not contain", where, path)
	}
}

// effective is a variable's value as the binary sees it: set, or config.go's default.
func effective(t *testing.T, env map[string]string, name string) string {
	t.Helper()
	if v := env[name]; v != "" {
		return v
	}
	return readConfigVars(t).defaults[name]
}

func portOf(t *testing.T, where, addr string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Errorf("%s: address %q: %v", where, addr, err)
	}
	return port
}

func TestComposeEnvironmentMatchesConfig(t *testing.T) {
	p := loadCompose(t)
	for _, name := range bookingServices {
		checkEnv(t, "docker-compose.yml service "+name, env(service(t, p, name)))
	}

	// The services reach each other at the addresses the configuration names.
	api := env(service(t, p, "api"))
	for _, name := range bookingServices {
		e := env(service(t, p, name))
		for _, v := range []string{"DATABASE_URL", "TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "JWT_SIGNING_KEY", "TWILIO_API_BASE_URL",
			"TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "SMTP_HOST", "SMTP_PORT", "PUBLIC_BASE_URL"} {
			if e[v] != api[v] {
				t.Errorf("%s: %s = %q differs from the api's %q", name, v, e[v], api[v])
			}
		}
	}

	pg := env(service(t, p, "postgresql"))
	db, err := url.Parse(api["DATABASE_URL"])
	if err != nil {
		t.Fatalf("DATABASE_URL: %v", err)
	}
	password, _ := db.User.Password()
	if db.Hostname() != "postgresql" || db.Port() != "5432" || db.User.Username() != pg["POSTGRES_USER"] ||
		password != pg["POSTGRES_PASSWORD"] {
		t.Errorf("DATABASE_URL %s does not match the postgresql service (user %s)", api["DATABASE_URL"], pg["POSTGRES_USER"])
	}
	if temporal := env(service(t, p, "temporal")); temporal["POSTGRES_SEEDS"] != "postgresql" || temporal["DB"] != "postgres12" ||
		temporal["POSTGRES_USER"] != pg["POSTGRES_USER"] || temporal["POSTGRES_PWD"] != pg["POSTGRES_PASSWORD"] {
		t.Errorf("temporal does not persist to the postgresql service: %v", temporal)
	}

	if host, port, _ := net.SplitHostPort(api["TEMPORAL_ADDRESS"]); host != "temporal" || port != "7233" {
		t.Errorf("TEMPORAL_ADDRESS %q, want temporal:7233", api["TEMPORAL_ADDRESS"])
	}
	if ui := env(service(t, p, "temporal-ui")); ui["TEMPORAL_ADDRESS"] != api["TEMPORAL_ADDRESS"] {
		t.Errorf("temporal-ui points at %q, the platform at %q", ui["TEMPORAL_ADDRESS"], api["TEMPORAL_ADDRESS"])
	}
	if api["SMTP_HOST"] != "mailpit" || api["SMTP_PORT"] != "1025" {
		t.Errorf("SMTP %s:%s, want mailpit:1025", api["SMTP_HOST"], api["SMTP_PORT"])
	}

	// The SMS sandbox: reachable from the other containers, same credentials as the platform,
	// and its signed webhooks verifiable against PUBLIC_BASE_URL.
	sandbox := env(service(t, p, "twilio-sandbox"))
	sandboxHost, sandboxPort, err := net.SplitHostPort(sandbox["SANDBOX_ADDR"])
	if err != nil || (sandboxHost != "0.0.0.0" && sandboxHost != "" && sandboxHost != "::") {
		t.Errorf("SANDBOX_ADDR %q must listen on all interfaces to be reachable from other containers", sandbox["SANDBOX_ADDR"])
	}
	if base, err := url.Parse(api["TWILIO_API_BASE_URL"]); err != nil || base.Hostname() != "twilio-sandbox" || base.Port() != sandboxPort {
		t.Errorf("TWILIO_API_BASE_URL %q, want http://twilio-sandbox:%s", api["TWILIO_API_BASE_URL"], sandboxPort)
	}
	for _, v := range []string{"TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER"} {
		if sandbox[v] == "" || sandbox[v] != api[v] {
			t.Errorf("twilio-sandbox %s = %q, the platform uses %q", v, sandbox[v], api[v])
		}
	}
	if !strings.HasPrefix(sandbox["SANDBOX_INBOUND_URL"], api["PUBLIC_BASE_URL"]+"/") {
		t.Errorf("SANDBOX_INBOUND_URL %q is not under PUBLIC_BASE_URL %q: the api would reject its signatures",
			sandbox["SANDBOX_INBOUND_URL"], api["PUBLIC_BASE_URL"])
	}
	if u, err := url.Parse(api["PUBLIC_BASE_URL"]); err != nil || p.Services[u.Hostname()].Name == "" {
		t.Errorf("PUBLIC_BASE_URL %q is not a compose service address: the sandbox's status callbacks could not reach it",
			api["PUBLIC_BASE_URL"])
	}
	if s := service(t, p, "twilio-sandbox"); s.HealthCheck == nil || len(s.HealthCheck.Test) < 2 {
		t.Error("twilio-sandbox: no healthcheck")
	} else {
		checkImageBinary(t, "twilio-sandbox healthcheck", s.HealthCheck.Test[1])
	}
}

func TestComposeRegistersSearchAttributes(t *testing.T) {
	p := loadCompose(t)
	s := service(t, p, "temporal-search-attributes")
	if !strings.HasPrefix(s.Image, "temporalio/admin-tools:") {
		t.Errorf("temporal-search-attributes: image %s, want temporalio/admin-tools", s.Image)
	}
	script := strings.Join(append(append([]string{}, s.Entrypoint...), s.Command...), "\n")
	namespaces := checkSearchAttributeScript(t, "temporal-search-attributes", script)
	ns := env(service(t, p, "api"))["TEMPORAL_NAMESPACE"]
	for _, got := range namespaces {
		if got != ns {
			t.Errorf("temporal-search-attributes: registers in namespace %q, the platform uses %q", got, ns)
		}
	}
	if len(namespaces) == 0 {
		t.Error("temporal-search-attributes: no --namespace given")
	}
	if temporal := env(service(t, p, "temporal")); temporal["DEFAULT_NAMESPACE"] != "" && temporal["DEFAULT_NAMESPACE"] != ns {
		t.Errorf("temporal creates namespace %q, the platform uses %q", temporal["DEFAULT_NAMESPACE"], ns)
	}
}

func TestComposeImagesPinned(t *testing.T) {
	p := loadCompose(t)
	for _, name := range sortedKeys(p.Services) {
		s := p.Services[name]
		// Built images still need an explicit, non-latest tag so every service runs the same build.
		checkPinned(t, "docker-compose.yml service "+name, s.Image, s.Build != nil)
	}
}
