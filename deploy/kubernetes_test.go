package deploy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	kyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// The Kubernetes kinds the manifests may use; anything else fails to decode.
var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(corev1.AddToScheme(s))
	utilruntime.Must(appsv1.AddToScheme(s))
	utilruntime.Must(autoscalingv2.AddToScheme(s))
	utilruntime.Must(policyv1.AddToScheme(s))
	utilruntime.Must(batchv1.AddToScheme(s))
	return s
}()

// strictDecoder is the API machinery's own YAML serializer in strict mode: unknown or
// duplicate fields, wrong types and unregistered kinds are errors.
var strictDecoder = kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme, scheme,
	kjson.SerializerOptions{Yaml: true, Strict: true})

// kustomization holds the Kustomization/Component fields this repository uses, decoded
// strictly so a misspelt field fails. Add fields here when the kustomizations need more.
type kustomization struct {
	APIVersion string      `json:"apiVersion"`
	Kind       string      `json:"kind"`
	Namespace  string      `json:"namespace,omitempty"`
	Labels     []kustLabel `json:"labels,omitempty"`
	Resources  []string    `json:"resources,omitempty"`
	Components []string    `json:"components,omitempty"`
	Patches    []kustPatch `json:"patches,omitempty"`
	Images     []kustImage `json:"images,omitempty"`
}

type kustLabel struct {
	Pairs            map[string]string `json:"pairs"`
	IncludeSelectors bool              `json:"includeSelectors,omitempty"`
	IncludeTemplates bool              `json:"includeTemplates,omitempty"`
}

type kustPatch struct {
	Path string `json:"path"`
}

type kustImage struct {
	Name    string `json:"name"`
	NewName string `json:"newName,omitempty"`
	NewTag  string `json:"newTag,omitempty"`
	Digest  string `json:"digest,omitempty"`
}

// doc is one YAML document of a file under deploy/.
type doc struct {
	file  string // relative to deploy/
	index int
	raw   []byte
	kind  string
	name  string
	obj   runtime.Object // Kubernetes objects
	kust  *kustomization // Kustomization and Component
}

func (d doc) String() string { return fmt.Sprintf("%s[%d] %s/%s", d.file, d.index, d.kind, d.name) }

var docCache = map[string][]doc{}

