package api

import (
	"bytes"
	"encoding/json"
	"io"
	"log"
	"log/slog"
	"maps"
	"mime"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gorilla/mux"
)

// loadOpenAPI is the embedded document as kin-openapi reads it. Loading resolves every $ref
// (one that leads nowhere fails here); Validate checks the document against OpenAPI 3: info
// with a title and version, every operation with at least one response, operationIds unique,
// each path's {parameters} declared as required path parameters and no others, schemas and
// examples well formed.
func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(openAPIYAML)
	if err != nil {
		t.Fatalf("openapi.yaml does not load: %v", err)
	}
	if err := doc.Validate(t.Context()); err != nil {
		t.Fatalf("openapi.yaml is not a valid OpenAPI document: %v", err)
	}
	return doc
}

// docOp is one documented operation.
type docOp struct {
	Method string // GET, POST, ...
	Path   string // as documented, with {params}
	Op     *openapi3.Operation
}

func (o docOp) String() string { return o.Method + " " + o.Path }

// operations lists the document's operations, sorted.
func operations(doc *openapi3.T) []docOp {
	var ops []docOp
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			ops = append(ops, docOp{Method: method, Path: path, Op: op})
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].String() < ops[j].String() })
	return ops
}

// secured reports whether the document says the operation needs a bearer token.
func secured(doc *openapi3.T, op *openapi3.Operation) bool {
	reqs := doc.Security
	if op.Security != nil {
		reqs = *op.Security
	}
	for _, req := range reqs {
		if _, ok := req["bearerAuth"]; ok {
			return true
		}
	}
	return false
}

// param finds the operation's parameter, path-level ones included.
func param(doc *openapi3.T, o docOp, in, name string) *openapi3.Parameter {
	if p := o.Op.Parameters.GetByInAndName(in, name); p != nil {
		return p
	}
	return doc.Paths.Value(o.Path).Parameters.GetByInAndName(in, name)
}

