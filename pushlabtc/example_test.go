package pushlabtc_test

import (
	"context"
	"fmt"
	"log"

	"github.com/pushlab/pushlab/pushlabtc"
)

// A scenario for your own proxy in ten lines: start the mocks and the proxy
// image, register an iPhone, push, and see what Apple would hold for it.
func Example() {
	ctx := context.Background()
	image, err := pushlabtc.BuildImage(ctx, pushlabtc.BuildOptions{Source: ".."}) // or "pushlab:dev" from `make image`
	if err != nil {
		log.Fatal(err)
	}
	lab, err := pushlabtc.Run(ctx, pushlabtc.Options{Image: image /*, ProxyImage: "you/your-push-proxy:tag" */})
	defer lab.Terminate(ctx)
	if err != nil {
		log.Fatal(err)
	}
	token, _ := lab.RegisterIOS(ctx, lab.Apps.BundleID, "production")
	status, err := lab.SendPush(ctx, map[string]any{"platform": "apple", "server_id": "my-server", "device_id": token,
		"type": "message", "message": "hello from my proxy", "ack_id": "example-1"})
	pending, _ := lab.Pending(ctx, token)
	fmt.Println(status, err, len(pending), pending[0].App == lab.Apps.BundleID)
	// Output: OK <nil> 1 true
}
