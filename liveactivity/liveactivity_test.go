package liveactivity

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name, payload, err string
	}{
		{"start", `{"aps":{"timestamp":1700000000,"event":"start","content-state":{"score":"0-0"},"attributes-type":"Match","attributes":{"home":"A"},"input-push-token":1,"alert":{"title":"Kick-off"}}}`, ""},
		{"start on a channel", `{"aps":{"timestamp":1700000000,"event":"start","content-state":{},"attributes-type":"Match","attributes":{},"input-push-channel":"dHdv"}}`, ""},
		{"update", `{"aps":{"timestamp":1700000001,"event":"update","content-state":{"score":"1-0"},"stale-date":1700003600,"relevance-score":75}}`, ""},
		{"end without state", `{"aps":{"timestamp":1700000002,"event":"end","dismissal-date":1700000100}}`, ""},
		{"no timestamp", `{"aps":{"event":"update","content-state":{}}}`, "timestamp is required"},
		{"timestamp as string", `{"aps":{"timestamp":"1700000000","event":"update","content-state":{}}}`, "timestamp must be"},
		{"unknown event", `{"aps":{"timestamp":1,"event":"pause","content-state":{}}}`, "not start, update or end"},
		{"update without state", `{"aps":{"timestamp":1,"event":"update"}}`, "content-state is required"},
		{"state not an object", `{"aps":{"timestamp":1,"event":"update","content-state":[1]}}`, "must be a dictionary"},
		{"start without attributes", `{"aps":{"timestamp":1,"event":"start","content-state":{},"attributes-type":"M"}}`, "aps.attributes"},
		{"start without type", `{"aps":{"timestamp":1,"event":"start","content-state":{},"attributes":{}}}`, "attributes-type"},
		{"attributes on update", `{"aps":{"timestamp":1,"event":"update","content-state":{},"attributes":{}}}`, "only go with start"},
		{"dismissal on update", `{"aps":{"timestamp":1,"event":"update","content-state":{},"dismissal-date":5}}`, "only goes with end"},
		{"score not a number", `{"aps":{"timestamp":1,"event":"update","content-state":{},"relevance-score":"high"}}`, "relevance-score"},
		{"input-push-token 2", `{"aps":{"timestamp":1,"event":"start","content-state":{},"attributes-type":"M","attributes":{},"input-push-token":2}}`, "input-push-token"},
		{"no aps", `{"event":"update"}`, "no aps"},
		{"not json", `{"aps":`, "not JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.payload))
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tt.err != "" && (err == nil || !errors.Is(err, ErrPayload) || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("error %v, want one containing %q", err, tt.err)
			}
		})
	}
	p, _ := Parse([]byte(tests[0].payload))
	if p.AttributesType != "Match" || string(p.ContentState) != `{"score":"0-0"}` || !p.InputPushToken || p.Timestamp != 1700000000 {
		t.Fatalf("parsed %+v", p)
	}
}

// TestLifecycle runs one activity by a device clock: start, an update, an
// update out of order (dropped), stale at its stale date, end with a
// dismissal date, dismissed then.
func TestLifecycle(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	s := NewStore(func() time.Time { return now })
	must := func(payload string) Payload {
		t.Helper()
		p, err := Parse([]byte(payload))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	a, err := s.Start("com.example", must(`{"aps":{"timestamp":1700000000,"event":"start","content-state":{"s":"0-0"},"attributes-type":"M","attributes":{"h":"A"}}}`))
	if err != nil || a.State != StateActive {
		t.Fatalf("start: %+v %v", a, err)
	}
	now = now.Add(time.Minute)
	if a, err = s.Apply(a.ID, must(`{"aps":{"timestamp":1700000060,"event":"update","content-state":{"s":"1-0"},"stale-date":1700000600}}`)); err != nil || string(a.ContentState) != `{"s":"1-0"}` {
		t.Fatalf("update: %+v %v", a, err)
	}
	if _, err = s.Apply(a.ID, must(`{"aps":{"timestamp":1700000030,"event":"update","content-state":{"s":"9-9"}}}`)); !errors.Is(err, ErrOutOfOrder) {
		t.Fatalf("older update: %v", err)
	}
	if _, err = s.Apply(a.ID, must(`{"aps":{"timestamp":1700040000,"event":"update","content-state":{"s":"9-9"}}}`)); !errors.Is(err, ErrFuture) {
		t.Fatalf("update 11 hours ahead: %v", err)
	}
	now = time.Unix(1_700_000_600, 0)
	if got, _ := s.Get(a.ID); got.State != StateStale || string(got.ContentState) != `{"s":"1-0"}` {
		t.Fatalf("at the stale date: %+v", got)
	}
	if a, err = s.Apply(a.ID, must(`{"aps":{"timestamp":1700000000,"event":"end","content-state":{"s":"2-1"},"dismissal-date":1700000900}}`)); err != nil || a.State != StateEnded {
		t.Fatalf("end (an old timestamp is fine for end): %+v %v", a, err)
	}
	if _, err = s.Apply(a.ID, must(`{"aps":{"timestamp":1700000700,"event":"update","content-state":{}}}`)); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("update after end: %v", err)
	}
	now = time.Unix(1_700_000_900, 0)
	if got := s.List(); len(got) != 1 || got[0].State != StateDismissed || string(got[0].ContentState) != `{"s":"2-1"}` || got[0].Updates != 2 {
		t.Fatalf("after the dismissal date: %+v", got)
	}
	// An activity never ended ends by itself after 8 hours, and goes 4 hours later.
	b, _ := s.Start("com.example", must(`{"aps":{"timestamp":1700000901,"event":"start","content-state":{},"attributes-type":"M","attributes":{}}}`))
	now = now.Add(MaxActive)
	if got, _ := s.Get(b.ID); got.State != StateEnded {
		t.Fatalf("after 8 hours: %s", got.State)
	}
	now = now.Add(MaxEndedShown)
	if got, _ := s.Get(b.ID); got.State != StateDismissed {
		t.Fatalf("4 hours after: %s", got.State)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"aps":{"timestamp":1700000000,"event":"start","content-state":{"score":"0-0"},"attributes-type":"Match","attributes":{"home":"A"},"input-push-token":1}}`))
	f.Add([]byte(`{"aps":{"timestamp":1700000002,"event":"end","dismissal-date":1700000100,"relevance-score":1e308}}`))
	f.Add([]byte(`{"aps":{"timestamp":-1,"event":"update","content-state":null}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b)
		if err != nil {
			if !errors.Is(err, ErrPayload) {
				t.Fatalf("error not ErrPayload: %v", err)
			}
			return
		}
		if p.Timestamp <= 0 || (p.Event != EventEnd && p.ContentState == nil) || (p.Event == EventStart) != (p.AttributesType != "") {
			t.Fatalf("accepted %q as %+v", b, p)
		}
		// What was accepted starts or updates an activity without panicking.
		s := NewStore(func() time.Time { return time.Unix(p.Timestamp, 0) })
		if p.Event == EventStart {
			s.Start("app", p)
		}
	})
}
