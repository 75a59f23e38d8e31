package api

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
)

// builtApp is a built app as Vite leaves it, under dist/ beside a file that must stay out of
// reach.
func builtApp(t *testing.T) fs.FS {
	t.Helper()
	root := fstest.MapFS{
		"dist/index.html":                {Data: []byte("<!doctype html><title>Clinic</title><script type=module src=/assets/index-3f2a.js></script>")},
		"dist/assets/index-3f2a.js":      {Data: []byte("console.log('app')")},
		"dist/assets/index-9c1b.css":     {Data: []byte("body{margin:0}")},
		"dist/robots.txt":                {Data: []byte("User-agent: *\nDisallow: /v1/\n")},
		"dist/favicon.svg":               {Data: []byte("<svg xmlns='http://www.w3.org/2000/svg'/>")},
		"secret.txt":                     {Data: []byte("TOP SECRET")},
		"dist/assets/nested/deep.txt":    {Data: []byte("deep")},
		"dist/docs/swagger-ui-bundle.js": {Data: []byte("var SwaggerUIBundle")},
		"dist/docs/swagger-ui.css":       {Data: []byte(".swagger-ui{}")},
	}
	sub, err := fs.Sub(root, "dist")
	require.NoError(t, err)
	return sub
}

func webHandler(app fs.FS) http.Handler {
	return (&Server{Metrics: NewRegistry(nil), Web: app}).Handler()
}

func requireAppHeaders(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	require.Equal(t, webAppCSP, w.Header().Get("Content-Security-Policy"))
	require.Contains(t, webAppCSP, "default-src 'self'")
	require.Contains(t, webAppCSP, "frame-ancestors 'none'")
	require.Equal(t, "nosniff", w.Header().Get("X-Content-Type-Options"), "the common security headers stay")
}

func TestWebAppServesFilesAndFallsBackToIndex(t *testing.T) {
	h := webHandler(builtApp(t))

	// The app's own routes are the app: index.html, checked again on every use.
	for _, path := range []string{"/", "/bookings/123", "/admin/providers/p-1/schedule", "/index.html", "/v1x", "/docsy"} {
		w := serve(t, h, http.MethodGet, path, "")
		require.Equal(t, http.StatusOK, w.Code, path)
		require.Contains(t, w.Body.String(), "<title>Clinic</title>", path)
		require.Equal(t, "text/html; charset=utf-8", w.Header().Get("Content-Type"), path)
		require.Equal(t, "no-cache", w.Header().Get("Cache-Control"), path)
		requireAppHeaders(t, w)
	}

	// Hashed assets are cached for good, with their own types.
	w := serve(t, h, http.MethodGet, "/assets/index-3f2a.js", "")
	require.Equal(t, http.StatusOK, w.Code)
	require.Equal(t, "console.log('app')", w.Body.String())
	require.Equal(t, "public, max-age=31536000, immutable", w.Header().Get("Cache-Control"))
	require.Contains(t, w.Header().Get("Content-Type"), "javascript")
	requireAppHeaders(t, w)
	w = serve(t, h, http.MethodGet, "/assets/index-9c1b.css", "")
	require.Equal(t, "public, max-age=31536000, immutable", w.Header().Get("Cache-Control"))
	require.Contains(t, w.Header().Get("Content-Type"), "text/css")

	// Other files are served as they are, but revalidated.
	w = serve(t, h, http.MethodGet, "/robots.txt", "")
	require.Equal(t, http.StatusOK, w.Code)
	require.Equal(t, "User-agent: *\nDisallow: /v1/\n", w.Body.String())
	require.Equal(t, "no-cache", w.Header().Get("Cache-Control"))
	w = serve(t, h, http.MethodGet, "/favicon.svg", "")
	require.Equal(t, "image/svg+xml", w.Header().Get("Content-Type"))

	// HEAD answers like GET, without a body.
	w = serve(t, h, http.MethodHead, "/bookings/123", "")
	require.Equal(t, http.StatusOK, w.Code)
	require.Empty(t, w.Body.String())
	require.Equal(t, "no-cache", w.Header().Get("Cache-Control"))

	// Under /assets/ only files answer: a directory or a missing file is a 404, never the
	// app's HTML in a script's place.
	w = serve(t, h, http.MethodGet, "/assets/nested", "")
	require.Equal(t, http.StatusNotFound, w.Code, "%s", w.Body)
	w = serve(t, h, http.MethodGet, "/assets/index-0000.js", "")
	require.Equal(t, http.StatusNotFound, w.Code, "a stale page's old asset is not answered with HTML")
	decodeProblem(t, w)
}

