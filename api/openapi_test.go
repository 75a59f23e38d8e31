package api

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"html/template"
	"io"
	"log"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// specOp is one documented operation.
type specOp struct {
	Method string // GET, POST, ...
	Path   string // as documented, with {params}
	Op     map[string]any
	Item   map[string]any
}

func (o specOp) String() string { return o.Method + " " + o.Path }

type openAPISpec struct {
	Doc map[string]any
	Ops []specOp
}

var specMethods = []string{"get", "put", "post", "patch", "delete", "head", "options", "trace"}

func loadOpenAPISpec(t *testing.T) openAPISpec {
	t.Helper()
	var doc map[string]any
	if err := yaml.Unmarshal(openAPIYAML, &doc); err != nil {
		t.Fatalf("openapi.yaml does not parse: %v", err)
	}
	spec := openAPISpec{Doc: doc}
	paths, ok := doc["paths"].(map[string]any)
	if !ok || len(paths) == 0 {
		t.Fatalf("openapi.yaml has no paths")
	}
	for path, v := range paths {
		item, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("path %s is not a mapping", path)
		}
		for _, m := range specMethods {
			if op, ok := item[m].(map[string]any); ok {
				spec.Ops = append(spec.Ops, specOp{Method: strings.ToUpper(m), Path: path, Op: op, Item: item})
			}
		}
	}
	sort.Slice(spec.Ops, func(i, j int) bool { return spec.Ops[i].String() < spec.Ops[j].String() })
	return spec
}

// lookup follows a local $ref; it fails the test when the target is missing.
func (s openAPISpec) lookup(t *testing.T, v map[string]any) map[string]any {
	t.Helper()
	for range 10 {
		ref, ok := v["$ref"].(string)
		if !ok {
			return v
		}
		if !strings.HasPrefix(ref, "#/") {
			t.Fatalf("$ref %q is not local", ref)
		}
		var cur any = s.Doc
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			m, ok := cur.(map[string]any)
			if !ok {
				t.Fatalf("$ref %q does not resolve", ref)
			}
			cur = m[part]
		}
		target, ok := cur.(map[string]any)
		if !ok {
			t.Fatalf("$ref %q does not resolve", ref)
		}
		v = target
	}
	t.Fatalf("$ref chain too long")
	return nil
}

func (s openAPISpec) find(method, path string) (specOp, bool) {
	for _, o := range s.Ops {
		if o.Method == method && o.Path == path {
			return o, true
		}
	}
	return specOp{}, false
}

// parameters lists the operation's parameters, path-level ones included, resolved.
func (s openAPISpec) parameters(t *testing.T, o specOp) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, src := range []any{o.Item["parameters"], o.Op["parameters"]} {
		list, _ := src.([]any)
		for _, p := range list {
			pm, ok := p.(map[string]any)
			if !ok {
				t.Fatalf("%s: a parameter is not a mapping", o)
			}
			out = append(out, s.lookup(t, pm))
		}
	}
	return out
}

// secured reports whether the operation needs a bearer token.
func (s openAPISpec) secured(o specOp) bool {
	sec, has := o.Op["security"]
	if !has {
		sec = s.Doc["security"]
	}
	list, _ := sec.([]any)
	for _, req := range list {
		if m, ok := req.(map[string]any); ok {
			if _, ok := m["bearerAuth"]; ok {
				return true
			}
		}
	}
	return false
}

