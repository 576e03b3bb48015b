package mockapns

import (
	"strconv"
	"testing"

	"github.com/pushlab/pushlab/internal/mocktest"
	"github.com/pushlab/pushlab/testpki"
)

// BenchmarkRegistry registers b.N device tokens, and in "online" attaches
// each one too, and reports the memory one costs the mock (the README's
// target: a million in < 300 MiB):
// go test -run '^$' -bench Registry -benchtime 1000000x ./mockapns
func BenchmarkRegistry(b *testing.B) {
	var s *Server
	phone := ReceiverFunc(func(Delivery) {})
	fresh := func() {
		var err error
		if s, err = New(Config{}); err != nil {
			b.Fatal(err)
		}
	}
	mocktest.BenchmarkRegistry(b, fresh, func(i int, online bool) string {
		reg, err := s.RegisterDevice("com.example.app", testpki.Production, "d"+strconv.Itoa(i))
		if err != nil {
			b.Fatal(err)
		}
		if online {
			s.Attach(reg.Token, phone)
		}
		return reg.Token
	}, func(token string) bool { _, ok := s.reg.Lookup(token); return ok })
}
