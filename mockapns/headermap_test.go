package mockapns

import (
	"maps"
	"reflect"
	"sync/atomic"
	"testing"
)

func TestSharedHeaders(t *testing.T) {
	var last atomic.Pointer[headerMap]
	set := func(kv ...string) *headerMap {
		var h headerMap
		for i := 0; i < len(kv); i += 2 {
			h.add(kv[i], kv[i+1])
		}
		return &h
	}
	a := sharedHeaders(&last, set("apns-topic", "t", "apns-priority", "10"))
	if want := map[string]string{"apns-topic": "t", "apns-priority": "10"}; !maps.Equal(a, want) {
		t.Fatalf("got %v, want %v", a, want)
	}
	if b := sharedHeaders(&last, set("apns-topic", "t", "apns-priority", "10")); reflect.ValueOf(b).Pointer() != reflect.ValueOf(a).Pointer() {
		t.Errorf("the same headers again built a new map")
	}
	for _, other := range []*headerMap{
		set("apns-topic", "t", "apns-priority", "5"),           // another value
		set("apns-topic", "t", "apns-expiration", "10"),        // another name, same count
		set("apns-topic", "t"),                                 // fewer
		set("apns-topic", "t", "apns-priority", "10", "x", ""), // one more, empty
	} {
		want := other.build()
		got := sharedHeaders(&last, other)
		if !maps.Equal(got, want) || reflect.ValueOf(got).Pointer() == reflect.ValueOf(a).Pointer() {
			t.Errorf("%v: got %v (shared with the first: %v)", want, got, reflect.ValueOf(got).Pointer() == reflect.ValueOf(a).Pointer())
		}
	}
}
