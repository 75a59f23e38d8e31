package api

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/clinicbook/booking/auth"
	"github.com/clinicbook/booking/domain"
)

// codecCookie holds an admin's codec session. The Temporal Web UI cannot send this API's
// access token to the codec server (it forwards only its own login's token, and only to https
// endpoints), but with "Include cross-origin credentials" on it sends cookies. So an admin signs
// in at GET /codec, which trades the access token for this cookie at POST /codec/session.
//
// The cookie is HttpOnly (no page script reads it), Path=/codec (it goes nowhere else on this
// API; the REST API never looks at it), Secure when PUBLIC_BASE_URL is https, and
// SameSite=Strict: a browser sends it only on requests from the same site. Ports do not make
// a site, so the Web UI at http://127.0.0.1:8233 calling http://127.0.0.1:8080/codec is
// same-site (http://localhost:8233 is not: open the UI at the API's host).
//
// CSRF: a request another site forges carries no cookie (SameSite=Strict); encode and decode
// change nothing anyway, and CORS (withCodecCORS) lets only TEMPORAL_UI_ORIGIN read an
// answer, so a page elsewhere can neither use the session nor see what it decodes.
// Creating a session needs the access token in a header, which no form can forge, and
// ending one is harmless.
const codecCookie = "booking_codec"

// codecCookiePath is where the browser sends the cookie: the codec server and its page.
const codecCookiePath = "/codec"