// readDocs decodes every document of a YAML file strictly.
func readDocs(t *testing.T, file string) []doc {
	t.Helper()
	file = filepath.Clean(file)
	if docs, ok := docCache[file]; ok {
		return docs
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var docs []doc
	r := kyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for i := 0; ; i++ {
		raw, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if len(bytes.TrimSpace(stripComments(raw))) == 0 {
			continue
		}
		d := doc{file: file, index: i, raw: raw}
		var meta struct {
			metav1.TypeMeta `json:",inline"`
			Metadata        struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal(raw, &meta); err != nil {
			t.Errorf("%s: %v", d, err)
			continue
		}
		d.kind, d.name = meta.Kind, meta.Metadata.Name
		switch meta.Kind {
		case "Kustomization", "Component":
			var k kustomization
			if err := yaml.UnmarshalStrict(raw, &k); err != nil {
				t.Errorf("%s: %v", d, err)
				continue
			}
			want := map[string]string{"Kustomization": "kustomize.config.k8s.io/v1beta1", "Component": "kustomize.config.k8s.io/v1alpha1"}
			if k.APIVersion != want[k.Kind] {
				t.Errorf("%s: apiVersion %s, want %s", d, k.APIVersion, want[k.Kind])
			}
			d.kust = &k
		default:
			obj, _, err := strictDecoder.Decode(raw, nil, nil)
			if err != nil {
				t.Errorf("%s: %v", d, err)
				continue
			}
			d.obj = obj
		}
		docs = append(docs, d)
	}
	docCache[file] = docs
	return docs
}

var commentLine = regexp.MustCompile(`(?m)^\s*#.*$`)

func stripComments(b []byte) []byte { return commentLine.ReplaceAll(b, nil) }

// yamlFiles lists the YAML files under deploy/.
func yamlFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestManifestsDecodeStrictly(t *testing.T) {
	kinds := map[string]int{}
	for _, f := range yamlFiles(t) {
		for _, d := range readDocs(t, f) {
			kinds[d.kind]++
			if d.name == "" && d.kust == nil {
				t.Errorf("%s: no metadata.name", d)
			}
		}
	}
	for _, k := range []string{"Kustomization", "Deployment", "Service", "ConfigMap", "Secret",
		"HorizontalPodAutoscaler", "PodDisruptionBudget"} {
		if kinds[k] == 0 {
			t.Errorf("no %s manifest under deploy/", k)
		}
	}
	t.Logf("decoded: %v", kinds)
}

// TestKustomizationReferences checks that every resource, component and patch a
// kustomization names exists, that every manifest beside a kustomization is used by it (or
// named in its comments, for optional ones) unless it is a *.template.yaml, that the base is
// namespace-agnostic and that each overlay sets a namespace.
func TestKustomizationReferences(t *testing.T) {
	for _, f := range yamlFiles(t) {
		if filepath.Base(f) != "kustomization.yaml" {
			continue
		}
		dir := filepath.Dir(f)
		k := kustomizationIn(t, dir)
		raw, _ := os.ReadFile(f)
		named := map[string]bool{}
		for _, r := range k.Resources {
			named[r] = true
			st, err := os.Stat(filepath.Join(dir, r))
			if err != nil {
				t.Errorf("%s: resource %s: %v", f, r, err)
			} else if st.IsDir() {
				kustomizationIn(t, filepath.Join(dir, r))
			}
		}
		for _, c := range k.Components {
			if ck := kustomizationIn(t, filepath.Join(dir, c)); ck.Kind != "Component" {
				t.Errorf("%s: component %s is a %s", f, c, ck.Kind)
			}
		}
		for _, p := range k.Patches {
			named[p.Path] = true
			if _, err := os.Stat(filepath.Join(dir, p.Path)); err != nil {
				t.Errorf("%s: patch %s: %v", f, p.Path, err)
			}
		}
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			n := e.Name()
			if e.IsDir() || n == "kustomization.yaml" || strings.HasSuffix(n, ".template.yaml") || !strings.HasSuffix(n, ".yaml") {
				continue
			}
			if !named[n] && !bytes.Contains(raw, []byte(n)) {
				t.Errorf("%s: %s is neither used nor mentioned", f, n)
			}
		}

		switch {
		case strings.HasPrefix(dir, "base"):
			if k.Namespace != "" {
				t.Errorf("%s: the base must not set a namespace", f)
			}
			for _, o := range render(t, dir) {
				if ns := accessor(o).GetNamespace(); ns != "" {
					t.Errorf("%s: %s sets namespace %s", dir, describe(o), ns)
				}
			}
		case strings.HasPrefix(dir, "overlays"):
			if k.Namespace == "" {
				t.Errorf("%s: an overlay should set the namespace", f)
			}
		}
	}
}

func kustomizationIn(t *testing.T, dir string) *kustomization {
	t.Helper()
	docs := readDocs(t, filepath.Join(dir, "kustomization.yaml"))
	if len(docs) != 1 || docs[0].kust == nil {
		t.Fatalf("%s: want one Kustomization or Component", dir)
	}
	return docs[0].kust
}

// render is a small kustomize for what these manifests use: resources (files and
// directories), components, strategic-merge patches (see strategicMerge) and image overrides.
// Everything it cannot do fails the test rather than being skipped.
func render(t *testing.T, dir string, extraComponents ...string) []runtime.Object {
	t.Helper()
	k := kustomizationIn(t, dir)
	var objs []runtime.Object
	for _, r := range k.Resources {
		p := filepath.Join(dir, r)
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			objs = append(objs, render(t, p)...)
			continue
		}
		for _, d := range readDocs(t, p) {
			if d.obj != nil {
				objs = append(objs, d.obj.DeepCopyObject())
			}
		}
	}
	for _, c := range append(slices.Clone(k.Components), extraComponents...) {
		cdir := filepath.Join(dir, c)
		ck := kustomizationIn(t, cdir)
		for _, p := range ck.Patches {
			objs = applyPatches(t, objs, filepath.Join(cdir, p.Path))
		}
	}
	for _, p := range k.Patches {
		objs = applyPatches(t, objs, filepath.Join(dir, p.Path))
	}
	for _, l := range k.Labels {
		if l.IncludeSelectors {
			t.Fatalf("%s: render does not implement labels with includeSelectors", dir)
		}
		for _, o := range objs {
			accessor(o).SetLabels(withLabels(accessor(o).GetLabels(), l.Pairs))
			if tmpl := podTemplate(o); tmpl != nil && l.IncludeTemplates {
				tmpl.Labels = withLabels(tmpl.Labels, l.Pairs)
			}
		}
	}
	if k.Namespace != "" {
		for _, o := range objs {
			if kindOf(o) != "Namespace" {
				accessor(o).SetNamespace(k.Namespace)
			}
		}
	}
	for _, img := range k.Images {
		for _, o := range objs {
			spec := podSpec(o)
			if spec == nil {
				continue
			}
			for i := range spec.Containers {
				c := &spec.Containers[i]
				if imageName(c.Image) != img.Name {
					continue
				}
				name := img.Name
				if img.NewName != "" {
					name = img.NewName
				}
				switch {
				case img.Digest != "":
					c.Image = name + "@" + img.Digest
				case img.NewTag != "":
					c.Image = name + ":" + img.NewTag
				default:
					c.Image = name + strings.TrimPrefix(c.Image, img.Name)
				}
			}
		}
	}
	return objs
}

