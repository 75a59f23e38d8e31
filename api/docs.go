package api

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// openAPIYAML is the API's OpenAPI 3 document, served as is at /openapi.yaml and rendered
// into the reference at /docs.
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

// serveDocs answers with the API reference: the OpenAPI document rendered server-side into
// one self-contained HTML page, with no scripts and nothing fetched from elsewhere.
func serveDocs(w http.ResponseWriter, r *http.Request) {
	page, err := docsPage()
	if err != nil {
		writeError(w, r, fmt.Errorf("render the API reference: %w", err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(page)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(page)
	}
}

// docsPage renders the reference once; the document is embedded, so the page never changes.
var docsPage = sync.OnceValues(func() (page []byte, err error) {
	defer func() {
		if v := recover(); v != nil {
			page, err = nil, fmt.Errorf("render the API reference: %v", v)
		}
	}()
	spec, err := parseOpenAPI(openAPIYAML)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := docsTemplate.Execute(&buf, buildDocs(spec)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
})

// omap is a YAML mapping that keeps its keys in document order.
type omap struct {
	keys []string
	vals map[string]any
}

func (m *omap) get(key string) any {
	if m == nil {
		return nil
	}
	return m.vals[key]
}

func (m *omap) str(key string) string {
	switch v := m.get(key).(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}

func (m *omap) obj(key string) *omap {
	v, _ := m.get(key).(*omap)
	return v
}

func (m *omap) list(key string) []any {
	v, _ := m.get(key).([]any)
	return v
}

// names are the keys in document order; none for a missing mapping.
func (m *omap) names() []string {
	if m == nil {
		return nil
	}
	return m.keys
}

func (m *omap) has(key string) bool {
	if m == nil {
		return false
	}
	_, ok := m.vals[key]
	return ok
}

// parseOpenAPI reads the document into ordered maps, lists and scalars.
func parseOpenAPI(src []byte) (*omap, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil {
		return nil, fmt.Errorf("parse openapi.yaml: %w", err)
	}
	if len(root.Content) == 0 {
		return nil, fmt.Errorf("parse openapi.yaml: empty document")
	}
	v, err := fromNode(root.Content[0])
	if err != nil {
		return nil, fmt.Errorf("parse openapi.yaml: %w", err)
	}
	doc, ok := v.(*omap)
	if !ok {
		return nil, fmt.Errorf("parse openapi.yaml: the document is not a mapping")
	}
	return doc, nil
}

func fromNode(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.AliasNode:
		return fromNode(n.Alias)
	case yaml.MappingNode:
		m := &omap{vals: make(map[string]any, len(n.Content)/2)}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			val, err := fromNode(v)
			if err != nil {
				return nil, err
			}
			if _, dup := m.vals[k.Value]; !dup {
				m.keys = append(m.keys, k.Value)
			}
			m.vals[k.Value] = val
		}
		return m, nil
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := fromNode(c)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		return v, nil
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node", n.Line)
}

// httpMethods are the operation keys of a path item, in display order.
var httpMethods = []string{"get", "put", "post", "patch", "delete", "head", "options", "trace"}

// resolve follows a local $ref ("#/components/...") to its target.
func resolve(doc *omap, v *omap) *omap {
	for range 10 {
		ref := v.str("$ref")
		if ref == "" {
			return v
		}
		target := doc
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
			target = target.obj(part)
		}
		if target == nil {
			return v
		}
		v = target
	}
	return v
}

// refName is the last part of a $ref: the schema's name.
func refName(v *omap) string {
	ref := v.str("$ref")
	if ref == "" {
		return ""
	}
	return ref[strings.LastIndex(ref, "/")+1:]
}

type docsView struct {
	Title       string
	Version     string
	Description template.HTML
	Servers     []string
	Groups      []docGroup
	Schemas     []docSchema
}

type docGroup struct {
	Tag         string
	Description string
	Ops         []docOp
}

type docOp struct {
	Anchor      string
	Method      string
	Path        string
	Summary     string
	Description template.HTML
	Auth        string
	Public      bool
	Params      []docParam
	Body        *docBody
	Responses   []docResponse
}

type docParam struct {
	Name        string
	In          string
	Type        docType
	Required    bool
	Description template.HTML
	Constraints string
}

type docBody struct {
	ContentTypes string
	Required     bool
	Type         docType
	Description  template.HTML
	Fields       []docField
	Open         bool
}

type docField struct {
	Name        string
	Type        docType
	Required    bool
	Description template.HTML
	Constraints string
}

type docResponse struct {
	Code         string
	Error        bool
	Description  template.HTML
	ContentTypes string
	Type         docType
	Headers      []string
}

type docSchema struct {
	Anchor      string
	Name        string
	Description template.HTML
	Type        docType
	Fields      []docField
	Open        bool
	Closed      bool
	Constraints string
}

// docType describes a schema's type in words, linking to the named schemas it uses.
type docType struct {
	Parts []docTypePart
}

type docTypePart struct {
	Text string
	Ref  string
}

func (t docType) Empty() bool { return len(t.Parts) == 0 }

func buildDocs(doc *omap) docsView {
	info := doc.obj("info")
	v := docsView{
		Title:       info.str("title"),
		Version:     info.str("version"),
		Description: prose(info.str("description")),
	}
	for _, s := range doc.list("servers") {
		if sm, ok := s.(*omap); ok {
			v.Servers = append(v.Servers, sm.str("url"))
		}
	}

	groups := map[string]*docGroup{}
	var order []string
	for _, t := range doc.list("tags") {
		if tm, ok := t.(*omap); ok {
			name := tm.str("name")
			groups[name] = &docGroup{Tag: name, Description: tm.str("description")}
			order = append(order, name)
		}
	}
	globalSecurity := doc.list("security")
	paths := doc.obj("paths")
	for _, path := range paths.names() {
		item := paths.obj(path)
		if item == nil {
			continue
		}
		shared := item.list("parameters")
		for _, method := range httpMethods {
			op := item.obj(method)
			if op == nil {
				continue
			}
			d := buildOp(doc, path, method, op, shared, globalSecurity)
			tag := "other"
			if tags := op.list("tags"); len(tags) > 0 {
				tag = fmt.Sprint(tags[0])
			}
			g, ok := groups[tag]
			if !ok {
				g = &docGroup{Tag: tag}
				groups[tag] = g
				order = append(order, tag)
			}
			g.Ops = append(g.Ops, d)
		}
	}
	for _, name := range order {
		if g := groups[name]; len(g.Ops) > 0 {
			v.Groups = append(v.Groups, *g)
		}
	}

	schemas := doc.obj("components").obj("schemas")
	for _, name := range schemas.names() {
		s := schemas.obj(name)
		ds := docSchema{Anchor: "schema-" + anchorPart(name), Name: name, Description: prose(s.str("description")), Constraints: constraints(s)}
		ds.Fields, ds.Open, ds.Closed = fields(doc, s)
		if len(ds.Fields) == 0 {
			ds.Type = typeOf(doc, s)
		}
		v.Schemas = append(v.Schemas, ds)
	}
	return v
}

func buildOp(doc *omap, path, method string, op *omap, shared, globalSecurity []any) docOp {
	d := docOp{
		Anchor:      "op-" + anchorPart(method+" "+path),
		Method:      strings.ToUpper(method),
		Path:        path,
		Summary:     op.str("summary"),
		Description: prose(op.str("description")),
	}

	security := globalSecurity
	if op.has("security") {
		security = op.list("security")
	}
	var schemes []string
	for _, req := range security {
		if rm, ok := req.(*omap); ok {
			for _, name := range rm.names() {
				scheme := resolve(doc, doc.obj("components").obj("securitySchemes").obj(name))
				label := name
				if scheme.str("type") == "http" && strings.EqualFold(scheme.str("scheme"), "bearer") {
					label = "Bearer token"
					if f := scheme.str("bearerFormat"); f != "" {
						label += " (" + f + ")"
					}
				}
				schemes = append(schemes, label)
			}
		}
	}
	if len(schemes) == 0 {
		d.Public = true
		d.Auth = "None (public)"
	} else {
		d.Auth = strings.Join(schemes, " or ")
	}

	for _, p := range append(append([]any{}, shared...), op.list("parameters")...) {
		pm, ok := p.(*omap)
		if !ok {
			continue
		}
		pm = resolve(doc, pm)
		schema := pm.obj("schema")
		d.Params = append(d.Params, docParam{
			Name:        pm.str("name"),
			In:          pm.str("in"),
			Type:        typeOf(doc, schema),
			Required:    pm.get("required") == true,
			Description: prose(pm.str("description")),
			Constraints: constraints(resolve(doc, schema)),
		})
	}

	if rb := op.obj("requestBody"); rb != nil {
		rb = resolve(doc, rb)
		content := rb.obj("content")
		b := &docBody{
			ContentTypes: strings.Join(content.names(), ", "),
			Required:     rb.get("required") == true,
			Description:  prose(rb.str("description")),
		}
		if len(content.names()) > 0 {
			schema := content.obj(content.names()[0]).obj("schema")
			b.Type = typeOf(doc, schema)
			b.Fields, b.Open, _ = fields(doc, schema)
		}
		d.Body = b
	}

	responses := op.obj("responses")
	codes := append([]string(nil), responses.names()...)
	sort.SliceStable(codes, func(i, j int) bool { return codes[i] < codes[j] })
	for _, code := range codes {
		resp := resolve(doc, responses.obj(code))
		content := resp.obj("content")
		dr := docResponse{
			Code:         code,
			Error:        strings.HasPrefix(code, "4") || strings.HasPrefix(code, "5"),
			Description:  prose(resp.str("description")),
			ContentTypes: strings.Join(content.names(), ", "),
		}
		if len(content.names()) > 0 {
			dr.Type = typeOf(doc, content.obj(content.names()[0]).obj("schema"))
		}
		if headers := resp.obj("headers"); headers != nil {
			dr.Headers = headers.names()
		}
		d.Responses = append(d.Responses, dr)
	}
	return d
}

// fields lists an object schema's properties, merging allOf parts; open reports whether
// other properties are allowed, closed whether additionalProperties is false.
func fields(doc *omap, schema *omap) (out []docField, open, closed bool) {
	s := resolve(doc, schema)
	if s == nil {
		return nil, false, false
	}
	for _, part := range s.list("allOf") {
		if pm, ok := part.(*omap); ok {
			f, o, c := fields(doc, pm)
			out = append(out, f...)
			open = open || o
			closed = closed || c
		}
	}
	required := map[string]bool{}
	for _, r := range s.list("required") {
		required[fmt.Sprint(r)] = true
	}
	props := s.obj("properties")
	if props != nil {
		for _, name := range props.names() {
			p := props.obj(name)
			rp := resolve(doc, p)
			desc := rp.str("description")
			if p.str("description") != "" {
				desc = p.str("description")
			}
			out = append(out, docField{
				Name:        name,
				Type:        typeOf(doc, p),
				Required:    required[name],
				Description: prose(desc),
				Constraints: constraints(rp),
			})
		}
	}
	switch ap := s.get("additionalProperties").(type) {
	case bool:
		open, closed = open || ap, closed || !ap
	case *omap:
		open = true
	}
	return out, open, closed
}

// typeOf describes a schema's type: "string (date-time)", "array of Slot", "Provider".
func typeOf(doc *omap, schema *omap) docType {
	if schema == nil {
		return docType{}
	}
	if name := refName(schema); name != "" {
		return docType{Parts: []docTypePart{{Text: name, Ref: "schema-" + anchorPart(name)}}}
	}
	var t docType
	switch {
	case schema.has("allOf"):
		for i, part := range schema.list("allOf") {
			if pm, ok := part.(*omap); ok {
				if i > 0 {
					t.Parts = append(t.Parts, docTypePart{Text: " + "})
				}
				sub := typeOf(doc, pm)
				if sub.Empty() {
					sub = docType{Parts: []docTypePart{{Text: "object"}}}
				}
				t.Parts = append(t.Parts, sub.Parts...)
			}
		}
	case schema.str("type") == "array":
		t.Parts = append(t.Parts, docTypePart{Text: "array of "})
		items := typeOf(doc, schema.obj("items"))
		if items.Empty() {
			items = docType{Parts: []docTypePart{{Text: "any"}}}
		}
		t.Parts = append(t.Parts, items.Parts...)
	default:
		text := schema.str("type")
		if text == "" {
			text = "any"
		}
		if f := schema.str("format"); f != "" {
			text += " (" + f + ")"
		}
		t.Parts = append(t.Parts, docTypePart{Text: text})
	}
	if schema.get("nullable") == true {
		t.Parts = append(t.Parts, docTypePart{Text: " or null"})
	}
	return t
}

// constraints lists a schema's limits in words.
func constraints(s *omap) string {
	if s == nil {
		return ""
	}
	var out []string
	if e := s.list("enum"); len(e) > 0 {
		vals := make([]string, len(e))
		for i, v := range e {
			vals[i] = fmt.Sprint(v)
		}
		out = append(out, "one of: "+strings.Join(vals, ", "))
	}
	for _, c := range []struct{ key, label string }{
		{"minimum", "min"}, {"maximum", "max"}, {"multipleOf", "multiple of"},
		{"minLength", "min length"}, {"maxLength", "max length"}, {"pattern", "pattern"},
		{"default", "default"}, {"example", "example"},
	} {
		if s.has(c.key) {
			if _, scalar := s.get(c.key).(*omap); !scalar {
				out = append(out, c.label+": "+s.str(c.key))
			}
		}
	}
	return strings.Join(out, "; ")
}

func anchorPart(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
	}
	return b.String()
}

// prose renders description text: paragraphs split at blank lines, `code` spans kept as
// code, everything else escaped.
func prose(s string) template.HTML {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	var b strings.Builder
	for _, para := range strings.Split(s, "\n\n") {
		para = strings.Join(strings.Fields(para), " ")
		b.WriteString("<p>")
		for i, seg := range strings.Split(para, "`") {
			if i%2 == 1 {
				b.WriteString("<code>" + template.HTMLEscapeString(seg) + "</code>")
			} else {
				b.WriteString(template.HTMLEscapeString(seg))
			}
		}
		b.WriteString("</p>")
	}
	return template.HTML(b.String())
}

var docsTemplate = template.Must(template.New("docs").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} {{.Version}}</title>
<style>
:root { --fg: #1d2330; --muted: #5b6475; --line: #dde2ea; --bg: #f6f8fb; --accent: #2358c4; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: #fff; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
code { background: var(--bg); padding: 1px 4px; border-radius: 3px; }
.layout { display: flex; }
nav { position: sticky; top: 0; align-self: flex-start; height: 100vh; overflow-y: auto; width: 300px; flex: none; padding: 20px 16px; background: var(--bg); border-right: 1px solid var(--line); font-size: 13px; }
nav h2 { font-size: 12px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); margin: 18px 0 6px; }
nav ul { list-style: none; margin: 0; padding: 0; }
nav li { margin: 2px 0; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
main { flex: 1; min-width: 0; padding: 24px 40px 80px; max-width: 1100px; }
h1 { margin: 0 0 4px; font-size: 28px; }
.version { color: var(--muted); }
h2.group { margin-top: 48px; padding-bottom: 6px; border-bottom: 2px solid var(--line); text-transform: capitalize; }
.op { border: 1px solid var(--line); border-radius: 8px; margin: 20px 0; overflow: hidden; }
.op > header { display: flex; gap: 12px; align-items: center; padding: 10px 14px; background: var(--bg); border-bottom: 1px solid var(--line); flex-wrap: wrap; }
.op > header h3 { margin: 0; font-size: 15px; font-weight: 600; }
.op .body { padding: 4px 14px 14px; }
.method { display: inline-block; min-width: 58px; text-align: center; font-weight: 700; font-size: 12px; padding: 3px 6px; border-radius: 4px; color: #fff; background: #6b7280; }
.method.GET { background: #2f80ed; } .method.POST { background: #219653; } .method.PUT { background: #d98b00; }
.method.PATCH { background: #9b51e0; } .method.DELETE { background: #d13b3b; }
.path { font-weight: 600; }
.auth { margin-left: auto; font-size: 12px; padding: 2px 8px; border-radius: 10px; background: #fde7c8; color: #7a4a00; }
.auth.public { background: #dcf3e2; color: #1f6b36; }
h4 { margin: 16px 0 6px; font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
table { width: 100%; border-collapse: collapse; font-size: 14px; }
th, td { text-align: left; vertical-align: top; padding: 6px 8px; border-bottom: 1px solid var(--line); }
th { font-size: 12px; color: var(--muted); font-weight: 600; }
td p { margin: 0 0 4px; }
.req { color: #c0392b; font-size: 12px; font-weight: 600; }
.opt { color: var(--muted); font-size: 12px; }
.limits { color: var(--muted); font-size: 12px; }
.code { font-weight: 700; }
.code.ok { color: #219653; } .code.err { color: #c0392b; }
.note { color: var(--muted); font-size: 13px; }
.schema { border: 1px solid var(--line); border-radius: 8px; padding: 4px 14px 12px; margin: 16px 0; }
.schema h3 { font-size: 16px; margin: 10px 0 6px; }
</style>
</head>
<body>
<div class="layout">
<nav>
  <strong>{{.Title}}</strong>
  <div class="version">version {{.Version}} &middot; <a href="/openapi.yaml">openapi.yaml</a></div>
  {{- range .Groups}}
  <h2>{{.Tag}}</h2>
  <ul>
    {{- range .Ops}}
    <li><a href="#{{.Anchor}}"><span class="mono">{{.Method}}</span> {{.Path}}</a></li>
    {{- end}}
  </ul>
  {{- end}}
  <h2>Schemas</h2>
  <ul>
    {{- range .Schemas}}
    <li><a href="#{{.Anchor}}">{{.Name}}</a></li>
    {{- end}}
  </ul>
</nav>
<main>
<h1>{{.Title}}</h1>
<div class="version">Version {{.Version}}{{range .Servers}} &middot; server <code>{{.}}</code>{{end}} &middot; machine-readable: <a href="/openapi.yaml">/openapi.yaml</a> (OpenAPI 3)</div>
{{.Description}}

{{- define "type"}}{{range .Parts}}{{if .Ref}}<a href="#{{.Ref}}">{{.Text}}</a>{{else}}{{.Text}}{{end}}{{end}}{{end}}

{{- define "fields"}}
<table>
  <tr><th>Field</th><th>Type</th><th></th><th>Description</th></tr>
  {{- range .}}
  <tr>
    <td class="mono">{{.Name}}</td>
    <td class="mono">{{template "type" .Type}}</td>
    <td>{{if .Required}}<span class="req">required</span>{{else}}<span class="opt">optional</span>{{end}}</td>
    <td>{{.Description}}{{if .Constraints}}<div class="limits">{{.Constraints}}</div>{{end}}</td>
  </tr>
  {{- end}}
</table>
{{- end}}

{{range .Groups}}
<h2 class="group" id="tag-{{.Tag}}">{{.Tag}}</h2>
{{if .Description}}<p>{{.Description}}</p>{{end}}
{{- range .Ops}}
<section class="op" id="{{.Anchor}}">
  <header>
    <span class="method {{.Method}}">{{.Method}}</span>
    <span class="path mono">{{.Path}}</span>
    <h3>{{.Summary}}</h3>
    <span class="auth{{if .Public}} public{{end}}">Auth: {{.Auth}}</span>
  </header>
  <div class="body">
    {{.Description}}
    {{- if .Params}}
    <h4>Parameters</h4>
    <table>
      <tr><th>Name</th><th>In</th><th>Type</th><th></th><th>Description</th></tr>
      {{- range .Params}}
      <tr>
        <td class="mono">{{.Name}}</td>
        <td>{{.In}}</td>
        <td class="mono">{{template "type" .Type}}</td>
        <td>{{if .Required}}<span class="req">required</span>{{else}}<span class="opt">optional</span>{{end}}</td>
        <td>{{.Description}}{{if .Constraints}}<div class="limits">{{.Constraints}}</div>{{end}}</td>
      </tr>
      {{- end}}
    </table>
    {{- end}}
    {{- with .Body}}
    <h4>Request body</h4>
    <p class="note"><code>{{.ContentTypes}}</code>{{if .Type.Parts}} &middot; {{template "type" .Type}}{{end}} &middot; {{if .Required}}required{{else}}optional (may be left out){{end}}{{if .Open}} &middot; other fields are allowed{{else}} &middot; unknown fields are rejected{{end}}</p>
    {{.Description}}
    {{- if .Fields}}{{template "fields" .Fields}}{{end}}
    {{- end}}
    <h4>Responses</h4>
    <table>
      <tr><th>Status</th><th>Description</th><th>Body</th></tr>
      {{- range .Responses}}
      <tr>
        <td class="code {{if .Error}}err{{else}}ok{{end}}">{{.Code}}</td>
        <td>{{.Description}}{{if .Headers}}<div class="limits">Headers: {{range $i, $h := .Headers}}{{if $i}}, {{end}}<code>{{$h}}</code>{{end}}</div>{{end}}</td>
        <td>{{if .ContentTypes}}<code>{{.ContentTypes}}</code>{{if .Type.Parts}}<br><span class="mono">{{template "type" .Type}}</span>{{end}}{{else}}<span class="opt">no body</span>{{end}}</td>
      </tr>
      {{- end}}
    </table>
  </div>
</section>
{{- end}}
{{end}}

<h2 class="group" id="schemas">Schemas</h2>
{{- range .Schemas}}
<section class="schema" id="{{.Anchor}}">
  <h3>{{.Name}}</h3>
  {{.Description}}
  {{- if .Fields}}
  {{template "fields" .Fields}}
  {{- if .Closed}}<p class="note">Unknown fields are rejected.</p>{{else if .Open}}<p class="note">Other fields are allowed.</p>{{end}}
  {{- else}}
  <p class="mono">{{if .Type.Parts}}{{template "type" .Type}}{{else}}object{{end}}</p>
  {{- if .Constraints}}<p class="limits">{{.Constraints}}</p>{{end}}
  {{- end}}
</section>
{{- end}}
</main>
</div>
</body>
</html>
`))