// requireCodecAuth admits a caller of the codec server with either credential: an access token
// (Authorization: Bearer, what the CLI sends) or a codec session cookie (what the Web UI sends).
// When the header is there, it alone decides. The role is left to the handler.
func (s *Server) requireCodecAuth(next http.Handler) http.Handler {
	bearer := s.requireAuth(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			bearer.ServeHTTP(w, r)
			return
		}
		c, err := r.Cookie(codecCookie)
		if err != nil || c.Value == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="booking"`)
			writeProblem(w, r, domain.Errorf(domain.KindUnauthorized,
				"an admin's access token (Authorization: Bearer <token>) or codec session (sign in at /codec) is required"))
			return
		}
		p, err := s.Accounts.AuthenticateCodecSession(r.Context(), c.Value)
		if err != nil {
			writeError(w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), keyPrincipal, p)))
	})
}

type codecSessionResponse struct {
	ExpiresAt time.Time `json:"expires_at"`
}

// createCodecSession trades an admin's access token for the codec session cookie.
func (s *Server) createCodecSession(w http.ResponseWriter, r *http.Request) {
	if err := requireRole(r, domain.RoleAdmin); err != nil {
		writeError(w, r, err)
		return
	}
	value, exp, err := s.Accounts.IssueCodecSession(caller(r))
	if err != nil {
		writeError(w, r, err)
		return
	}
	http.SetCookie(w, s.codecSessionCookie(value, exp))
	writeTokens(w, http.StatusOK, codecSessionResponse{ExpiresAt: exp.UTC()})
}

// deleteCodecSession ends the session in this browser: the cookie is cleared. Anyone may ask.
func (s *Server) deleteCodecSession(w http.ResponseWriter, r *http.Request) {
	c := s.codecSessionCookie("", time.Unix(0, 0))
	c.MaxAge = -1
	http.SetCookie(w, c)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) codecSessionCookie(value string, exp time.Time) *http.Cookie {
	c := &http.Cookie{
		Name: codecCookie, Value: value, Path: codecCookiePath, Expires: exp,
		HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: strings.HasPrefix(s.Config.PublicBaseURL, "https://"),
	}
	if !exp.IsZero() && exp.After(s.now()) {
		c.MaxAge = int(exp.Sub(s.now()).Seconds())
	}
	return c
}

// codecLoginScript signs an admin in for the Web UI: /v1/auth/login, then POST /codec/session
// with the access token, then /v1/auth/logout with the refresh token (the page has no use for
// it). The tokens live only in this function; the cookie is HttpOnly.
const codecLoginScript = `
const $ = (id) => document.getElementById(id);
async function problem(res) {
  try { const p = await res.json(); return p.detail || p.title || res.statusText; } catch (e) { return res.statusText; }
}
$("login").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  $("error").textContent = "";
  $("submit").disabled = true;
  try {
    const login = await fetch("/v1/auth/login", {method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({email: $("email").value, password: $("password").value})});
    if (!login.ok) throw new Error(await problem(login));
    const tokens = await login.json();
    const session = await fetch("/codec/session", {method: "POST", credentials: "same-origin",
      headers: {"Authorization": "Bearer " + tokens.access_token}});
    fetch("/v1/auth/logout", {method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({refresh_token: tokens.refresh_token})}).catch(() => {});
    if (!session.ok) throw new Error(session.status === 403 ? "This account is not an admin." : await problem(session));
    const s = await session.json();
    $("password").value = "";
    $("until").textContent = new Date(s.expires_at).toLocaleString();
    $("signin").hidden = true;
    $("done").hidden = false;
  } catch (e) {
    $("error").textContent = e.message;
  } finally {
    $("submit").disabled = false;
  }
});
$("logout").addEventListener("click", async () => {
  await fetch("/codec/session", {method: "DELETE", credentials: "same-origin"});
  $("done").hidden = true;
  $("signin").hidden = false;
});
`

const codecLoginStyle = `
body { font: 15px/1.5 system-ui, sans-serif; max-width: 40em; margin: 3em auto; padding: 0 1em; color: #1b1b1b; }
label { display: block; margin: .6em 0; }
input[type=email], input[type=password] { display: block; width: 100%; padding: .4em; box-sizing: border-box; }
button { padding: .4em 1.2em; }
#error { color: #b00020; }
code { background: #f2f2f2; padding: 0 .25em; }
`

var codecLoginPage = template.Must(template.New("codec").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Codec server sign-in</title>
<style>` + codecLoginStyle + `</style></head>
<body>
<h1>Decode payloads in the Temporal Web UI</h1>
<p>Workflow inputs, results and memos are encrypted. Admins sign in here once; the Web UI then
decodes them through this API's codec server (<code>{{.Endpoint}}</code>) for
{{.Hours}} hours.</p>
<form id="login" method="post" autocomplete="on">
<div id="signin">
<label>Email <input id="email" type="email" name="email" autocomplete="username" required></label>
<label>Password <input id="password" type="password" name="password" autocomplete="current-password" required></label>
<button id="submit" type="submit">Sign in for the Web UI</button>
<p id="error" role="alert"></p>
</div>
</form>
<div id="done" hidden>
<p><strong>Signed in until <span id="until"></span>.</strong> One step is left, once per browser,
in the Web UI:</p>
<ol>
<li>Open <a href="{{.UI}}">{{.UI}}</a> (this host name: the cookie goes to the same site only).</li>
<li>Open <em>Codec Server</em> (the data encoder settings) and choose <em>Use my browser
setting and ignore cluster-level setting</em>.</li>
<li>Set the endpoint to <code>{{.Endpoint}}</code>, tick <em>Include cross-origin
credentials</em> and apply.</li>
</ol>
<p><button id="logout" type="button">Sign out of the codec server</button></p>
</div>
<script>` + codecLoginScript + `</script>
</body></html>
`))

// codecLoginCSP allows this page its own inline script and style (by hash) and calls to this
// origin only; nothing is fetched from elsewhere and no other site may frame it.
var codecLoginCSP = sync.OnceValue(func() string {
	hash := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}
	return "default-src 'none'; script-src " + hash(codecLoginScript) + "; style-src " + hash(codecLoginStyle) +
		"; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
})

// codecLogin serves the sign-in page for the Web UI's codec calls (GET /codec).
func (s *Server) codecLogin(w http.ResponseWriter, r *http.Request) {
	base := strings.TrimSuffix(s.Config.PublicBaseURL, "/")
	if base == "" {
		base = "http://127.0.0.1:8080"
	}
	// The UI origin on the host this page was opened at: the cookie goes to that site only.
	ui := "http://127.0.0.1:8233"
	if len(s.Config.Codec.UIOrigins) > 0 {
		ui = s.Config.Codec.UIOrigins[0]
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(r.Host); err == nil {
		host = h
	}
	for _, o := range s.Config.Codec.UIOrigins {
		if u, err := url.Parse(o); err == nil && u.Hostname() == host {
			ui = o
			break
		}
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", codecLoginCSP())
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	_ = codecLoginPage.Execute(w, map[string]any{
		"Endpoint": base + codecCookiePath, "UI": ui, "Hours": int(auth.CodecSessionTTL.Hours()),
	})
}