func applyPatches(t *testing.T, objs []runtime.Object, file string) []runtime.Object {
	t.Helper()
	for _, d := range readDocs(t, file) {
		if d.obj == nil {
			t.Errorf("%s: not a patch", d)
			continue
		}
		i := slices.IndexFunc(objs, func(o runtime.Object) bool { return kindOf(o) == d.kind && accessor(o).GetName() == d.name })
		if i < 0 {
			t.Errorf("%s: patches nothing: no %s named %s", d, d.kind, d.name)
			continue
		}
		original, err := json.Marshal(objs[i])
		if err != nil {
			t.Fatal(err)
		}
		var base, patch map[string]any
		if err := json.Unmarshal(original, &base); err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(d.raw, &patch); err != nil {
			t.Fatal(err)
		}
		merged, err := json.Marshal(strategicMerge(base, patch, reflect.TypeOf(objs[i]).Elem()))
		if err != nil {
			t.Fatal(err)
		}
		obj := reflect.New(reflect.TypeOf(objs[i]).Elem()).Interface().(runtime.Object)
		if err := json.Unmarshal(merged, obj); err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		objs[i] = obj
	}
	return objs
}

// strategicMerge applies a strategic merge patch the way kustomize does for built-in kinds,
// reading each list's strategy from the patchStrategy/patchMergeKey tags of the API types:
// maps merge, lists tagged "merge" merge their items by the merge key (or union, for scalars),
// other lists and scalars are replaced, null deletes. ($patch directives are not supported.)
func strategicMerge(base, patch map[string]any, typ reflect.Type) map[string]any {
	if base == nil {
		base = map[string]any{}
	}
	for key, pv := range patch {
		if pv == nil {
			delete(base, key)
			continue
		}
		field, ok := jsonField(typ, key)
		var ftyp reflect.Type
		if ok {
			ftyp = field.Type
			for ftyp.Kind() == reflect.Pointer {
				ftyp = ftyp.Elem()
			}
		}
		switch pv := pv.(type) {
		case map[string]any:
			bv, _ := base[key].(map[string]any)
			if ftyp != nil && ftyp.Kind() == reflect.Struct {
				base[key] = strategicMerge(bv, pv, ftyp)
			} else { // map[string]string and the like
				if bv == nil {
					bv = map[string]any{}
				}
				for k, v := range pv {
					if v == nil {
						delete(bv, k)
					} else {
						bv[k] = v
					}
				}
				base[key] = bv
			}
		case []any:
			bv, _ := base[key].([]any)
			if !ok || !strings.Contains(field.Tag.Get("patchStrategy"), "merge") {
				base[key] = pv
				continue
			}
			mergeKey := field.Tag.Get("patchMergeKey")
			elem := ftyp.Elem()
			for elem.Kind() == reflect.Pointer {
				elem = elem.Elem()
			}
			var added []any
			for _, item := range pv {
				pm, isMap := item.(map[string]any)
				i := slices.IndexFunc(bv, func(b any) bool {
					if !isMap || mergeKey == "" {
						return reflect.DeepEqual(b, item)
					}
					bm, _ := b.(map[string]any)
					return bm != nil && reflect.DeepEqual(bm[mergeKey], pm[mergeKey])
				})
				switch {
				case i < 0:
					added = append(added, item)
				case isMap && elem.Kind() == reflect.Struct:
					bv[i] = strategicMerge(bv[i].(map[string]any), pm, elem)
				}
			}
			base[key] = append(added, bv...) // new items first, as kustomize orders them
		default:
			base[key] = pv
		}
	}
	return base
}

// jsonField finds the struct field serialised as key, looking through inline embeddings.
func jsonField(typ reflect.Type, key string) (reflect.StructField, bool) {
	if typ == nil || typ.Kind() != reflect.Struct {
		return reflect.StructField{}, false
	}
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == key {
			return f, true
		}
		if name == "" && (f.Anonymous || strings.Contains(opts, "inline")) {
			if inner, ok := jsonField(f.Type, key); ok {
				return inner, true
			}
		}
	}
	return reflect.StructField{}, false
}

func kindOf(o runtime.Object) string { return o.GetObjectKind().GroupVersionKind().Kind }

func accessor(o runtime.Object) metav1.Object { return o.(metav1.Object) }

func describe(o runtime.Object) string { return kindOf(o) + "/" + accessor(o).GetName() }

func podTemplate(o runtime.Object) *corev1.PodTemplateSpec {
	switch o := o.(type) {
	case *appsv1.Deployment:
		return &o.Spec.Template
	case *batchv1.Job:
		return &o.Spec.Template
	}
	return nil
}

func podSpec(o runtime.Object) *corev1.PodSpec {
	if tmpl := podTemplate(o); tmpl != nil {
		return &tmpl.Spec
	}
	return nil
}

func withLabels(have, add map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range have {
		out[k] = v
	}
	for k, v := range add {
		out[k] = v
	}
	return out
}

func imageName(image string) string {
	if i := strings.Index(image, "@"); i >= 0 {
		image = image[:i]
	}
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		image = image[:i]
	}
	return image
}

