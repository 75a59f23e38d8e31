package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestRun(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/readyz" {
			w.WriteHeader(http.StatusOK)
			return
		}
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer srv.Close()

	cases := []struct {
		args []string
		want int
	}{
		{[]string{srv.URL + "/readyz"}, 0},
		{[]string{srv.URL + "/elsewhere"}, 1},
		{[]string{"-timeout", "1s", "http://127.0.0.1:1/readyz"}, 1},
		{[]string{"-nope"}, 2},
	}
	for _, c := range cases {
		if got := run(c.args, io.Discard); got != c.want {
			t.Errorf("run(%q) = %d, want %d", c.args, got, c.want)
		}
	}
}
