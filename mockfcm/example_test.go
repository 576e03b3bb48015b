package mockfcm_test

import (
	"context"
	"fmt"

	firebase "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/messaging"

	"github.com/pushlab/pushlab/mockfcm"
	"github.com/pushlab/pushlab/testpki"
)

// The Server works like an httptest.Server: start it, give the firebase SDK
// its options, and see what the phone received. (A test would rather use
// mockfcmtest, which does this in three lines.)
func Example() {
	s, _ := mockfcm.New(mockfcm.Config{})
	s.Start()
	defer s.Close()
	sa, _ := testpki.NewServiceAccount("my-project", s.TokenURL()) // or a file of your own, token_uri = s.TokenURL()
	s.RegisterServiceAccountJSON(sa.JSON())
	reg, _ := s.RegisterDevice("com.example.app", "my-project", "pixel")
	phone := make(chan mockfcm.Delivery, 1)
	s.Attach(reg.Token, mockfcm.ReceiverFunc(func(d mockfcm.Delivery) { phone <- d }))

	ctx, opts, _ := s.SDKOptions(context.Background(), sa.JSON())
	app, _ := firebase.NewApp(ctx, nil, opts...)
	client, _ := app.Messaging(ctx)
	_, err := client.Send(ctx, &messaging.Message{Token: reg.Token, Data: map[string]string{"k": "v"}})
	fmt.Println(err, string((<-phone).Payload))
	// Output: <nil> {"data":{"k":"v"}}
}

// A fault named by its FCM code alone takes the code's HTTP status.
func ExampleServer_AddFault() {
	s, _ := mockfcm.New(mockfcm.Config{})
	f, err := s.AddFault(mockfcm.Fault{Reason: mockfcm.Unregistered, Count: 1})
	fmt.Println(f.ID, f.Action, f.Status, err)
	// Output: f1 respond 404 <nil>
}