func objects[T runtime.Object](objs []runtime.Object) []T {
	var out []T
	for _, o := range objs {
		if v, ok := o.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

// variant is something an operator deploys: an overlay, possibly with the optional component
// and patches its kustomization.yaml describes in comments.
type variant struct {
	name       string
	dir        string
	components []string // relative to dir
	patches    []string // relative to dir
}

var variants = []variant{
	{name: "base", dir: "base"},
	{name: "self-hosted", dir: "overlays/self-hosted"},
	{name: "self-hosted+mTLS", dir: "overlays/self-hosted",
		components: []string{"../../components/temporal-mtls"}, patches: []string{"search-attributes-job-mtls.yaml"}},
	{name: "temporal-cloud", dir: "overlays/temporal-cloud"},
}

// renderVariant renders an overlay with the variant's optional extras applied on top.
func renderVariant(t *testing.T, v variant) []runtime.Object {
	t.Helper()
	objs := render(t, v.dir, v.components...)
	for _, p := range v.patches {
		objs = applyPatches(t, objs, filepath.Join(v.dir, p))
	}
	return objs
}

// secretTemplates are the Secrets the manifests expect to exist but deliberately do not apply.
func secretTemplates(t *testing.T) map[string]*corev1.Secret {
	t.Helper()
	out := map[string]*corev1.Secret{}
	for _, f := range yamlFiles(t) {
		if !strings.HasSuffix(f, ".template.yaml") {
			continue
		}
		for _, d := range readDocs(t, f) {
			s, ok := d.obj.(*corev1.Secret)
			if !ok {
				t.Errorf("%s: templates are for Secrets", d)
				continue
			}
			if _, dup := out[s.Name]; dup {
				t.Errorf("%s: second template for Secret %s", d, s.Name)
			}
			out[s.Name] = s
		}
	}
	return out
}

func secretData(s *corev1.Secret) map[string]string {
	out := map[string]string{}
	for k, v := range s.Data {
		out[k] = string(v)
	}
	for k, v := range s.StringData {
		out[k] = v
	}
	return out
}

// containerEnv resolves a container's environment the way the kubelet does (envFrom, then
// env), from the rendered objects and the Secret templates.
func containerEnv(t *testing.T, where string, objs []runtime.Object, secrets map[string]*corev1.Secret, c corev1.Container) map[string]string {
	t.Helper()
	configMap := func(name string) map[string]string {
		for _, cm := range objects[*corev1.ConfigMap](objs) {
			if cm.Name == name {
				return cm.Data
			}
		}
		t.Errorf("%s: ConfigMap %s does not exist", where, name)
		return nil
	}
	secret := func(name string) map[string]string {
		for _, s := range objects[*corev1.Secret](objs) {
			if s.Name == name {
				return secretData(s)
			}
		}
		if s, ok := secrets[name]; ok {
			return secretData(s)
		}
		t.Errorf("%s: Secret %s is neither a resource nor has a *.template.yaml", where, name)
		return nil
	}
	env := map[string]string{}
	for _, from := range c.EnvFrom {
		if from.Prefix != "" {
			t.Errorf("%s: envFrom prefixes are not expected", where)
		}
		var data map[string]string
		switch {
		case from.ConfigMapRef != nil:
			data = configMap(from.ConfigMapRef.Name)
		case from.SecretRef != nil:
			data = secret(from.SecretRef.Name)
		}
		for k, v := range data {
			env[k] = v
		}
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.ConfigMapKeyRef != nil:
			ref := e.ValueFrom.ConfigMapKeyRef
			v, ok := configMap(ref.Name)[ref.Key]
			if !ok {
				t.Errorf("%s: %s: ConfigMap %s has no key %s", where, e.Name, ref.Name, ref.Key)
			}
			env[e.Name] = v
		case e.ValueFrom.SecretKeyRef != nil:
			ref := e.ValueFrom.SecretKeyRef
			v, ok := secret(ref.Name)[ref.Key]
			if !ok {
				t.Errorf("%s: %s: Secret %s has no key %s", where, e.Name, ref.Name, ref.Key)
			}
			env[e.Name] = v
		default:
			t.Errorf("%s: %s: unexpected valueFrom", where, e.Name)
		}
	}
	return env
}

// bookingContainers are the containers running the booking image, with their subcommand.
func bookingContainers(objs []runtime.Object) map[string]corev1.Container {
	out := map[string]corev1.Container{}
	for _, d := range objects[*appsv1.Deployment](objs) {
		for _, c := range d.Spec.Template.Spec.Containers {
			if strings.Contains(imageName(c.Image), "clinicbook/booking") {
				out[d.Name+"/"+c.Name] = c
			}
		}
	}
	return out
}

// TestKubernetesEnvironment checks, for every variant, that each booking container's
// environment (ConfigMap and Secret keys included) names only variables config.go reads,
// provides the required ones, and loads.
func TestKubernetesEnvironment(t *testing.T) {
	secrets := secretTemplates(t)
	for _, v := range variants {
		objs := renderVariant(t, v)
		containers := bookingContainers(objs)
		if len(containers) < 2 {
			t.Errorf("%s: found %d booking containers, want api and worker", v.name, len(containers))
		}
		for _, cm := range objects[*corev1.ConfigMap](objs) {
			for k := range cm.Data {
				if !readConfigVars(t).names[k] {
					t.Errorf("%s: ConfigMap %s key %s is not a variable config.go reads", v.name, cm.Name, k)
				}
			}
		}
		for _, name := range sortedKeys(containers) {
			checkEnv(t, v.name+" "+name, containerEnv(t, v.name+" "+name, objs, secrets, containers[name]))
		}
	}
	for _, name := range []string{"booking-secrets"} {
		s, ok := secrets[name]
		if !ok {
			t.Fatalf("no template for Secret %s", name)
		}
		for k := range secretData(s) {
			if !readConfigVars(t).names[k] {
				t.Errorf("Secret template %s: key %s is not a variable config.go reads", name, k)
			}
		}
		for _, k := range []string{"DATABASE_URL", "JWT_SIGNING_KEY", "TWILIO_AUTH_TOKEN", "SMTP_PASSWORD", "TEMPORAL_API_KEY", "ADMIN_PASSWORD", "TEMPORAL_CODEC_KEYS"} {
			if _, ok := secretData(s)[k]; !ok {
				t.Errorf("Secret template %s lacks %s", name, k)
			}
		}
	}
}

// TestWorkloads checks probes, ports, security, resources, shutdown and images of every
// workload, and that Services, autoscalers and disruption budgets point at them.
func TestWorkloads(t *testing.T) {
	secrets := secretTemplates(t)
	stop := workerStopTimeout(t)
	for _, v := range variants {
		objs := renderVariant(t, v)
		deployments := objects[*appsv1.Deployment](objs)
		if len(deployments) != 2 {
			t.Errorf("%s: %d Deployments, want api and worker", v.name, len(deployments))
		}
		for _, d := range deployments {
			where := v.name + " Deployment/" + d.Name
			sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
			if err != nil || sel.Empty() || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
				t.Errorf("%s: selector %v does not match the pod labels %v", where, d.Spec.Selector, d.Spec.Template.Labels)
			}
			spec := d.Spec.Template.Spec
			checkPodSecurity(t, where, spec)
			for _, c := range spec.Containers {
				checkPinned(t, where, c.Image, false)
				if len(c.Args) == 0 {
					t.Errorf("%s: container %s has no subcommand", where, c.Name)
					continue
				}
				addrVar := map[string]string{"api": "HTTP_ADDR", "worker": "WORKER_HTTP_ADDR"}[c.Args[0]]
				if addrVar == "" {
					t.Errorf("%s: unexpected subcommand %v", where, c.Args)
					continue
				}
				env := containerEnv(t, where, objs, secrets, c)
				port, _ := strconv.Atoi(portOf(t, where, effective(t, env, addrVar)))
				checkProbe(t, where+" readiness", c, c.ReadinessProbe, "/readyz", port)
				checkProbe(t, where+" liveness", c, c.LivenessProbe, "/healthz", port)
				checkProbe(t, where+" startup", c, c.StartupProbe, "/healthz", port)
				// Start-up migrates and waits up to two minutes for Temporal: liveness must
				// not kill it meanwhile.
				if p := c.StartupProbe; p != nil && int(p.PeriodSeconds)*int(p.FailureThreshold) < 120 {
					t.Errorf("%s: startup probe allows %ds, less than the 2 minutes start-up may wait for Temporal",
						where, p.PeriodSeconds*p.FailureThreshold)
				}
				for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
					if _, ok := c.Resources.Requests[r]; !ok {
						t.Errorf("%s: no %s request", where, r)
					}
					if _, ok := c.Resources.Limits[r]; !ok {
						t.Errorf("%s: no %s limit", where, r)
					}
				}
				// SIGTERM: HTTP drain (20s) then the Temporal worker's stop timeout, which
				// lets in-flight activities finish; both the api and the worker host a worker.
				need := int64(stop) + 20
				if c.Lifecycle != nil && c.Lifecycle.PreStop != nil && c.Lifecycle.PreStop.Sleep != nil {
					need += c.Lifecycle.PreStop.Sleep.Seconds
				}
				if g := spec.TerminationGracePeriodSeconds; g == nil || *g < need {
					t.Errorf("%s: terminationGracePeriodSeconds %s, want at least %d (worker stop timeout %ds + 20s drain)",
						where, fmtPtr(g), need, stop)
				}
			}
			if spec.ServiceAccountName == "" || spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
				t.Errorf("%s: should run as its own service account without a mounted token", where)
			}
		}

		for _, job := range objects[*batchv1.Job](objs) {
			where := v.name + " Job/" + job.Name
			checkPodSecurity(t, where, job.Spec.Template.Spec)
			for _, c := range job.Spec.Template.Spec.Containers {
				checkPinned(t, where, c.Image, false)
			}
		}

		// Each Deployment has one HPA and one PDB, and they select it.
		for _, d := range deployments {
			where := v.name + " Deployment/" + d.Name
			var hpas, pdbs int
			for _, h := range objects[*autoscalingv2.HorizontalPodAutoscaler](objs) {
				ref := h.Spec.ScaleTargetRef
				if ref.Kind != "Deployment" || ref.APIVersion != "apps/v1" || ref.Name != d.Name {
					continue
				}
				hpas++
				if h.Spec.MinReplicas == nil || *h.Spec.MinReplicas < 2 || h.Spec.MaxReplicas < *h.Spec.MinReplicas {
					t.Errorf("%s: HPA %s replicas %s..%d, want 2 <= min <= max", where, h.Name, fmtPtr(h.Spec.MinReplicas), h.Spec.MaxReplicas)
				}
				for _, m := range h.Spec.Metrics {
					if m.Resource == nil || m.Resource.Target.Type != autoscalingv2.UtilizationMetricType {
						continue
					}
					for _, c := range d.Spec.Template.Spec.Containers {
						if _, ok := c.Resources.Requests[m.Resource.Name]; !ok {
							t.Errorf("%s: HPA %s scales on %s utilisation but container %s requests none", where, h.Name, m.Resource.Name, c.Name)
						}
					}
				}
			}
			for _, p := range objects[*policyv1.PodDisruptionBudget](objs) {
				sel, err := metav1.LabelSelectorAsSelector(p.Spec.Selector)
				if err != nil || sel.Empty() || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
					continue
				}
				pdbs++
				if p.Spec.MinAvailable == nil && p.Spec.MaxUnavailable == nil {
					t.Errorf("%s: PDB %s sets neither minAvailable nor maxUnavailable", where, p.Name)
				}
			}
			if hpas != 1 || pdbs != 1 {
				t.Errorf("%s: %d HPAs and %d PDBs select it, want one of each", where, hpas, pdbs)
			}
		}
		for _, h := range objects[*autoscalingv2.HorizontalPodAutoscaler](objs) {
			if !slices.ContainsFunc(deployments, func(d *appsv1.Deployment) bool { return d.Name == h.Spec.ScaleTargetRef.Name }) {
				t.Errorf("%s: HPA %s targets missing %s/%s", v.name, h.Name, h.Spec.ScaleTargetRef.Kind, h.Spec.ScaleTargetRef.Name)
			}
		}
		for _, p := range objects[*policyv1.PodDisruptionBudget](objs) {
			sel, _ := metav1.LabelSelectorAsSelector(p.Spec.Selector)
			n := 0
			for _, d := range deployments {
				if sel != nil && !sel.Empty() && sel.Matches(labels.Set(d.Spec.Template.Labels)) {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%s: PDB %s selects %d Deployments, want 1", v.name, p.Name, n)
			}
		}

		// Services reach a named container port of exactly the pods they select.
		for _, s := range objects[*corev1.Service](objs) {
			where := v.name + " Service/" + s.Name
			var matched []*appsv1.Deployment
			for _, d := range deployments {
				if len(s.Spec.Selector) > 0 && labels.SelectorFromSet(s.Spec.Selector).Matches(labels.Set(d.Spec.Template.Labels)) {
					matched = append(matched, d)
				}
			}
			if len(matched) != 1 {
				t.Errorf("%s: selects %d Deployments, want 1", where, len(matched))
				continue
			}
			for _, sp := range s.Spec.Ports {
				if resolvePort(matched[0].Spec.Template.Spec.Containers[0], sp.TargetPort) == 0 {
					t.Errorf("%s: targetPort %s is not a port of %s", where, sp.TargetPort.String(), matched[0].Name)
				}
			}
		}
		if !slices.ContainsFunc(objects[*corev1.Service](objs), func(s *corev1.Service) bool {
			return s.Spec.Selector["app.kubernetes.io/component"] == "api"
		}) {
			t.Errorf("%s: no Service for the api", v.name)
		}
	}
}