func TestOpenAPIDocumentIsWellFormed(t *testing.T) {
	doc := loadOpenAPI(t)
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi = %q, want 3.x", doc.OpenAPI)
	}
	if bearer := doc.Components.SecuritySchemes["bearerAuth"]; bearer == nil || bearer.Value.Type != "http" ||
		bearer.Value.Scheme != "bearer" || bearer.Value.BearerFormat != "JWT" {
		t.Errorf("components.securitySchemes.bearerAuth must be an http bearer JWT scheme")
	}
	problemSchema := doc.Components.Schemas["Problem"]
	if problemSchema == nil {
		t.Fatalf("components.schemas has no Problem")
	}
	for _, f := range []string{"type", "title", "status", "detail", "instance", "errors"} {
		if problemSchema.Value.Properties[f] == nil {
			t.Errorf("the Problem schema lacks %q", f)
		}
	}

	for _, o := range operations(doc) {
		if o.Op.Summary == "" {
			t.Errorf("%s has no summary", o)
		}
		responses := o.Op.Responses.Map()
		if len(responses) == 0 {
			t.Errorf("%s has no responses", o)
		}

		// JSON bodies reject unknown fields, as decode does.
		if rb := o.Op.RequestBody; rb != nil {
			if len(rb.Value.Content) == 0 {
				t.Errorf("%s: request body without content", o)
			}
			if mt := rb.Value.Content["application/json"]; mt != nil {
				if ap := mt.Schema.Value.AdditionalProperties.Has; ap == nil || *ap {
					t.Errorf("%s: the JSON request body schema must say additionalProperties: false", o)
				}
			}
		}

		// Every error answer is a problem (readyz answers its own JSON shape).
		for code, r := range responses {
			if !(strings.HasPrefix(code, "4") || strings.HasPrefix(code, "5")) || o.Path == "/readyz" {
				continue
			}
			content := r.Value.Content
			pj := content["application/problem+json"]
			if pj == nil || len(content) != 1 {
				t.Errorf("%s %s: want exactly application/problem+json, have %v", o, code, slices.Sorted(maps.Keys(content)))
				continue
			}
			if pj.Schema == nil || pj.Schema.Ref != "#/components/schemas/Problem" {
				t.Errorf("%s %s: the problem body must reference #/components/schemas/Problem", o, code)
			}
		}
		if secured(doc, o.Op) && responses["401"] == nil {
			t.Errorf("%s needs a token but documents no 401", o)
		}
	}

	// What the contract calls out.
	find := func(method, path string) (docOp, bool) {
		t.Helper()
		item := doc.Paths.Value(path)
		if item == nil || item.GetOperation(method) == nil {
			t.Errorf("%s %s is not documented", method, path)
			return docOp{}, false
		}
		return docOp{Method: method, Path: path, Op: item.GetOperation(method)}, true
	}
	hasResponse := func(method, path, code string) *openapi3.Response {
		t.Helper()
		o, ok := find(method, path)
		if !ok {
			return nil
		}
		r := o.Op.Responses.Value(code)
		if r == nil {
			t.Errorf("%s does not document %s", o, code)
			return nil
		}
		return r.Value
	}
	if r := hasResponse("POST", "/v1/auth/login", "429"); r != nil && r.Headers["Retry-After"] == nil {
		t.Errorf("POST /v1/auth/login 429 does not document Retry-After")
	}
	hasResponse("POST", "/v1/auth/register", "201")
	hasResponse("POST", "/v1/auth/logout", "204")
	hasResponse("POST", "/v1/bookings", "201")
	hasResponse("POST", "/v1/bookings", "409")
	hasResponse("POST", "/v1/bookings", "422")
	hasResponse("POST", "/v1/bookings/{id}/confirm", "409")
	hasResponse("POST", "/v1/webhooks/twilio/status", "403")
	hasResponse("POST", "/v1/webhooks/twilio/inbound", "403")

	needParam := func(method, path, in, name string) *openapi3.Parameter {
		t.Helper()
		o, ok := find(method, path)
		if !ok {
			return nil
		}
		p := param(doc, o, in, name)
		if p == nil {
			t.Errorf("%s does not document the %s parameter %s", o, in, name)
		}
		return p
	}
	needParam("POST", "/v1/bookings", "header", "Idempotency-Key")
	for _, cmd := range []string{"confirm", "cancel", "reschedule", "check-in"} {
		needParam("POST", "/v1/bookings/{id}/"+cmd, "header", "Idempotency-Key")
		hasResponse("POST", "/v1/bookings/{id}/"+cmd, "422")
	}
	if p := needParam("GET", "/v1/providers/{id}/availability", "query", "service_id"); p != nil && !p.Required {
		t.Errorf("availability's service_id must be required")
	}
	needParam("GET", "/v1/providers/{id}/availability", "query", "from")
	needParam("GET", "/v1/providers/{id}/availability", "query", "to")
	for _, q := range []string{"status", "provider_id", "from", "to", "cursor"} {
		needParam("GET", "/v1/bookings", "query", q)
	}
	if p := needParam("GET", "/v1/bookings", "query", "limit"); p != nil {
		s := p.Schema.Value
		if s.Min == nil || *s.Min != 1 || s.Max == nil || *s.Max != 100 {
			t.Errorf("limit must have minimum 1 and maximum 100")
		}
	}
	if p := needParam("GET", "/v1/bookings", "query", "status"); p != nil && len(p.Schema.Value.Enum) != 7 {
		t.Errorf("status enum = %v, want the seven statuses", p.Schema.Value.Enum)
	}
	for _, path := range []string{"/v1/webhooks/twilio/status", "/v1/webhooks/twilio/inbound"} {
		if p := needParam("POST", path, "header", "X-Twilio-Signature"); p != nil && !p.Required {
			t.Errorf("%s: X-Twilio-Signature must be required", path)
		}
		if o, ok := find("POST", path); ok && (o.Op.RequestBody == nil || o.Op.RequestBody.Value.Content["application/x-www-form-urlencoded"] == nil) {
			t.Errorf("%s: the body must be application/x-www-form-urlencoded", path)
		}
	}
}

