package api

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clinicbook/booking/domain"
)

// Each way a body can fail to decode is told apart by the error's type, and answered as
// invalid input naming what was wrong.
func TestDecodeExplainsEachFailure(t *testing.T) {
	type inner struct {
		Name string `json:"name"`
	}
	type body struct {
		Count int         `json:"count"`
		Inner inner       `json:"inner"`
		When  domain.Date `json:"when"`
	}
	cases := []struct {
		name    string
		body    string
		message string // part of the problem's message
		field   string // the field named, if any
	}{
		{"empty", ``, "the body is empty", ""},
		{"not JSON", `{"count": }`, "not valid JSON", ""},
		{"cut short", `{"count": 1`, "not valid JSON", ""},
		{"too large", `{"inner": {"name": "` + strings.Repeat("x", maxBody) + `"}}`, fmt.Sprintf("larger than %d bytes", maxBody), ""},
		{"an array", `[1]`, "must be a JSON object", ""},
		{"wrong type", `{"count": "seven"}`, "wrong type", "count"},
		{"wrong type, nested", `{"inner": {"name": 7}}`, "wrong type", "inner.name"},
		{"unknown field", `{"count": 1, "discount": 100}`, "unknown field", "discount"},
		{"unknown field, nested", `{"inner": {"name": "a", "nick": "b"}}`, "unknown field", "nick"},
		{"unknown field with a quote in its name", `{"dis\"count": 1}`, "unknown field", `dis"count`},
		{"two objects", `{"count": 1} {"count": 2}`, "a single JSON object", ""},
		{"our own UnmarshalJSON", `{"when": "7 Jan"}`, "could not be read", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(c.body))
			var v body
			de := asDomainError(decode(httptest.NewRecorder(), r, &v, false))
			require.NotNil(t, de)
			require.Equal(t, domain.KindInvalid, de.Kind)
			require.Contains(t, de.Message, c.message)
			if c.field == "" {
				require.Empty(t, de.Fields)
				return
			}
			require.Len(t, de.Fields, 1)
			require.Equal(t, c.field, de.Fields[0].Field)
		})
	}
}

// Only the decoder's own unknown-field error is read as one: text that merely looks like it,
// from anywhere else, is not.
func TestUnknownFieldTakesOnlyTheDecodersForm(t *testing.T) {
	name, ok := unknownField(fmt.Errorf("json: unknown field %q", "x"))
	require.True(t, ok)
	require.Equal(t, "x", name)
	for _, s := range []string{`json: unknown field x`, `date: json: unknown field "x"`, `json: unknown field "x" and more`} {
		_, ok := unknownField(fmt.Errorf("%s", s))
		require.False(t, ok, s)
	}
}