func fmtPtr[T any](p *T) string {
	if p == nil {
		return "unset"
	}
	return fmt.Sprint(*p)
}

func checkPodSecurity(t *testing.T, where string, spec corev1.PodSpec) {
	t.Helper()
	pod := spec.SecurityContext
	if pod == nil {
		pod = &corev1.PodSecurityContext{}
	}
	for _, c := range append(slices.Clone(spec.InitContainers), spec.Containers...) {
		sc := c.SecurityContext
		if sc == nil {
			t.Errorf("%s: container %s has no securityContext", where, c.Name)
			continue
		}
		nonRoot := sc.RunAsNonRoot
		if nonRoot == nil {
			nonRoot = pod.RunAsNonRoot
		}
		uid := sc.RunAsUser
		if uid == nil {
			uid = pod.RunAsUser
		}
		if nonRoot == nil || !*nonRoot || (uid != nil && *uid == 0) {
			t.Errorf("%s: container %s may run as root", where, c.Name)
		}
		if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			t.Errorf("%s: container %s: readOnlyRootFilesystem is not true", where, c.Name)
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			t.Errorf("%s: container %s: allowPrivilegeEscalation is not false", where, c.Name)
		}
		if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0 {
			t.Errorf("%s: container %s must drop ALL capabilities and add none", where, c.Name)
		}
		for r, q := range c.Resources.Limits {
			if req, ok := c.Resources.Requests[r]; ok && req.Cmp(q) > 0 {
				t.Errorf("%s: container %s requests more %s (%s) than its limit (%s)", where, c.Name, r, req.String(), q.String())
			}
		}
	}
	if pod.SeccompProfile == nil || pod.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s: pod seccompProfile should be RuntimeDefault", where)
	}
}

