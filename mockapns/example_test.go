package mockapns_test

import (
	"fmt"

	"github.com/sideshow/apns2"
	"github.com/sideshow/apns2/token"

	"github.com/pushlab/pushlab/mockapns"
	"github.com/pushlab/pushlab/testpki"
)

// The Server works like an httptest.Server: start it, point apns2 at its
// URL with its Client, and see what the phone received. (A test would
// rather use mockapnstest, which does this in three lines.)
func Example() {
	s, _ := mockapns.New(mockapns.Config{}) // makes its own CA and certificate
	s.Start()
	defer s.Close()
	k, _ := testpki.NewAPNsKey("") // or the .p8 of your own
	s.RegisterKey(mockapns.Key{ID: k.KeyID, TeamID: k.TeamID, Public: &k.Key.PublicKey})
	reg, _ := s.RegisterDevice("com.example.app", mockapns.Production, "iphone")
	phone := make(chan mockapns.Delivery, 1)
	s.Attach(reg.Token, mockapns.ReceiverFunc(func(d mockapns.Delivery) { phone <- d }))

	client := apns2.NewTokenClient(&token.Token{AuthKey: k.Key, KeyID: k.KeyID, TeamID: k.TeamID})
	client.Host, client.HTTPClient = s.URL, s.Client() // s.DevelopmentURL for the sandbox
	res, err := client.Push(&apns2.Notification{DeviceToken: reg.Token, Topic: "com.example.app",
		Payload: []byte(`{"aps":{"alert":"hi"}}`)})
	fmt.Println(res.StatusCode, err, string((<-phone).Payload))
	// Output: 200 <nil> {"aps":{"alert":"hi"}}
}

// A fault scripts what Apple does on a bad day: here the next push to one
// device is answered 410 Unregistered.
func ExampleServer_AddFault() {
	s, _ := mockapns.New(mockapns.Config{})
	f, err := s.AddFault(mockapns.Fault{Token: "0123abcd", Status: 410, Reason: mockapns.ReasonUnregistered, Count: 1})
	fmt.Println(f.ID, f.Action, err, len(s.Faults()))
	// Output: f1 respond <nil> 1
}
