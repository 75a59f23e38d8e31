package deploy

import (
	"bufio"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"go/ast"
	"go/parser"
	"go/token"
	"go/version"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/clinicbook/booking/config"
)

// repoRoot is the repository root as seen from this package's directory (go test's working
// directory).
const repoRoot = ".."

// configVars is what config/config.go reads from the environment, found by parsing its source
// so these tests follow the configuration as it changes.
type configVars struct {
	names    map[string]bool   // every variable Load reads
	required map[string]bool   // the ones read with r.required
	defaults map[string]string // literal defaults, where the call spells one out
}

var cachedConfigVars *configVars

// readConfigVars parses config/config.go. A reader method is one that calls the getenv field,
// or passes its own name parameter on to another reader method (duration -> str); every call
// of a reader method with a string literal first argument names a variable.
func readConfigVars(t *testing.T) configVars {
	t.Helper()
	if cachedConfigVars != nil {
		return *cachedConfigVars
	}
	path := filepath.Join(repoRoot, "config", "config.go")
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, path, nil, 0)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}

	consts := map[string]string{}
	methods := map[string]*ast.FuncDecl{}
	for _, decl := range file.Decls {
		switch d := decl.(type) {
		case *ast.GenDecl:
			if d.Tok != token.CONST {
				continue
			}
			for _, spec := range d.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if i < len(vs.Values) {
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok {
							consts[name.Name] = literal(lit)
						}
					}
				}
			}
		case *ast.FuncDecl:
			if d.Recv != nil && d.Body != nil {
				methods[d.Name.Name] = d
			}
		}
	}

	readers := map[string]bool{}
	for name, fn := range methods {
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok && sel.Sel.Name == "getenv" {
				readers[name] = true
			}
			return true
		})
	}
	for changed := true; changed; {
		changed = false
		for name, fn := range methods {
			if readers[name] || fn.Type.Params.NumFields() == 0 || len(fn.Type.Params.List[0].Names) == 0 {
				continue
			}
			param := fn.Type.Params.List[0].Names[0].Name
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok || len(call.Args) == 0 {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if arg, isIdent := call.Args[0].(*ast.Ident); ok && isIdent && readers[sel.Sel.Name] && arg.Name == param {
					readers[name], changed = true, true
				}
				return true
			})
		}
	}

	vars := configVars{names: map[string]bool{}, required: map[string]bool{}, defaults: map[string]string{}}
	ast.Inspect(file, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || len(call.Args) == 0 {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || !readers[sel.Sel.Name] {
			return true
		}
		lit, ok := call.Args[0].(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return true
		}
		name := literal(lit)
		vars.names[name] = true
		if sel.Sel.Name == "required" {
			vars.required[name] = true
		}
		if len(call.Args) > 1 {
			switch def := call.Args[1].(type) {
			case *ast.BasicLit:
				vars.defaults[name] = literal(def)
			case *ast.Ident:
				if v, ok := consts[def.Name]; ok {
					vars.defaults[name] = v
				} else if def.Name == "true" || def.Name == "false" {
					vars.defaults[name] = def.Name
				}
			}
		}
		return true
	})
	if len(vars.names) < 5 || len(vars.required) == 0 {
		t.Fatalf("found only %d variables (%d required) in %s: has the reader changed shape?",
			len(vars.names), len(vars.required), path)
	}
	cachedConfigVars = &vars
	return vars
}

func literal(lit *ast.BasicLit) string {
	if lit.Kind == token.STRING {
		if s, err := strconv.Unquote(lit.Value); err == nil {
			return s
		}
	}
	return lit.Value
}

// goRuntimeVars are read by the Go runtime itself, not by config.go.
var goRuntimeVars = map[string]bool{"GOMEMLIMIT": true, "GOGC": true, "GOMAXPROCS": true}