func checkProbe(t *testing.T, where string, c corev1.Container, p *corev1.Probe, path string, port int) {
	t.Helper()
	switch {
	case p == nil:
		t.Errorf("%s: no probe", where)
	case p.HTTPGet == nil:
		t.Errorf("%s: want an httpGet probe on %s", where, path)
	case p.HTTPGet.Path != path:
		t.Errorf("%s: probes %s, want %s", where, p.HTTPGet.Path, path)
	case resolvePort(c, p.HTTPGet.Port) != port:
		t.Errorf("%s: probes port %s, but the process listens on %d", where, p.HTTPGet.Port.String(), port)
	}
}

// resolvePort turns a numeric or named port into the container port number, 0 if unknown.
func resolvePort(c corev1.Container, p intstr.IntOrString) int {
	if p.Type == intstr.Int {
		for _, cp := range c.Ports {
			if int(cp.ContainerPort) == p.IntValue() {
				return p.IntValue()
			}
		}
		return 0
	}
	for _, cp := range c.Ports {
		if cp.Name == p.StrVal {
			return int(cp.ContainerPort)
		}
	}
	return 0
}

// workerStopTimeout reads WorkerStopTimeout from worker/worker.go (seconds), 30 when it cannot.
func workerStopTimeout(t *testing.T) int {
	data, err := os.ReadFile(filepath.Join(repoRoot, "worker", "worker.go"))
	if m := regexp.MustCompile(`WorkerStopTimeout:\s*(\d+)\s*\*\s*time\.Second`).FindSubmatch(data); err == nil && m != nil {
		n, _ := strconv.Atoi(string(m[1]))
		return n
	}
	if m := regexp.MustCompile(`WorkerStopTimeout:\s*(\d+)\s*\*\s*time\.Minute`).FindSubmatch(data); err == nil && m != nil {
		n, _ := strconv.Atoi(string(m[1]))
		return n * 60
	}
	t.Log("WorkerStopTimeout not found in worker/worker.go; assuming 30s")
	return 30
}