// notDocumented are the router's routes that are not the API's: the web app (every other
// GET and HEAD) and the reference page's own scripts and stylesheet.
var notDocumented = map[string]bool{"/": true, "/docs/{file}": true}

// routerRoutes are the (method, path template) pairs the real router registers, from
// mux.Router.Walk, less notDocumented.
func routerRoutes(t *testing.T) []string {
	t.Helper()
	var routes []string
	err := testServer().router().Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		path, err := route.GetPathTemplate()
		if err != nil {
			t.Errorf("a route without a path template: %v", err)
			return nil
		}
		if notDocumented[path] {
			return nil
		}
		methods, err := route.GetMethods()
		if err != nil {
			t.Errorf("route %s names no methods: every route must", path)
			return nil
		}
		for _, m := range methods {
			routes = append(routes, m+" "+path)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk the router: %v", err)
	}
	sort.Strings(routes)
	return routes
}

func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	doc := loadOpenAPI(t)
	routes := routerRoutes(t)

	// The walk must see the routes we know are there, or it proves nothing.
	for _, want := range []string{"GET /healthz", "GET /readyz", "GET /openapi.yaml", "GET /docs", "POST /v1/bookings",
		"GET /v1/providers/{id}/availability", "POST /v1/auth/login", "GET /v1/me", "POST /codec/encode"} {
		if !slices.Contains(routes, want) {
			t.Errorf("the router's walk did not find %s; found %v", want, routes)
		}
	}

	registered := map[string]bool{}
	for _, r := range routes {
		if registered[r] {
			t.Errorf("%s is registered twice", r)
		}
		registered[r] = true
	}
	documented := map[string]bool{}
	for _, o := range operations(doc) {
		documented[o.String()] = true
		if !registered[o.String()] {
			t.Errorf("openapi.yaml documents %s, which the router does not register", o)
		}
	}
	for _, r := range routes {
		if !documented[r] {
			t.Errorf("the router registers %s, which openapi.yaml does not document", r)
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

// testServer has the real routes with no database, Temporal or accounts behind them, and a
// web build that holds the API reference's files.
func testServer() *Server {
	return &Server{Metrics: NewRegistry(nil), Web: docsBuiltWeb()}
}

func testHandler() http.Handler { return testServer().Handler() }

// TestOpenAPIRoutesAnswer asks every documented operation without a token or body: the router
// must route it, what answers must be documented and, for an error, a problem; and a token
// must be asked for (401 with WWW-Authenticate, which only the authentication gates send)
// exactly where the document says bearerAuth.
func TestOpenAPIRoutesAnswer(t *testing.T) {
	quietLogs(t)
	doc := loadOpenAPI(t)
	h := testHandler()
	placeholder := regexp.MustCompile(`\{[^}]+\}`)
	for _, o := range operations(doc) {
		path := placeholder.ReplaceAllString(o.Path, "00000000-0000-4000-8000-000000000000")
		var body io.Reader
		if o.Method == http.MethodPost || o.Method == http.MethodPut {
			body = strings.NewReader("")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(o.Method, path, body))
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

		gated := res.StatusCode == http.StatusUnauthorized && res.Header.Get("WWW-Authenticate") != ""
		if want := secured(doc, o.Op); gated != want {
			t.Errorf("%s: openapi.yaml says bearer auth %v, but without a token the router answers %d (WWW-Authenticate %q)",
				o, want, res.StatusCode, res.Header.Get("WWW-Authenticate"))
		}

		// Handlers may refuse (401 without a token, 403 without a Twilio signature, 500 with
		// no database): that still proves the route. Whatever they answer is documented or a
		// problem.
		if o.Op.Responses.Value(strconv.Itoa(res.StatusCode)) == nil && res.StatusCode != http.StatusInternalServerError {
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
	if _, err := openapi3.NewLoader().LoadFromData(rec.Body.Bytes()); err != nil {
		t.Errorf("the served document does not load: %v", err)
	}
}