func TestWebAppLeavesTheAPIAlone(t *testing.T) {
	quietLogs(t)
	h := webHandler(builtApp(t))

	// Unknown API paths are still the API's problem+json 404, never the app.
	for _, path := range []string{"/v1/nope", "/v1", "/v1/", "/codec/nope", "/docs/nope", "/healthz/x", "/metrics", "/openapi.yaml/x"} {
		w := serve(t, h, http.MethodGet, path, "")
		require.Equal(t, http.StatusNotFound, w.Code, path)
		p := decodeProblem(t, w)
		require.Contains(t, p.Detail, "no route", path)
		require.Empty(t, w.Header().Get("Content-Security-Policy"), path)
	}
	// Wrong methods on API routes are still 405.
	for _, c := range [][2]string{{http.MethodDelete, "/v1/services"}, {http.MethodGet, "/v1/auth/login"}, {http.MethodHead, "/docs"}, {http.MethodPost, "/healthz"}} {
		w := serve(t, h, c[0], c[1], "")
		require.Equal(t, http.StatusMethodNotAllowed, w.Code, "%s %s", c[0], c[1])
		decodeProblem(t, w)
	}
	// The operations routes and the documents are untouched.
	w := serve(t, h, http.MethodGet, "/openapi.yaml", "")
	require.Equal(t, http.StatusOK, w.Code)
	require.Equal(t, "application/yaml", w.Header().Get("Content-Type"))
	require.Equal(t, openAPIYAML, w.Body.Bytes())
	w = serve(t, h, http.MethodGet, "/docs", "")
	require.Equal(t, http.StatusOK, w.Code)
	require.Contains(t, w.Body.String(), "<!DOCTYPE html>")
	require.NotContains(t, w.Body.String(), "<title>Clinic</title>")
	w = serve(t, h, http.MethodGet, "/healthz", "")
	require.Equal(t, http.StatusOK, w.Code)
	require.JSONEq(t, `{"status":"ok"}`, w.Body.String())

	// Other methods on the app's paths are refused as problems.
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		w := serve(t, h, m, "/bookings/123", "{}")
		require.Equal(t, http.StatusMethodNotAllowed, w.Code, m)
		decodeProblem(t, w)
	}
}

func TestWebAppNotBuilt(t *testing.T) {
	// What web.Dist holds before a build: robots.txt and no index.html.
	unbuilt := fstest.MapFS{"robots.txt": {Data: []byte("User-agent: *\nDisallow: /v1/\n")}}
	for name, app := range map[string]fs.FS{"no index.html": unbuilt, "no app at all": nil} {
		h := webHandler(app)
		for _, path := range []string{"/", "/bookings/123"} {
			w := serve(t, h, http.MethodGet, path, "")
			require.Equal(t, http.StatusServiceUnavailable, w.Code, "%s %s", name, path)
			require.Equal(t, "text/plain; charset=utf-8", w.Header().Get("Content-Type"))
			require.Equal(t, "the web app is not built: run `make web` (or make dev)\n", w.Body.String())
		}
		// The API does not need the app.
		require.Equal(t, http.StatusOK, serve(t, h, http.MethodGet, "/healthz", "").Code, name)
	}
	w := serve(t, webHandler(unbuilt), http.MethodGet, "/robots.txt", "")
	require.Equal(t, http.StatusOK, w.Code)
	require.Contains(t, w.Body.String(), "Disallow: /v1/")
}

func TestWebAppPathsCannotEscapeTheApp(t *testing.T) {
	h := webHandler(builtApp(t))
	for _, target := range []string{
		"/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt", "/%2e%2e%2fsecret.txt",
		"/assets/../../secret.txt", "/assets/..%2f..%2fsecret.txt", "/..\\secret.txt", "/../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd",
		"//secret.txt", "/./secret.txt",
	} {
		// Follow the router's redirects to the cleaned path, as a browser would.
		w := serve(t, h, http.MethodGet, target, "")
		for i := 0; i < 3 && w.Code == http.StatusMovedPermanently; i++ {
			w = serve(t, h, http.MethodGet, w.Header().Get("Location"), "")
		}
		require.NotContains(t, w.Body.String(), "TOP SECRET", target)
		require.NotContains(t, w.Body.String(), "root:", target)
		require.Contains(t, []int{http.StatusOK, http.StatusNotFound, http.StatusBadRequest}, w.Code, "%s: %d %s", target, w.Code, w.Body)
		if w.Code == http.StatusOK {
			require.Contains(t, w.Body.String(), "<title>Clinic</title>", "%s: only the app answers", target)
		}
	}
	// Asked directly, below the router, the handler keeps to the app too.
	srv := &Server{Web: builtApp(t)}
	for _, p := range []string{"/../secret.txt", "../secret.txt", "/assets/../../secret.txt"} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.URL.Path = p
		w := httptest.NewRecorder()
		srv.serveWebApp(w, r)
		require.NotContains(t, w.Body.String(), "TOP SECRET", p)
		require.True(t, strings.Contains(w.Body.String(), "<title>Clinic</title>"), "%s: %s", p, w.Body)
	}
}