// TestBaseImage checks that the base pins the booking image through kustomize's images.
func TestBaseImage(t *testing.T) {
	k := kustomizationIn(t, "base")
	var names []string
	for _, d := range readDocsOfKind(t, "base", "Deployment") {
		for _, c := range d.(*appsv1.Deployment).Spec.Template.Spec.Containers {
			names = append(names, imageName(c.Image))
		}
	}
	for _, n := range names {
		i := slices.IndexFunc(k.Images, func(img kustImage) bool { return img.Name == n })
		if i < 0 {
			t.Errorf("base: image %s has no images: entry pinning it", n)
			continue
		}
		if img := k.Images[i]; img.Digest == "" && (img.NewTag == "" || img.NewTag == "latest") {
			t.Errorf("base: image %s is not pinned (newTag %q)", n, img.NewTag)
		}
	}
}

func readDocsOfKind(t *testing.T, dir, kind string) []runtime.Object {
	t.Helper()
	var out []runtime.Object
	for _, r := range kustomizationIn(t, dir).Resources {
		for _, d := range readDocs(t, filepath.Join(dir, r)) {
			if d.kind == kind && d.obj != nil {
				out = append(out, d.obj)
			}
		}
	}
	return out
}

// TestTemporalOverlays checks how each overlay reaches Temporal.
func TestTemporalOverlays(t *testing.T) {
	secrets := secretTemplates(t)
	envs := func(dir string, components ...string) map[string]map[string]string {
		objs := render(t, dir, components...)
		out := map[string]map[string]string{}
		for name, c := range bookingContainers(objs) {
			out[name] = containerEnv(t, dir+" "+name, objs, secrets, c)
		}
		return out
	}

	for name, env := range envs("overlays/self-hosted") {
		if got := env["TEMPORAL_ADDRESS"]; got != "temporal-frontend.temporal.svc.cluster.local:7233" {
			t.Errorf("self-hosted %s: TEMPORAL_ADDRESS %q, want the Helm chart's frontend Service", name, got)
		}
	}
	cloudAddress := regexp.MustCompile(`^[^.\s]+\.[^.\s]+\.tmprl\.cloud:7233$`)
	for name, env := range envs("overlays/temporal-cloud") {
		if !cloudAddress.MatchString(env["TEMPORAL_ADDRESS"]) {
			t.Errorf("temporal-cloud %s: TEMPORAL_ADDRESS %q, want <namespace>.<account>.tmprl.cloud:7233", name, env["TEMPORAL_ADDRESS"])
		}
		if env["TEMPORAL_TLS"] != "true" || env["TEMPORAL_API_KEY"] == "" {
			t.Errorf("temporal-cloud %s: want TEMPORAL_TLS=true and TEMPORAL_API_KEY set", name)
		}
		if !strings.HasPrefix(env["TEMPORAL_ADDRESS"], env["TEMPORAL_NAMESPACE"]+".") {
			t.Errorf("temporal-cloud %s: TEMPORAL_NAMESPACE %q does not match the address %q", name, env["TEMPORAL_NAMESPACE"], env["TEMPORAL_ADDRESS"])
		}
	}
	// The API key comes from its own Secret, not from a literal.
	for _, d := range objects[*appsv1.Deployment](render(t, "overlays/temporal-cloud")) {
		for _, c := range d.Spec.Template.Spec.Containers {
			i := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == "TEMPORAL_API_KEY" })
			if i < 0 || c.Env[i].ValueFrom == nil || c.Env[i].ValueFrom.SecretKeyRef == nil {
				t.Errorf("temporal-cloud Deployment/%s: TEMPORAL_API_KEY should come from a secretKeyRef", d.Name)
			}
		}
	}

	// mTLS (self-hosted option, Temporal Cloud alternative): certificate files under a
	// mounted Secret volume.
	for _, dir := range []string{"overlays/self-hosted", "overlays/temporal-cloud"} {
		objs := render(t, dir, "../../components/temporal-mtls")
		for _, d := range objects[*appsv1.Deployment](objs) {
			spec := d.Spec.Template.Spec
			for _, c := range spec.Containers {
				where := dir + "+mTLS Deployment/" + d.Name
				env := containerEnv(t, where, objs, secrets, c)
				if env["TEMPORAL_TLS"] != "true" {
					t.Errorf("%s: TEMPORAL_TLS is not true", where)
				}
				for _, v := range []string{"TEMPORAL_TLS_CERT", "TEMPORAL_TLS_KEY"} {
					if !mountedFromSecret(spec, c, env[v]) {
						t.Errorf("%s: %s=%q is not a file of a mounted Secret", where, v, env[v])
					}
				}
			}
		}
	}
}

