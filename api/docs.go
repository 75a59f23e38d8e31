package api

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"io"
	"io/fs"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/mux"
)

// openAPIYAML is the API's OpenAPI 3 document, served as is at /openapi.yaml and rendered in
// the browser by the reference at /docs.
//
//go:embed openapi.yaml
var openAPIYAML []byte

// serveOpenAPI answers with the OpenAPI document.
func serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	w.Header().Set("Content-Length", strconv.Itoa(len(openAPIYAML)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(openAPIYAML)
	}
}

// The reference at /docs is Swagger UI rendering /openapi.yaml in the browser. Its bundle and
// stylesheet come from the npm package swagger-ui-dist: the web build copies them into
// web/dist/docs/ (web/vite.config.ts), which the binary embeds with the app (Server.Web), and
// they are served at /docs/<file>. The page and the script that starts Swagger UI are here.
const docsDir = "docs"

// docsRequired are the files the page cannot do without; while the build has not put them in
// the web app, /docs answers 503 like the app does.
var docsRequired = []string{"swagger-ui-bundle.js", "swagger-ui.css"}

const docsPage = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Clinic booking API reference</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<noscript><p>This reference needs JavaScript. The API's OpenAPI document is <a href="/openapi.yaml">/openapi.yaml</a>.</p></noscript>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`

// docsInitJS starts Swagger UI. It is a file rather than an inline script so that the page's
// CSP can refuse every inline script. validatorUrl null keeps the validator badge from sending
// the document's address to validator.swagger.io. "Try it out" calls the API where the page
// came from, whatever server the document names (http://localhost:8080 while the page may be
// at 127.0.0.1 or behind a proxy): connect-src lets the page reach its own origin only.
const docsInitJS = `window.ui = SwaggerUIBundle({
  url: "/openapi.yaml",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  requestInterceptor: (req) => {
    const u = new URL(req.url, window.location.href);
    req.url = window.location.origin + u.pathname + u.search;
    return req;
  },
});
`

// docsCSP lets the reference run only its own scripts and styles and talk only to its own
// origin ("Try it out" calls the API there). Swagger UI needs one relaxation, img-src data:,
// for the SVG icons its stylesheet and components carry as data: URLs; it needs no inline
// style (it sets styles through the DOM, which style-src does not govern), no eval, no worker
// and no font (it names system fonts only). That is why it was chosen: Redoc's and Scalar's
// standalone bundles inject style elements, so they need style-src 'unsafe-inline' (Redoc also
// worker-src blob: for its search), and render nothing without it.
const docsCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

const docsNotBuilt = "the API reference is not built: run `make web` (or make dev)\n"

// serveDocs answers with the reference page, or 503 while the web build has not supplied
// Swagger UI.
func (s *Server) serveDocs(w http.ResponseWriter, r *http.Request) {
	if !s.docsBuilt() {
		h := w.Header()
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, docsNotBuilt)
		return
	}
	serveDocsContent(w, r, "docs.html", docsPageFile())
}

// serveDocsFile answers /docs/<file>: the start script, or a file of the web build's docs/.
// Any other name is the router's 404.
func (s *Server) serveDocsFile(w http.ResponseWriter, r *http.Request) {
	name := mux.Vars(r)["file"]
	if name == "init.js" {
		serveDocsContent(w, r, name, docsInitFile())
		return
	}
	f, ok := s.docsFile(name)
	if !ok {
		s.notFound(w, r)
		return
	}
	serveDocsContent(w, r, name, f)
}

// docsContent is a file of the reference with its ETag.
type docsContent struct {
	content []byte
	etag    string
}

func newDocsContent(b []byte) docsContent {
	sum := sha256.Sum256(b)
	return docsContent{content: b, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
}

var (
	docsPageFile = sync.OnceValue(func() docsContent { return newDocsContent([]byte(docsPage)) })
	docsInitFile = sync.OnceValue(func() docsContent { return newDocsContent([]byte(docsInitJS)) })
)

// docsFile is name of the web build's docs/, read and hashed on its first request only: the
// bundle is 1.7 MB, and browsers revalidate it on every page view.
func (s *Server) docsFile(name string) (docsContent, bool) {
	if f, ok := s.docs.Load(name); ok {
		return f.(docsContent), true
	}
	if s.Web == nil || !fs.ValidPath(docsDir+"/"+name) {
		return docsContent{}, false
	}
	b, err := fs.ReadFile(s.Web, docsDir+"/"+name)
	if err != nil {
		return docsContent{}, false
	}
	f, _ := s.docs.LoadOrStore(name, newDocsContent(b))
	return f.(docsContent), true
}

func (s *Server) docsBuilt() bool {
	if s.Web == nil {
		return false
	}
	for _, name := range docsRequired {
		info, err := fs.Stat(s.Web, docsDir+"/"+name)
		if err != nil || !info.Mode().IsRegular() {
			return false
		}
	}
	return true
}

// serveDocsContent answers with one of the reference's files, its type from its name. The
// names carry no version (swagger-ui-bundle.js is that name in every release), so browsers
// revalidate on every use, against an ETag of the content: an unchanged file costs a 304.
func serveDocsContent(w http.ResponseWriter, r *http.Request, name string, f docsContent) {
	h := w.Header()
	h.Set("Content-Security-Policy", docsCSP)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", cacheRevalidate)
	h.Set("ETag", f.etag)
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(f.content))
}
