package twiliosandbox

import (
	"html/template"
	"net/http"
	"slices"
)

var indexPage = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="5">
<title>Twilio sandbox</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; width: 100%; margin-bottom: 2em; }
th, td { border-bottom: 1px solid #ddd; padding: .4em .6em; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
td.body { white-space: pre-wrap; max-width: 40em; }
.muted { color: #777; }
</style>
</head>
<body>
<h1>Twilio sandbox</h1>
<p class="muted">Account {{.AccountSID}} &middot; number {{.FromNumber}} &middot; pending faults {{.Faults}} &middot;
JSON: <a href="/api/messages">/api/messages</a>, <a href="/api/inbound">/api/inbound</a></p>
<h2>Outbound messages ({{len .Messages}})</h2>
<table>
<tr><th>Time (UTC)</th><th>To</th><th>From</th><th>Body</th><th>Status</th><th>SID</th></tr>
{{range .Messages}}<tr><td>{{.DateCreated.Format "2006-01-02 15:04:05"}}</td><td>{{.To}}</td><td>{{.From}}</td><td class="body">{{.Body}}</td><td>{{.Status}}</td><td class="muted">{{.SID}}</td></tr>
{{else}}<tr><td colspan="6" class="muted">No messages yet.</td></tr>
{{end}}</table>
<h2>Inbound webhooks ({{len .Inbound}})</h2>
<table>
<tr><th>Time (UTC)</th><th>From</th><th>To</th><th>Body</th><th>Webhook answer</th></tr>
{{range .Inbound}}<tr><td>{{.At.Format "2006-01-02 15:04:05"}}</td><td>{{.From}}</td><td>{{.To}}</td><td class="body">{{.Body}}</td><td>{{if .Error}}{{.Error}}{{else}}{{.Status}} {{.Response}}{{end}}</td></tr>
{{else}}<tr><td colspan="5" class="muted">None yet. POST /api/inbound {"from": "+15550001111", "body": "C"}</td></tr>
{{end}}</table>
</body>
</html>
`))

func (s *Server) index(w http.ResponseWriter, _ *http.Request) {
	inbound := s.InboundLog()
	slices.Reverse(inbound)
	data := struct {
		AccountSID, FromNumber string
		Faults                 int
		Messages               []Message
		Inbound                []InboundResult
	}{s.cfg.AccountSID, s.cfg.FromNumber, s.PendingFaults(), newestFirst(s.Messages()), inbound}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := indexPage.Execute(w, data); err != nil {
		s.log.Error("twilio sandbox index page", "error", err)
	}
}
