package mockapnstest_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/sideshow/apns2"

	"github.com/pushlab/pushlab/mockapns/mockapnstest"
)

// In a test, t is the test's own *testing.T; an Example has none, so exampleT
// stands in: it panics where a test would fail, and runs the cleanups at the end.
func Example() {
	t := &exampleT{}
	defer t.cleanup()

	s := mockapnstest.NewServer(t)
	client := s.Trust(apns2.NewTokenClient(s.NewKey()))
	phone := s.RegisterDevice("com.example.app", mockapnstest.Development, "iphone")
	res, err := client.Push(&apns2.Notification{DeviceToken: phone.Token,
		Topic: "com.example.app", Payload: []byte(`{"aps":{"alert":"hi"}}`)})
	if err != nil {
		t.Fatalf("push: %v", err)
	}
	got, err := phone.Next(context.Background())
	fmt.Println(res.StatusCode, string(got.Payload), err)
	// Output: 200 {"aps":{"alert":"hi"}} <nil>
}

type exampleT struct {
	testing.TB
	cleanups []func()
}

func (t *exampleT) Helper()                           {}
func (t *exampleT) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
func (t *exampleT) Cleanup(f func())                  { t.cleanups = append(t.cleanups, f) }

func (t *exampleT) cleanup() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}