func mountedFromSecret(spec corev1.PodSpec, c corev1.Container, path string) bool {
	if path == "" {
		return false
	}
	for _, m := range c.VolumeMounts {
		if !strings.HasPrefix(path, strings.TrimSuffix(m.MountPath, "/")+"/") {
			continue
		}
		for _, v := range spec.Volumes {
			if v.Name == m.Name && v.Secret != nil && v.Secret.SecretName != "" {
				return true
			}
		}
	}
	return false
}

// TestSearchAttributeJob checks the self-hosted registration Job against the code.
func TestSearchAttributeJob(t *testing.T) {
	for _, job := range objects[*batchv1.Job](render(t, "overlays/self-hosted")) {
		for _, c := range job.Spec.Template.Spec.Containers {
			script := strings.Join(append(slices.Clone(c.Command), c.Args...), "\n")
			checkSearchAttributeScript(t, "Job/"+job.Name, script)
			return
		}
	}
	t.Error("overlays/self-hosted: no Job registering the search attributes")
}

// TestRenderMatchesKustomize checks render, which the other tests rely on, against kustomize
// itself (its Go library, as `kubectl kustomize` runs it).
func TestRenderMatchesKustomize(t *testing.T) {
	build := func(dir string) ([]byte, error) {
		resources, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
		if err != nil {
			return nil, err
		}
		return resources.AsYaml()
	}
	for _, v := range variants {
		dir := v.dir
		if len(v.components)+len(v.patches) > 0 {
			// A throwaway kustomization adding the optional extras to the overlay.
			tmp := t.TempDir()
			abs, _ := filepath.Abs(v.dir)
			rel, err := filepath.Rel(tmp, abs)
			if err != nil {
				t.Fatal(err)
			}
			k := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - " + rel + "\ncomponents:\n"
			for _, c := range v.components {
				crel, _ := filepath.Rel(tmp, filepath.Join(abs, c))
				k += "  - " + crel + "\n"
			}
			k += "patches:\n"
			for _, p := range v.patches { // kustomize only reads patches inside the root: copy them
				data, err := os.ReadFile(filepath.Join(v.dir, p))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(tmp, filepath.Base(p)), data, 0o644); err != nil {
					t.Fatal(err)
				}
				k += "  - path: " + filepath.Base(p) + "\n"
			}
			if err := os.WriteFile(filepath.Join(tmp, "kustomization.yaml"), []byte(k), 0o644); err != nil {
				t.Fatal(err)
			}
			dir = tmp
		}
		out, err := build(dir)
		if err != nil {
			t.Errorf("%s: kustomize: %v", v.name, err)
			continue
		}
		file := filepath.Join(t.TempDir(), "out.yaml")
		if err := os.WriteFile(file, out, 0o644); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{}
		for _, d := range readDocs(t, file) {
			want[d.kind+"/"+d.name] = normalise(t, d.obj)
		}
		got := map[string]any{}
		for _, o := range renderVariant(t, v) {
			got[describe(o)] = normalise(t, o)
		}
		for _, key := range sortedKeys(want) {
			if g, ok := got[key]; !ok {
				t.Errorf("%s: kustomize renders %s, render does not", v.name, key)
			} else if !reflect.DeepEqual(g, want[key]) {
				gj, _ := json.Marshal(g)
				wj, _ := json.Marshal(want[key])
				t.Errorf("%s: %s differs\nrender:    %s\nkustomize: %s", v.name, key, gj, wj)
			}
		}
		for _, key := range sortedKeys(got) {
			if _, ok := want[key]; !ok {
				t.Errorf("%s: render produces %s, kustomize does not", v.name, key)
			}
		}
	}
}

// normalise turns an object into plain JSON values for comparison.
func normalise(t *testing.T, o runtime.Object) any {
	t.Helper()
	data, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	return v
}
