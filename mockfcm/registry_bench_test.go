package mockfcm

import (
	"strconv"
	"testing"

	"github.com/pushlab/pushlab/internal/mocktest"
)

// BenchmarkRegistry registers b.N device tokens, and in "online" attaches
// each one too, and reports the memory one costs the mock (the README's
// target: a million in < 300 MiB):
// go test -run '^$' -bench Registry -benchtime 1000000x ./mockfcm
func BenchmarkRegistry(b *testing.B) {
	for _, online := range []bool{false, true} {
		name := "registered"
		if online {
			name = "online"
		}
		b.Run(name, func(b *testing.B) {
			s, err := New(Config{})
			if err != nil {
				b.Fatal(err)
			}
			phone := ReceiverFunc(func(Delivery) {})
			mocktest.MeasureTokens(b, func(i int) string {
				reg, err := s.RegisterDevice("com.example.app", "demo-project", "d"+strconv.Itoa(i))
				if err != nil {
					b.Fatal(err)
				}
				if online {
					s.Attach(reg.Token, phone)
				}
				return reg.Token
			}, func(token string) bool { _, ok := s.reg.Lookup(token); return ok })
		})
	}
}
