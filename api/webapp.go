package api

import (
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/gorilla/mux"

	"github.com/clinicbook/booking/domain"
)

// apiPaths are the paths that belong to the API and the operations routes. The web app's
// fallback never answers under them, so that an unknown /v1 path stays the API's problem+json
// 404 and a wrong method its 405.
var apiPaths = []string{"/v1", "/codec", "/docs", "/openapi.yaml", "/healthz", "/readyz", "/metrics"}

func isAPIPath(p string) bool {
	for _, prefix := range apiPaths {
		if p == prefix || strings.HasPrefix(p, prefix+"/") {
			return true
		}
	}
	return false
}

// webAppCSP lets the app load only its own files and talk only to its own origin: an injected
// script could neither run from elsewhere nor send what it reads elsewhere.
const webAppCSP = "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; " +
	"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// The build names every file under assets/ by its content's hash, so a changed file is a new
// name and the old one can be cached for good; everything else (index.html above all, which
// names the current assets) is checked again on every use.
const (
	cacheImmutable  = "public, max-age=31536000, immutable"
	cacheRevalidate = "no-cache"
)

const webAppNotBuilt = "the web app is not built: run `make web` (or make dev)\n"

// mountWebApp registers the web app as the router's last route: GET and HEAD of any path that
// is not the API's.
func (s *Server) mountWebApp(r *mux.Router) {
	// The API-path test comes first: gorilla/mux forgets an earlier route's method mismatch
	// (the 405 of DELETE /v1/services) as soon as any matcher of a later route matches, and
	// the path prefix "/" matches everything.
	r.MatcherFunc(func(req *http.Request, _ *mux.RouteMatch) bool { return !isAPIPath(req.URL.Path) }).
		PathPrefix("/").
		Methods(http.MethodGet, http.MethodHead).
		HandlerFunc(s.serveWebApp)
}

// serveWebApp answers with the file the path names in the built app, or with index.html for
// any other path: the app's own routes (/bookings/123) are resolved in the browser.
func (s *Server) serveWebApp(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", webAppCSP)
	h.Set("X-Frame-Options", "DENY")

	// The router has cleaned the path already; cleaning again keeps the rule here whatever
	// the router does. fs.FS names never climb above their root either.
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if s.Web != nil && name != "" && fs.ValidPath(name) {
		if s.serveWebFile(w, r, name) {
			return
		}
		// A hashed asset that is not there is a stale page asking for an old build: the
		// app's HTML in its place would only fail in the browser as a script of type text/html.
		if strings.HasPrefix(name, "assets/") {
			writeProblem(w, r, domain.Errorf(domain.KindNotFound, "no file %s in the web app", r.URL.Path))
			return
		}
	}
	if s.Web == nil || !s.serveWebFile(w, r, "index.html") {
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, webAppNotBuilt)
	}
}

// serveWebFile serves the regular file name of the app, reporting false when there is none.
func (s *Server) serveWebFile(w http.ResponseWriter, r *http.Request, name string) bool {
	f, err := s.Web.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		return false
	}
	// embed.FS files seek; another fs.FS whose files do not is a programming error.
	content, ok := f.(io.ReadSeeker)
	if !ok {
		writeError(w, r, fmt.Errorf("web app file %s cannot seek", name))
		return true
	}
	if strings.HasPrefix(name, "assets/") {
		w.Header().Set("Cache-Control", cacheImmutable)
	} else {
		w.Header().Set("Cache-Control", cacheRevalidate)
	}
	// Embedded files carry no time: ServeContent then sends no Last-Modified.
	http.ServeContent(w, r, name, info.ModTime(), content)
	return true
}