// checkEnv reports variables config.go does not read, and required ones that are missing or
// empty, then loads the configuration from env exactly as the binaries do.
func checkEnv(t *testing.T, where string, env map[string]string) {
	t.Helper()
	vars := readConfigVars(t)
	for _, name := range sortedKeys(env) {
		if !vars.names[name] && !goRuntimeVars[name] {
			t.Errorf("%s: sets %s, which config/config.go does not read", where, name)
		}
	}
	for _, name := range sortedKeys(vars.required) {
		if strings.TrimSpace(env[name]) == "" {
			t.Errorf("%s: required variable %s is not set", where, name)
		}
	}
	getenv := func(name string) string {
		v := env[name]
		// Secret templates hold REPLACE_ME placeholders: stand plausible values in for them.
		if strings.Contains(v, "REPLACE_ME") {
			// Both are "id:base64 of 32 random bytes".
			if name == "JWT_SIGNING_KEY" || name == "TEMPORAL_CODEC_KEYS" {
				return testSigningKey
			}
			return strings.ReplaceAll(v, "REPLACE_ME", "placeholder0")
		}
		return v
	}
	if _, err := config.Load(getenv); err != nil {
		t.Errorf("%s: the binaries would refuse this environment: %v", where, err)
	}
}

var testSigningKey = func() string {
	seed := make([]byte, ed25519.SeedSize)
	_, _ = rand.Read(seed)
	return "test:" + base64.StdEncoding.EncodeToString(seed)
}()

// searchAttributeTypes maps the Go SDK's typed key constructors onto the type names
// `temporal operator search-attribute create --type` takes.
var searchAttributeTypes = map[string]string{
	"Keyword":     "Keyword",
	"KeywordList": "KeywordList",
	"String":      "Text",
	"Int64":       "Int",
	"Float64":     "Double",
	"Bool":        "Bool",
	"Time":        "Datetime",
}

var sdkSearchAttributeKey = regexp.MustCompile(`^NewSearchAttributeKey([A-Za-z0-9]+)$`)

// codeSearchAttributes finds the search attributes the Go code declares with
// temporal.NewSearchAttributeKey<Type>("Name"), outside tests and deploy/.
func codeSearchAttributes(t *testing.T) map[string]string {
	t.Helper()
	found := map[string]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(repoRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "bin", ".data", "deploy", "vendor", "testdata", "node_modules", "tmp":
				if path != repoRoot {
					return filepath.SkipDir
				}
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		file, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Logf("skipping %s: %v", path, err) // someone else's work in progress
			return nil
		}
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 1 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			m := sdkSearchAttributeKey.FindStringSubmatch(sel.Sel.Name)
			lit, isLit := call.Args[0].(*ast.BasicLit)
			if m == nil || !isLit || lit.Kind != token.STRING {
				return true
			}
			typ, known := searchAttributeTypes[m[1]]
			if !known {
				t.Errorf("%s: search attribute key type %s is not mapped to a CLI type", fset.Position(call.Pos()), m[1])
				return true
			}
			found[literal(lit)] = typ
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) == 0 {
		t.Fatal("found no temporal.NewSearchAttributeKey* calls in the code")
	}
	return found
}

var (
	saCreateLine = regexp.MustCompile(`search-attribute\s+create\b.*`)
	saName       = regexp.MustCompile(`--name[= ]"?([A-Za-z0-9_]+)`)
	saType       = regexp.MustCompile(`--type[= ]"?([A-Za-z]+)`)
	saNamespace  = regexp.MustCompile(`--namespace[= ]("?[^\s"]+"?)`)
)

// registeredSearchAttributes extracts the `temporal operator search-attribute create` calls
// of a script: attribute name -> type, and the namespaces they target.
func registeredSearchAttributes(t *testing.T, where, script string) (map[string]string, []string) {
	t.Helper()
	attrs := map[string]string{}
	var namespaces []string
	for _, line := range saCreateLine.FindAllString(script, -1) {
		names, types := saName.FindAllStringSubmatch(line, -1), saType.FindAllStringSubmatch(line, -1)
		if len(names) == 0 || len(names) != len(types) {
			t.Errorf("%s: cannot pair --name and --type in %q", where, line)
			continue
		}
		for i := range names {
			attrs[names[i][1]] = types[i][1]
		}
		if ns := saNamespace.FindStringSubmatch(line); ns != nil {
			namespaces = append(namespaces, strings.Trim(ns[1], `"`))
		}
	}
	return attrs, namespaces
}