func TestOpenAPIDocumentIsWellFormed(t *testing.T) {
	spec := loadOpenAPISpec(t)
	if v, _ := spec.Doc["openapi"].(string); !strings.HasPrefix(v, "3.") {
		t.Fatalf("openapi = %q, want 3.x", v)
	}
	info, _ := spec.Doc["info"].(map[string]any)
	if info["title"] == nil || info["version"] == nil {
		t.Errorf("info needs a title and a version")
	}
	comps, _ := spec.Doc["components"].(map[string]any)
	schemes, _ := comps["securitySchemes"].(map[string]any)
	bearer, _ := schemes["bearerAuth"].(map[string]any)
	if bearer["type"] != "http" || bearer["scheme"] != "bearer" || bearer["bearerFormat"] != "JWT" {
		t.Errorf("components.securitySchemes.bearerAuth = %v, want an http bearer JWT scheme", bearer)
	}
	schemas, _ := comps["schemas"].(map[string]any)
	problemSchema, _ := schemas["Problem"].(map[string]any)
	props, _ := problemSchema["properties"].(map[string]any)
	for _, f := range []string{"type", "title", "status", "detail", "instance", "errors"} {
		if _, ok := props[f]; !ok {
			t.Errorf("the Problem schema lacks %q", f)
		}
	}

	// Every $ref anywhere resolves.
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if _, ok := x["$ref"]; ok {
				spec.lookup(t, x)
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(spec.Doc)

	paramRE := regexp.MustCompile(`\{([^}]+)\}`)
	opIDs := map[string]string{}
	for _, o := range spec.Ops {
		responses, _ := o.Op["responses"].(map[string]any)
		if len(responses) == 0 {
			t.Errorf("%s has no responses", o)
		}
		if s, _ := o.Op["summary"].(string); s == "" {
			t.Errorf("%s has no summary", o)
		}
		if id, _ := o.Op["operationId"].(string); id != "" {
			if prev, dup := opIDs[id]; dup {
				t.Errorf("operationId %q used by %s and %s", id, prev, o)
			}
			opIDs[id] = o.String()
		}

		// Path parameters are declared, and only those.
		declared := map[string]bool{}
		for _, p := range spec.parameters(t, o) {
			if p["in"] == "path" {
				declared[p["name"].(string)] = true
				if p["required"] != true {
					t.Errorf("%s: path parameter %v must be required", o, p["name"])
				}
			}
		}
		for _, m := range paramRE.FindAllStringSubmatch(o.Path, -1) {
			if !declared[m[1]] {
				t.Errorf("%s: path parameter {%s} is not declared", o, m[1])
			}
			delete(declared, m[1])
		}
		for name := range declared {
			t.Errorf("%s: declares path parameter %q that is not in the path", o, name)
		}

		// JSON bodies reject unknown fields, as decode does.
		if rb, ok := o.Op["requestBody"].(map[string]any); ok {
			content, _ := spec.lookup(t, rb)["content"].(map[string]any)
			if len(content) == 0 {
				t.Errorf("%s: request body without content", o)
			}
			if mt, ok := content["application/json"].(map[string]any); ok {
				schema := spec.lookup(t, mt["schema"].(map[string]any))
				if schema["additionalProperties"] != false {
					t.Errorf("%s: the JSON request body schema must say additionalProperties: false", o)
				}
			}
		}

		// Every error answer is a problem (readyz answers its own JSON shape).
		for code, r := range responses {
			if !(strings.HasPrefix(code, "4") || strings.HasPrefix(code, "5")) || o.Path == "/readyz" {
				continue
			}
			resp := spec.lookup(t, r.(map[string]any))
			content, _ := resp["content"].(map[string]any)
			pj, ok := content["application/problem+json"].(map[string]any)
			if !ok || len(content) != 1 {
				t.Errorf("%s %s: want exactly application/problem+json, have %v", o, code, keys(content))
				continue
			}
			if schema, _ := pj["schema"].(map[string]any); schema["$ref"] != "#/components/schemas/Problem" {
				t.Errorf("%s %s: the problem body must reference #/components/schemas/Problem", o, code)
			}
		}
		if spec.secured(o) {
			if _, ok := responses["401"]; !ok {
				t.Errorf("%s needs a token but documents no 401", o)
			}
		}
	}

	// What the contract calls out.
	hasResponse := func(method, path, code string) map[string]any {
		t.Helper()
		o, ok := spec.find(method, path)
		if !ok {
			t.Errorf("%s %s is not documented", method, path)
			return nil
		}
		r, ok := o.Op["responses"].(map[string]any)[code].(map[string]any)
		if !ok {
			t.Errorf("%s %s does not document %s", method, path, code)
			return nil
		}
		return spec.lookup(t, r)
	}
	if r := hasResponse("POST", "/v1/auth/login", "429"); r != nil {
		headers, _ := r["headers"].(map[string]any)
		if _, ok := headers["Retry-After"]; !ok {
			t.Errorf("POST /v1/auth/login 429 does not document Retry-After")
		}
	}
	hasResponse("POST", "/v1/auth/register", "201")
	hasResponse("POST", "/v1/auth/logout", "204")
	hasResponse("POST", "/v1/bookings", "201")
	hasResponse("POST", "/v1/bookings", "409")
	hasResponse("POST", "/v1/bookings", "422")
	hasResponse("POST", "/v1/bookings/{id}/confirm", "409")
	hasResponse("POST", "/v1/webhooks/twilio/status", "403")
	hasResponse("POST", "/v1/webhooks/twilio/inbound", "403")

	param := func(method, path, in, name string) map[string]any {
		t.Helper()
		o, ok := spec.find(method, path)
		if !ok {
			return nil
		}
		for _, p := range spec.parameters(t, o) {
			if p["in"] == in && p["name"] == name {
				return p
			}
		}
		t.Errorf("%s %s does not document the %s parameter %s", method, path, in, name)
		return nil
	}
	param("POST", "/v1/bookings", "header", "Idempotency-Key")
	for _, cmd := range []string{"confirm", "cancel", "reschedule", "check-in"} {
		param("POST", "/v1/bookings/{id}/"+cmd, "header", "Idempotency-Key")
		hasResponse("POST", "/v1/bookings/{id}/"+cmd, "422")
	}
	if p := param("GET", "/v1/providers/{id}/availability", "query", "service_id"); p != nil && p["required"] != true {
		t.Errorf("availability's service_id must be required")
	}
	param("GET", "/v1/providers/{id}/availability", "query", "from")
	param("GET", "/v1/providers/{id}/availability", "query", "to")
	for _, q := range []string{"status", "provider_id", "from", "to", "cursor"} {
		param("GET", "/v1/bookings", "query", q)
	}
	if p := param("GET", "/v1/bookings", "query", "limit"); p != nil {
		schema, _ := p["schema"].(map[string]any)
		if schema["minimum"] != 1 || schema["maximum"] != 100 {
			t.Errorf("limit schema = %v, want minimum 1 and maximum 100", schema)
		}
	}
	if p := param("GET", "/v1/bookings", "query", "status"); p != nil {
		schema := spec.lookup(t, p["schema"].(map[string]any))
		enum, _ := schema["enum"].([]any)
		if len(enum) != 7 {
			t.Errorf("status enum = %v, want the seven statuses", enum)
		}
	}
	for _, path := range []string{"/v1/webhooks/twilio/status", "/v1/webhooks/twilio/inbound"} {
		if p := param("POST", path, "header", "X-Twilio-Signature"); p != nil && p["required"] != true {
			t.Errorf("%s: X-Twilio-Signature must be required", path)
		}
		if o, ok := spec.find("POST", path); ok {
			rb, _ := o.Op["requestBody"].(map[string]any)
			content, _ := rb["content"].(map[string]any)
			if _, ok := content["application/x-www-form-urlencoded"]; !ok {
				t.Errorf("%s: the body must be application/x-www-form-urlencoded", path)
			}
		}
	}
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// srcRoute is a route as registered in the package's source.
type srcRoute struct {
	Method string
	Path   string
	Authed bool
	Pos    string
}

func (r srcRoute) String() string { return r.Method + " " + r.Path }

// sourceRoutes reads the routes the package registers, from its source: calls to the
// public/authed helpers of Server.Handler (and to whatever authRoutes names them), which are
// under /v1, and r.HandleFunc/r.Handle(...).Methods(...) calls with a literal path.
func sourceRoutes(t *testing.T) []srcRoute {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var parsed []*ast.File
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatalf("parse %s: %v", name, err)
		}
		parsed = append(parsed, f)
	}

	// helper name -> whether it registers an authenticated route.
	helpers := map[string]bool{"public": false, "authed": true}
	foundAuthRoutes := false
	for _, f := range parsed {
		for _, decl := range f.Decls {
			fd, ok := decl.(*ast.FuncDecl)
			if !ok || fd.Name.Name != "authRoutes" {
				continue
			}
			foundAuthRoutes = true
			var names []string
			for _, field := range fd.Type.Params.List {
				for _, n := range field.Names {
					names = append(names, n.Name)
				}
			}
			// Handler calls s.authRoutes(public, authed).
			if len(names) >= 2 {
				helpers[names[0]], helpers[names[1]] = false, true
			}
		}
	}
	if !foundAuthRoutes {
		t.Errorf("no authRoutes function found in the package source")
	}

	literal := func(e ast.Expr) (string, bool) {
		lit, ok := e.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(lit.Value)
		return s, err == nil
	}
	method := func(e ast.Expr) (string, bool) {
		if s, ok := literal(e); ok {
			return strings.ToUpper(s), true
		}
		sel, ok := e.(*ast.SelectorExpr)
		if !ok {
			return "", false
		}
		if x, ok := sel.X.(*ast.Ident); !ok || x.Name != "http" || !strings.HasPrefix(sel.Sel.Name, "Method") {
			return "", false
		}
		return strings.ToUpper(strings.TrimPrefix(sel.Sel.Name, "Method")), true
	}
	isRequireAuth := func(e ast.Expr) bool {
		call, ok := e.(*ast.CallExpr)
		if !ok {
			return false
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		// requireCodecAuth takes the bearer token too (or the codec session cookie).
		return ok && (sel.Sel.Name == "requireAuth" || sel.Sel.Name == "requireCodecAuth")
	}

	var routes []srcRoute
	for _, f := range parsed {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			pos := fset.Position(call.Pos()).String()
			switch fun := call.Fun.(type) {
			case *ast.Ident: // public("/providers", h, http.MethodGet)
				authed, isHelper := helpers[fun.Name]
				if !isHelper || len(call.Args) != 3 {
					return true
				}
				path, ok1 := literal(call.Args[0])
				m, ok2 := method(call.Args[2])
				if ok1 && ok2 {
					routes = append(routes, srcRoute{Method: m, Path: "/v1" + path, Authed: authed, Pos: pos})
				}
			case *ast.SelectorExpr: // r.HandleFunc("/healthz", h).Methods(http.MethodGet)
				if fun.Sel.Name != "Methods" {
					return true
				}
				inner, ok := fun.X.(*ast.CallExpr)
				if !ok || len(inner.Args) < 2 {
					return true
				}
				isel, ok := inner.Fun.(*ast.SelectorExpr)
				if !ok || (isel.Sel.Name != "HandleFunc" && isel.Sel.Name != "Handle") {
					return true
				}
				recv, ok := isel.X.(*ast.Ident)
				if !ok {
					return true
				}
				prefix := ""
				switch recv.Name {
				case "r":
				case "v1":
					prefix = "/v1"
				default:
					t.Errorf("%s: a route on router %q, whose prefix this test does not know", pos, recv.Name)
					return true
				}
				path, ok := literal(inner.Args[0])
				if !ok {
					return true
				}
				for _, a := range call.Args {
					if m, ok := method(a); ok {
						routes = append(routes, srcRoute{Method: m, Path: prefix + path, Authed: isRequireAuth(inner.Args[1]), Pos: pos})
					}
				}
			}
			return true
		})
	}
	sort.Slice(routes, func(i, j int) bool { return routes[i].String() < routes[j].String() })
	return routes
}

