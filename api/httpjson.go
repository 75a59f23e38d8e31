package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/clinicbook/booking/domain"
)

// maxBody is the largest request body accepted; every body here is small.
const maxBody = 64 << 10

// decode reads a JSON body into v: at most maxBody bytes, one object, no unknown fields.
// An empty body decodes as {} when allowEmpty.
func decode(w http.ResponseWriter, r *http.Request, v any, allowEmpty bool) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return domain.Errorf(domain.KindInvalid, "the body must be JSON (Content-Type: application/json)")
		}
	}
	body := http.MaxBytesReader(w, r.Body, maxBody)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if errors.Is(err, io.EOF) && allowEmpty {
		return nil
	}
	if err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return domain.Errorf(domain.KindInvalid, "the body must hold a single JSON object")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return domain.Errorf(domain.KindInvalid, "the body must hold a single JSON object")
	}
	if field := nulField(reflect.ValueOf(v), ""); field != "" {
		// PostgreSQL's text cannot hold NUL; refuse it here rather than fail in the database.
		return domain.Invalid("a field holds a NUL character", domain.FieldError{Field: field, Message: "must not contain NUL characters"})
	}
	return nil
}

// nulField names the first string field under v that contains a NUL character.
func nulField(v reflect.Value, name string) string {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return nulField(v.Elem(), name)
		}
	case reflect.String:
		if strings.ContainsRune(v.String(), 0) {
			return name
		}
	case reflect.Struct:
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			fname, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if fname == "" {
				fname = f.Name
			}
			if got := nulField(v.Field(i), joinField(name, fname)); got != "" {
				return got
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if got := nulField(v.Index(i), fmt.Sprintf("%s[%d]", name, i)); got != "" {
				return got
			}
		}
	}
	return ""
}

func joinField(parent, child string) string {
	if parent == "" {
		return child
	}
	return parent + "." + child
}

// jsonError explains a decoding failure in the caller's terms.
func jsonError(err error) error {
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	var maxErr *http.MaxBytesError
	switch {
	case errors.Is(err, io.EOF):
		return domain.Errorf(domain.KindInvalid, "the body is empty; a JSON object was expected")
	case errors.As(err, &maxErr):
		return domain.Errorf(domain.KindInvalid, "the body is larger than %d bytes", maxBody)
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
		return domain.Errorf(domain.KindInvalid, "the body is not valid JSON")
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return domain.Errorf(domain.KindInvalid, "the body must be a JSON object")
		}
		return domain.Invalid("a field has the wrong type", domain.FieldError{Field: field, Message: fmt.Sprintf("must be a %s", typeErr.Type.Kind())})
	}
	if name, ok := unknownField(err); ok {
		return domain.Invalid("the body has an unknown field", domain.FieldError{Field: name, Message: "unknown field"})
	}
	// Errors from our own UnmarshalJSON methods (dates, clocks) are about the input.
	return domain.Errorf(domain.KindInvalid, "the body could not be read: %v", err)
}

// unknownField names the member DisallowUnknownFields refused. encoding/json has no type or
// sentinel for this error, only fmt.Errorf("json: unknown field %q", name) (kept word for word
// by the implementation over encoding/json/v2 too), so this is the one place that reads an
// error's text, and it takes nothing but that exact form. Detecting unknown members ourselves
// (decoding into map[string]json.RawMessage and comparing with the struct's fields) would
// have to redo the package's case-insensitive name matching, embedded structs and nesting.
func unknownField(err error) (string, bool) {
	quoted, ok := strings.CutPrefix(err.Error(), "json: unknown field ")
	if !ok {
		return "", false
	}
	name, uerr := strconv.Unquote(quoted)
	if uerr != nil {
		return "", false
	}
	return name, true
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
