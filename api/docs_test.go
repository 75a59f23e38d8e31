package api

import (
	"io/fs"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/clinicbook/booking/web"
)

// docsBuiltWeb is a built web app as far as the API reference needs it: what the build copies
// from swagger-ui-dist into dist/docs/.
func docsBuiltWeb() fs.FS {
	return fstest.MapFS{
		"index.html":                            {Data: []byte("<!doctype html><title>Clinic</title>")},
		"docs/swagger-ui-bundle.js":             {Data: []byte("var SwaggerUIBundle = function () {};")},
		"docs/swagger-ui.css":                   {Data: []byte(".swagger-ui{color:#3b4151}")},
		"docs/swagger-ui-bundle.js.LICENSE.txt": {Data: []byte("licences")},
		"docs/nested/deep.js":                   {Data: []byte("deep")},
	}
}

func requireDocsHeaders(t *testing.T, w interface{ Header() http.Header }, what string) {
	t.Helper()
	h := w.Header()
	require.Equal(t, docsCSP, h.Get("Content-Security-Policy"), what)
	require.Equal(t, "DENY", h.Get("X-Frame-Options"), what)
	require.Equal(t, "nosniff", h.Get("X-Content-Type-Options"), "%s: the common security headers stay", what)
	require.Equal(t, "no-cache", h.Get("Cache-Control"), what)
	require.NotEmpty(t, h.Get("ETag"), what)
}

func TestDocsCSPIsStrict(t *testing.T) {
	directives := map[string]string{}
	for _, d := range strings.Split(docsCSP, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		directives[name] = value
	}
	require.Equal(t, "'none'", directives["default-src"])
	require.Equal(t, "'self'", directives["script-src"], "no inline script, no eval, nothing from elsewhere")
	require.Equal(t, "'self'", directives["style-src"], "no inline style")
	require.Equal(t, "'self'", directives["connect-src"])
	require.Equal(t, "'self' data:", directives["img-src"], "data: for Swagger UI's icons only")
	require.Equal(t, "'none'", directives["frame-ancestors"])
	require.Equal(t, "'none'", directives["base-uri"])
	require.NotContains(t, docsCSP, "unsafe")
	require.NotContains(t, docsCSP, "http")
}

func TestDocsPageUsesOnlyItsOwnFiles(t *testing.T) {
	quietLogs(t)
	h := testHandler()
	w := serve(t, h, http.MethodGet, "/docs", "")
	require.Equal(t, http.StatusOK, w.Code, "%s", w.Body)
	require.Equal(t, "text/html; charset=utf-8", w.Header().Get("Content-Type"))
	requireDocsHeaders(t, w, "GET /docs")
	page := w.Body.String()
	require.True(t, strings.HasPrefix(page, "<!DOCTYPE html>"))
	require.Contains(t, page, `<div id="swagger-ui"></div>`)
	require.NotContains(t, page, "<title>Clinic</title>", "the reference, not the app")

	// Every script is a file (the CSP refuses inline ones), and nothing comes from elsewhere:
	// each src and href is a path on this origin, and it answers with the type it must have.
	require.NotRegexp(t, `<script[^>]*>[^<]`, page, "an inline script")
	require.NotContains(t, page, "<style")
	require.NotContains(t, page, "style=")
	refs := regexp.MustCompile(`(src|href)="([^"]*)"`).FindAllStringSubmatch(page, -1)
	wantType := map[string]string{
		"/docs/swagger-ui.css":       "text/css; charset=utf-8",
		"/docs/swagger-ui-bundle.js": "text/javascript; charset=utf-8",
		"/docs/init.js":              "text/javascript; charset=utf-8",
		"/openapi.yaml":              "application/yaml",
	}
	var seen []string
	for _, m := range refs {
		ref := m[2]
		seen = append(seen, ref)
		require.True(t, strings.HasPrefix(ref, "/") && !strings.HasPrefix(ref, "//"), "%s is not a path on this origin", ref)
		want, ok := wantType[ref]
		require.True(t, ok, "the page refers to %s, which this test does not know", ref)
		a := serve(t, h, http.MethodGet, ref, "")
		require.Equal(t, http.StatusOK, a.Code, ref)
		require.Equal(t, want, a.Header().Get("Content-Type"), ref)
	}
	require.ElementsMatch(t, []string{"/docs/swagger-ui.css", "/docs/swagger-ui-bundle.js", "/docs/init.js", "/openapi.yaml"}, seen)

	// The start script renders this API's document and sends it nowhere else.
	w = serve(t, h, http.MethodGet, "/docs/init.js", "")
	requireDocsHeaders(t, w, "GET /docs/init.js")
	require.Contains(t, w.Body.String(), `url: "/openapi.yaml"`)
	require.Contains(t, w.Body.String(), `dom_id: "#swagger-ui"`)
	require.Contains(t, w.Body.String(), "validatorUrl: null")
	require.Contains(t, w.Body.String(), "req.url = window.location.origin", "Try it out calls the page's own origin")
}