func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	spec := loadOpenAPISpec(t)
	routes := sourceRoutes(t)

	// The source reader must see the routes we know are there, or it proves nothing.
	for _, want := range []string{"GET /healthz", "GET /docs", "POST /v1/bookings", "GET /v1/providers/{id}/availability", "POST /v1/auth/login", "GET /v1/me"} {
		found := false
		for _, r := range routes {
			found = found || r.String() == want
		}
		if !found {
			t.Errorf("the source reader did not find %s; found %v", want, routes)
		}
	}

	inSource := map[string]bool{}
	for _, r := range routes {
		if inSource[r.String()] {
			t.Errorf("%s (%s) is registered twice", r, r.Pos)
		}
		inSource[r.String()] = true
		o, ok := spec.find(r.Method, r.Path)
		if !ok {
			t.Errorf("%s (%s) is not in openapi.yaml", r, r.Pos)
			continue
		}
		if got := spec.secured(o); got != r.Authed {
			t.Errorf("%s: openapi.yaml says bearer auth %v, the code says %v", r, got, r.Authed)
		}
	}
	for _, o := range spec.Ops {
		if !inSource[o.String()] {
			t.Errorf("openapi.yaml documents %s, which the code does not register", o)
		}
	}
}

// quietLogs sends slog and log output to a buffer for the rest of the test, and shows it only
// when the test fails: the handlers below run with no database and panic on purpose.
func quietLogs(t *testing.T) {
	var buf bytes.Buffer
	oldSlog, oldOut, oldFlags := slog.Default(), log.Writer(), log.Flags()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	t.Cleanup(func() {
		slog.SetDefault(oldSlog)
		log.SetOutput(oldOut)
		log.SetFlags(oldFlags)
		if t.Failed() {
			t.Logf("server logs:\n%s", buf.String())
		}
	})
}

