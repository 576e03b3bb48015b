package mockfcmtest_test

import (
	"context"
	"fmt"
	"testing"

	firebase "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/messaging"

	"github.com/pushlab/pushlab/mockfcm/mockfcmtest"
)

// In a test, t is the test's own *testing.T; an Example has none, so exampleT
// stands in: it panics where a test would fail, and runs the cleanups at the end.
func Example() {
	t := &exampleT{}
	defer t.cleanup()
	ctx := context.Background()

	s := mockfcmtest.NewServer(t)
	app, _ := firebase.NewApp(ctx, nil, s.ClientOptions(s.NewServiceAccountJSON())...)
	client, _ := app.Messaging(ctx)
	phone := s.RegisterDevice("com.example.app", s.ProjectID, "pixel")
	_, err := client.Send(ctx, &messaging.Message{Token: phone.Token, Data: map[string]string{"k": "v"}})
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	got, err := phone.Next(ctx)
	fmt.Println(string(got.Payload), err)
	// Output: {"data":{"k":"v"}} <nil>
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
