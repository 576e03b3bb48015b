package mockapns

import "github.com/pushlab/pushlab/testpki"

// Environment is an APNs environment, as a device's aps-environment
// entitlement names it: Production (api.push.apple.com) or Development
// (api.sandbox.push.apple.com). Tokens, keys and certificates belong to one
// (or, for keys and universal certificates, both).
type Environment = testpki.Environment

// The two APNs environments.
const (
	Production  = testpki.Production
	Development = testpki.Development
)