// testHandler is the real router with no database, Temporal or accounts behind it.
func testHandler() http.Handler {
	return (&Server{Metrics: NewRegistry(nil)}).Handler()
}

func TestOpenAPIRoutesExist(t *testing.T) {
	quietLogs(t)
	spec := loadOpenAPISpec(t)
	h := testHandler()
	placeholder := regexp.MustCompile(`\{[^}]+\}`)
	for _, o := range spec.Ops {
		path := placeholder.ReplaceAllString(o.Path, "00000000-0000-4000-8000-000000000000")
		var body io.Reader
		if o.Method == http.MethodPost || o.Method == http.MethodPut {
			body = strings.NewReader("")
		}
		req := httptest.NewRequest(o.Method, path, body)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		res := rec.Result()
		text := rec.Body.String()
		if res.StatusCode == http.StatusMethodNotAllowed {
			t.Errorf("%s: the router answers 405: %s", o, text)
			continue
		}
		if res.StatusCode == http.StatusNotFound && strings.Contains(text, "no route") {
			t.Errorf("%s: the router has no such route: %s", o, text)
			continue
		}
		// Handlers may refuse (401 without a token, 403 without a Twilio signature, 500 with
		// no database): that still proves the route. Whatever they answer is documented or a
		// problem.
		code := strconv.Itoa(res.StatusCode)
		responses := o.Op["responses"].(map[string]any)
		if _, documented := responses[code]; !documented && res.StatusCode != http.StatusInternalServerError {
			t.Errorf("%s answered %d without a token or body, which openapi.yaml does not list", o, res.StatusCode)
		}
		if res.StatusCode >= 400 && o.Path != "/readyz" {
			if mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type")); mt != "application/problem+json" {
				t.Errorf("%s: error %d answered as %q, not application/problem+json", o, res.StatusCode, mt)
			}
			var p map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p["status"] != float64(res.StatusCode) {
				t.Errorf("%s: error body %q is not a problem with status %d", o, text, res.StatusCode)
			}
		}
	}

	// And the router's own answer for what is not documented really is the "no route" one,
	// so the check above means something.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/no-such-thing", nil))
	if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "no route") {
		t.Errorf("an unknown path answered %d %q, want the router's 404 naming no route", rec.Code, rec.Body.String())
	}
}