func TestDocsFiles(t *testing.T) {
	quietLogs(t)
	h := testHandler()

	// The build's files are served as they are, revalidated against their ETag.
	w := serve(t, h, http.MethodGet, "/docs/swagger-ui-bundle.js", "")
	require.Equal(t, http.StatusOK, w.Code)
	require.Equal(t, "var SwaggerUIBundle = function () {};", w.Body.String())
	requireDocsHeaders(t, w, "GET /docs/swagger-ui-bundle.js")
	w2 := serve(t, h, http.MethodGet, "/docs/swagger-ui-bundle.js", "", "If-None-Match", w.Header().Get("ETag"))
	require.Equal(t, http.StatusNotModified, w2.Code)
	require.Empty(t, w2.Body.String())
	w = serve(t, h, http.MethodGet, "/docs/swagger-ui-bundle.js.LICENSE.txt", "")
	require.Equal(t, "text/plain; charset=utf-8", w.Header().Get("Content-Type"))

	// Anything else under /docs is the router's 404, never the app's HTML; the page and its
	// files answer GET only.
	for _, path := range []string{"/docs/nope.js", "/docs/nested", "/docs/nested/deep.js", "/docs/", "/docs/index.html"} {
		w := serve(t, h, http.MethodGet, path, "")
		require.Equal(t, http.StatusNotFound, w.Code, path)
		require.Contains(t, decodeProblem(t, w).Detail, "no route", path)
		require.NotContains(t, w.Body.String(), "Clinic", path)
	}
	for _, c := range [][2]string{{http.MethodHead, "/docs"}, {http.MethodPost, "/docs"}, {http.MethodDelete, "/docs/init.js"}} {
		w := serve(t, h, c[0], c[1], "")
		require.Equal(t, http.StatusMethodNotAllowed, w.Code, "%s %s", c[0], c[1])
		decodeProblem(t, w)
	}
}

func TestDocsNotBuilt(t *testing.T) {
	quietLogs(t)
	// What web.Dist holds before a build, an app built without the reference, and no app.
	unbuilt := fstest.MapFS{"robots.txt": {Data: []byte("User-agent: *\n")}}
	appOnly := fstest.MapFS{"index.html": {Data: []byte("<!doctype html><title>Clinic</title>")}, "docs/swagger-ui.css": {Data: []byte("x")}}
	for name, app := range map[string]fs.FS{"unbuilt": unbuilt, "no reference": appOnly, "no app at all": nil} {
		h := (&Server{Metrics: NewRegistry(nil), Web: app}).Handler()
		w := serve(t, h, http.MethodGet, "/docs", "")
		require.Equal(t, http.StatusServiceUnavailable, w.Code, name)
		require.Equal(t, "text/plain; charset=utf-8", w.Header().Get("Content-Type"), name)
		require.Equal(t, "the API reference is not built: run `make web` (or make dev)\n", w.Body.String(), name)
		w = serve(t, h, http.MethodGet, "/docs/swagger-ui-bundle.js", "")
		require.Equal(t, http.StatusNotFound, w.Code, name)
		// The document itself needs no build.
		require.Equal(t, http.StatusOK, serve(t, h, http.MethodGet, "/openapi.yaml", "").Code, name)
	}
}

// The built web app (make test runs make web first) carries Swagger UI's files for /docs.
func TestDocsBuildHasSwaggerUI(t *testing.T) {
	if _, err := fs.Stat(web.Dist, "index.html"); err != nil {
		t.Fatal("the web app is not built: run `make web` before go test (make test does)")
	}
	for _, name := range docsRequired {
		b, err := fs.ReadFile(web.Dist, docsDir+"/"+name)
		require.NoError(t, err, "the build must copy %s from swagger-ui-dist into web/dist/docs/", name)
		require.NotEmpty(t, b, name)
	}
	b, _ := fs.ReadFile(web.Dist, "docs/swagger-ui-bundle.js")
	require.Contains(t, string(b), "SwaggerUIBundle")
	require.Equal(t, http.StatusOK, serve(t, (&Server{Metrics: NewRegistry(nil), Web: web.Dist}).Handler(), http.MethodGet, "/docs", "").Code)
}