// checkSearchAttributeScript checks that script registers every search attribute the code
// declares, with the right type, and tolerates attributes that already exist.
func checkSearchAttributeScript(t *testing.T, where, script string) []string {
	t.Helper()
	want := codeSearchAttributes(t)
	got, namespaces := registeredSearchAttributes(t, where, script)
	for _, name := range sortedKeys(want) {
		switch typ, ok := got[name]; {
		case !ok:
			t.Errorf("%s: does not register search attribute %s (%s)", where, name, want[name])
		case typ != want[name]:
			t.Errorf("%s: registers %s as %s, the code uses it as %s", where, name, typ, want[name])
		}
	}
	if !regexp.MustCompile(`(?i)already|\[Aa\]lready`).MatchString(script) {
		t.Errorf("%s: does not tolerate search attributes that already exist", where)
	}
	return namespaces
}

// TestDockerfile checks the image build: pinned bases, a toolchain new enough for go.mod, a
// static trimmed build of every binary the compose file and manifests run, a distroless
// non-root final stage and the entrypoint/command the services rely on.
func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	args := map[string]string{}
	var froms []string
	var user, entrypoint, cmd string
	sc := bufio.NewScanner(strings.NewReader(strings.ReplaceAll(text, "\\\n", " ")))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		rest := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(sc.Text()), fields[0]))
		switch strings.ToUpper(fields[0]) {
		case "ARG":
			if k, v, ok := strings.Cut(fields[1], "="); ok {
				args[k] = v
			}
		case "FROM":
			image := ""
			for _, f := range fields[1:] {
				if !strings.HasPrefix(f, "--") {
					image = f
					break
				}
			}
			for k, v := range args {
				image = strings.ReplaceAll(image, "${"+k+"}", v)
			}
			froms = append(froms, image)
		case "USER":
			user = fields[1]
		case "ENTRYPOINT":
			entrypoint = rest
		case "CMD":
			cmd = rest
		}
	}
	if len(froms) < 2 {
		t.Fatalf("want a multi-stage build, found FROM %v", froms)
	}
	for _, image := range froms {
		if strings.Contains(image, "$") {
			t.Errorf("FROM %s: unresolved build argument", image)
		}
		checkPinned(t, "Dockerfile", image, false)
	}
	// The stages before the last build: the web app on node, then the binaries on golang.
	goStage, nodeStage := "", ""
	for _, image := range froms[:len(froms)-1] {
		switch {
		case strings.HasPrefix(image, "golang:"):
			goStage = image
		case strings.HasPrefix(image, "node:"):
			nodeStage = image
		}
	}
	if goStage == "" {
		t.Fatalf("no build stage on golang:<version> in %v", froms)
	}
	// The binary embeds the web app, which needs Node 20 to build (web/package.json's engines).
	if !strings.HasPrefix(nodeStage, "node:20") {
		t.Errorf("web app stage is %q, want node:20*", nodeStage)
	}
	if final := froms[len(froms)-1]; !strings.HasPrefix(final, "gcr.io/distroless/static") {
		t.Errorf("final stage is %s, want gcr.io/distroless/static*", final)
	}

	// The toolchain must satisfy go.mod's go line: the build sets GOTOOLCHAIN=local.
	_, tag, _ := strings.Cut(goStage, ":") // golang:1.26.8[-variant]
	goVersion, _, _ := strings.Cut(tag, "-")
	modGo := goModGoVersion(t)
	if !version.IsValid("go"+goVersion) || version.Compare("go"+goVersion, "go"+modGo) < 0 {
		t.Errorf("builder Go %q is not a Go version at least go.mod's %s", goVersion, modGo)
	}

	if uid, err := strconv.Atoi(strings.SplitN(user, ":", 2)[0]); err != nil || uid == 0 {
		t.Errorf("USER %q: want a numeric non-root user (kubelet can then verify runAsNonRoot)", user)
	}
	if entrypoint != `["/booking"]` {
		t.Errorf(`ENTRYPOINT %s, want ["/booking"]`, entrypoint)
	}
	if cmd != `["api"]` {
		t.Errorf(`CMD %s, want ["api"]`, cmd)
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", `-ldflags "-s -w"`,
		"--mount=type=cache,target=/go/pkg/mod", "--mount=type=cache,target=/root/.cache/go-build"} {
		if !strings.Contains(text, want) {
			t.Errorf("Dockerfile lacks %s", want)
		}
	}
	for bin, pkg := range imageBinaries {
		if !strings.Contains(text, pkg) || !strings.Contains(text, "/out/"+bin) {
			t.Errorf("Dockerfile does not build %s into /%s", pkg, bin)
		}
		if st, err := os.Stat(filepath.Join(repoRoot, pkg)); err != nil || !st.IsDir() {
			t.Errorf("%s: package directory missing", pkg)
		}
	}

	ignore, err := os.ReadFile(filepath.Join(repoRoot, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Fields(string(ignore))
	for _, want := range []string{".git", "bin/", ".data/"} {
		if !slices.Contains(lines, want) {
			t.Errorf(".dockerignore lacks %s", want)
		}
	}
	for _, line := range lines {
		for _, needed := range []string{"go.mod", "go.sum", "cmd", "cmd/", "deploy", "deploy/", "*.go", "deploy/healthcheck"} {
			if line == needed {
				t.Errorf(".dockerignore excludes %s, which the build needs", line)
			}
		}
	}
}

// imageBinaries are the executables in the image (name -> package), as compose and the
// manifests invoke them.
var imageBinaries = map[string]string{
	"booking":        "./cmd/booking",
	"twilio-sandbox": "./cmd/twilio-sandbox",
	"healthcheck":    "./deploy/healthcheck",
}

func goModGoVersion(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go\s+(\S+)`).FindStringSubmatch(string(data))
	if m == nil {
		t.Fatal("go.mod has no go line")
	}
	return m[1]
}

var versionTag = regexp.MustCompile(`^v?[0-9]+(\.[0-9]+)*([-.+][0-9A-Za-z.-]+)?$`)

// checkPinned fails image references without a tag or digest, with :latest, and - unless
// anyTag - with a tag that is not a version (distroless's nonroot variant tag is allowed).
func checkPinned(t *testing.T, where, image string, anyTag bool) {
	t.Helper()
	if image == "" {
		t.Errorf("%s: no image", where)
		return
	}
	if strings.Contains(image, "@sha256:") {
		return
	}
	slash := strings.LastIndex(image, "/")
	colon := strings.LastIndex(image, ":")
	if colon < slash+1 {
		t.Errorf("%s: image %s has no tag", where, image)
		return
	}
	tag := image[colon+1:]
	switch {
	case tag == "latest" || tag == "":
		t.Errorf("%s: image %s is not pinned", where, image)
	case anyTag:
	case strings.HasPrefix(image, "gcr.io/distroless/") && (tag == "nonroot" || strings.HasSuffix(tag, "-nonroot")):
	case !versionTag.MatchString(tag):
		t.Errorf("%s: image %s: tag %q is not a version", where, image, tag)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TestConfigVarsParsed guards the source parsing the other tests rely on.
func TestConfigVarsParsed(t *testing.T) {
	vars := readConfigVars(t)
	for name := range vars.required {
		if !vars.names[name] {
			t.Errorf("required %s missing from the variable set", name)
		}
	}
	t.Logf("config.go reads %d variables; required: %v", len(vars.names), sortedKeys(vars.required))
}
