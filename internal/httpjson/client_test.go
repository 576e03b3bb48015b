package httpjson

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCall(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Name string }
		if !(API{}).Read(w, r, &in) {
			return
		}
		if in.Name == "" {
			(API{}).Error(w, http.StatusBadRequest, errTest("name is required"))
			return
		}
		Write(w, http.StatusCreated, map[string]string{"hello": in.Name})
	}))
	defer srv.Close()
	var out struct{ Hello string }
	if err := Call(context.Background(), srv.Client(), http.MethodPost, srv.URL, map[string]string{"name": "ann"}, &out, http.StatusCreated); err != nil || out.Hello != "ann" {
		t.Fatalf("%v %+v", err, out)
	}
	err := Call(context.Background(), srv.Client(), http.MethodPost, srv.URL, map[string]string{}, &out, http.StatusCreated)
	if err == nil || !strings.Contains(err.Error(), "HTTP 400") || !strings.Contains(err.Error(), "name is required") {
		t.Fatalf("a wrong status: %v", err)
	}
}

type errTest string

func (e errTest) Error() string { return string(e) }
