package mockapns

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pushlab/pushlab/testpki"
)

// FuzzHandler feeds arbitrary paths, headers, tokens and payloads through the
// whole APNs handler: it must answer with a documented status and reason (or
// 200) and never panic.
func FuzzHandler(f *testing.F) {
	set := testSet(f)
	s, err := New(Config{Cert: set.Mock.TLS(), ClientCAs: set.CA.Pool()})
	if err != nil {
		f.Fatal(err)
	}
	s.RegisterKey(Key{ID: set.APNsKey.KeyID, TeamID: set.TeamID, Public: &set.APNsKey.Key.PublicKey})
	reg, _ := s.RegisterDevice(set.BundleID, testpki.Production, "fuzz")
	good := goodBearer(f, set)
	f.Add("POST", "/3/device/"+reg.Token, "bearer "+good, set.BundleID, "alert", "10", "0", "", "", payload)
	f.Add("POST", "/3/device/"+reg.Token, "bearer "+good, set.BundleID+".voip", "voip", "5", "99", "c", "9f0c2e2a-7d8e-4f7b-a1a3-1d2c3b4a5e6f", `{"aps":{}}`)
	f.Add("GET", "/3/device/", "bearer a.b.c", "x y", "bogus", "11", "-1", strings.Repeat("c", 70), "nope", `{"aps":`)
	f.Add("POST", "/3/device/zz", "Basic xyz", "", "", "", "", "", "", "")
	h := s.Handler()
	f.Fuzz(func(t *testing.T, method, path, auth, topic, pushType, prio, exp, collapse, id, body string) {
		if !validMethod(method) {
			method = "POST"
		}
		req := httptest.NewRequest("POST", "https://"+HostProduction+"/", strings.NewReader(body))
		req.Method = method
		req.URL.Path = path
		for k, v := range map[string]string{"Authorization": auth, "Apns-Topic": topic, "Apns-Push-Type": pushType,
			"Apns-Priority": prio, "Apns-Expiration": exp, "Apns-Collapse-Id": collapse, "Apns-Id": id} {
			if v != "" {
				req.Header[k] = []string{v}
			}
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code == 200 {
			if !validUUID(w.Header().Get("Apns-Id")) {
				t.Fatalf("200 without an apns-id")
			}
			return
		}
		var e struct {
			Reason    string `json:"reason"`
			Timestamp *int64 `json:"timestamp"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
			t.Fatalf("%d body %q: %v", w.Code, w.Body, err)
		}
		if st, ok := Reasons[e.Reason]; !ok || st != w.Code {
			t.Fatalf("answered %d %q, not in the table", w.Code, e.Reason)
		}
		if (w.Code == http.StatusGone) != (e.Timestamp != nil) {
			t.Fatalf("%d with timestamp %v", w.Code, e.Timestamp)
		}
	})
}

// FuzzJWT checks that no provider token crashes the verifier or verifies
// without the registered key's signature.
func FuzzJWT(f *testing.F) {
	set := testSet(f)
	key := &Key{ID: set.APNsKey.KeyID, TeamID: set.TeamID, Public: &set.APNsKey.Key.PublicKey}
	good := goodBearer(f, set)
	f.Add(good)
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("a.b.c.d")
	f.Fuzz(func(t *testing.T, bearer string) {
		v, _, err := parseJWT(bearer, func(kid string) *Key {
			if kid == key.ID {
				return key
			}
			return nil
		})
		if err == nil && (v == nil || v.key != key) {
			t.Fatalf("verified without the key: %q", bearer)
		}
		if err != nil && err.Reason != ReasonInvalidProviderToken {
			t.Fatalf("reason %s", err.Reason)
		}
	})
}

func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for _, c := range m {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

func goodBearer(tb testing.TB, set *testpki.Set) string {
	c := apnsTokenFor(set.APNsKey)
	c.Generate()
	return c.Bearer
}