func TestOpenAPIServed(t *testing.T) {
	quietLogs(t)
	rec := httptest.NewRecorder()
	testHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.yaml", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /openapi.yaml = %d", rec.Code)
	}
	if mt, _, _ := mime.ParseMediaType(rec.Header().Get("Content-Type")); mt != "application/yaml" {
		t.Errorf("GET /openapi.yaml Content-Type = %q, want application/yaml", rec.Header().Get("Content-Type"))
	}
	if !bytes.Equal(rec.Body.Bytes(), openAPIYAML) {
		t.Errorf("GET /openapi.yaml does not serve the embedded document")
	}
	var doc map[string]any
	if err := yaml.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Errorf("the served document does not parse: %v", err)
	}
}

func TestDocsPage(t *testing.T) {
	quietLogs(t)
	spec := loadOpenAPISpec(t)
	rec := httptest.NewRecorder()
	testHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/docs", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /docs = %d: %s", rec.Code, rec.Body.String())
	}
	if mt, _, _ := mime.ParseMediaType(rec.Header().Get("Content-Type")); mt != "text/html" {
		t.Errorf("GET /docs Content-Type = %q, want text/html", rec.Header().Get("Content-Type"))
	}
	page := rec.Body.String()
	if !strings.Contains(page, "<!DOCTYPE html>") || !strings.Contains(page, "</html>") {
		t.Errorf("GET /docs is not a whole HTML page")
	}
	// Self-contained: nothing is loaded from elsewhere.
	for _, bad := range []string{"<script", "<link", "src=\"http", "@import"} {
		if strings.Contains(page, bad) {
			t.Errorf("GET /docs contains %q; it must be self-contained", bad)
		}
	}
	for _, o := range spec.Ops {
		if !strings.Contains(page, template.HTMLEscapeString(o.Path)) {
			t.Errorf("GET /docs does not mention %s", o.Path)
		}
		if s, _ := o.Op["summary"].(string); !strings.Contains(page, template.HTMLEscapeString(s)) {
			t.Errorf("GET /docs does not show the summary of %s: %q", o, s)
		}
	}
	for _, want := range []string{"Bearer token (JWT)", "None (public)", "Idempotency-Key", "X-Twilio-Signature", "service_id", "Retry-After", "application/problem+json", "application/x-www-form-urlencoded", "provider_id", "duration_minutes", "Problem"} {
		if !strings.Contains(page, want) {
			t.Errorf("GET /docs does not mention %q", want)
		}
	}
}
