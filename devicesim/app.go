package devicesim

import (
	"crypto/ecdsa"
	"fmt"

	"github.com/pushlab/pushlab/mmpush"
	"github.com/pushlab/pushlab/testpki"
)

// Platform is the operating system of a simulated device.
type Platform string

const (
	IOS     Platform = "ios"     // receives APNs payloads
	Android Platform = "android" // receives FCM messages
)

// The proxy push types, which are also the prefix of a Mattermost device id
// ("apple_rn:<token>"): the app tells its server which of the proxy's
// credentials can reach it.
const (
	TypeApple     = mmpush.PlatformApple
	TypeAppleRN   = mmpush.PlatformAppleRN
	TypeAndroid   = mmpush.PlatformAndroid
	TypeAndroidRN = mmpush.PlatformAndroidRN
)

// App is the identity compiled into an app build. A push whose topic or
// project does not match it is not the app's to show.
type App struct {
	// Name labels the app in timelines ("iOS token-auth").
	Name     string
	Platform Platform
	// ProxyType is the proxy push type the app announces in its device id
	// (TypeApple, TypeAppleRN, TypeAndroid, TypeAndroidRN).
	ProxyType string

	// iOS, from embedded.mobileprovision.
	TeamID      string
	BundleID    string
	Environment testpki.Environment // the aps-environment entitlement
	// LiveActivities is NSSupportsLiveActivities: the app runs Live
	// Activities, and gets a push-to-start token at install.
	LiveActivities bool
	// ActivityTypes are the ActivityAttributes types compiled into the app;
	// a start push naming another attributes-type is dropped, as iOS cannot
	// decode it. Empty: any type.
	ActivityTypes []string

	// Android, from google-services.json.
	Package       string
	ProjectID     string
	ProjectNumber string // the FCM sender id
	AppID         string // mobilesdk_app_id
}

// ID is what the provider knows the app by: the bundle id (APNs topic) or the
// Android package.
func (a App) ID() string {
	if a.Platform == IOS {
		return a.BundleID
	}
	return a.Package
}

// Env is the second half of a provider registration: the APNs environment,
// or the Firebase project id (pushtest.Registration's Environment or Project).
func (a App) Env() string {
	if a.Platform == IOS {
		return string(a.Environment)
	}
	return a.ProjectID
}

// Validate reports a missing part of the identity.
func (a App) Validate() error {
	switch a.Platform {
	case IOS:
		if a.BundleID == "" {
			return fmt.Errorf("devicesim: iOS app %q has no bundle id", a.Name)
		}
		if a.Environment != testpki.Development && a.Environment != testpki.Production {
			return fmt.Errorf("devicesim: iOS app %q: aps-environment %q is neither development nor production", a.Name, a.Environment)
		}
	case Android:
		if a.Package == "" || a.ProjectID == "" {
			return fmt.Errorf("devicesim: Android app %q needs a package and a Firebase project id", a.Name)
		}
	default:
		return fmt.Errorf("devicesim: app %q: unknown platform %q", a.Name, a.Platform)
	}
	switch a.ProxyType {
	case TypeApple, TypeAppleRN:
		if a.Platform != IOS {
			return fmt.Errorf("devicesim: app %q: proxy type %q is for iOS", a.Name, a.ProxyType)
		}
	case TypeAndroid, TypeAndroidRN:
		if a.Platform != Android {
			return fmt.Errorf("devicesim: app %q: proxy type %q is for Android", a.Name, a.ProxyType)
		}
	default:
		return fmt.Errorf("devicesim: app %q: unknown proxy type %q", a.Name, a.ProxyType)
	}
	return nil
}

// The apps a testpki.Set is made for, matching the proxy configuration it
// writes (proxytest.KeySetConfig): "apple" is token auth against production,
// "apple_rn" certificate auth against development, "android" and
// "android_rn" the service account's project.

// IOSTokenApp is the iOS app the proxy reaches with the .p8 key.
func IOSTokenApp(set *testpki.Set) App {
	return App{Name: "iOS token-auth", Platform: IOS, ProxyType: TypeApple,
		TeamID: set.TeamID, BundleID: set.BundleID, Environment: testpki.Production}
}

// IOSCertApp is the iOS app the proxy reaches with the development certificate.
func IOSCertApp(set *testpki.Set) App {
	return App{Name: "iOS cert-auth", Platform: IOS, ProxyType: TypeAppleRN,
		TeamID: set.TeamID, BundleID: set.CertBundleID, Environment: testpki.Development}
}

// AndroidApp is the Android app of proxy type "android".
func AndroidApp(set *testpki.Set) App {
	return androidApp(set, "Android", TypeAndroid, set.Package)
}

// AndroidRNApp is the Android app of proxy type "android_rn".
func AndroidRNApp(set *testpki.Set) App {
	return androidApp(set, "Android RN", TypeAndroidRN, set.RNPackage)
}

func androidApp(set *testpki.Set, name, typ, pkg string) App {
	a := App{Name: name, Platform: Android, ProxyType: typ, Package: pkg, ProjectID: set.ProjectID}
	if set.Firebase != nil {
		a.ProjectID = set.Firebase.ProjectID
		a.ProjectNumber = set.Firebase.ProjectNumber
		a.AppID = "1:" + set.Firebase.ProjectNumber + ":android:" + fmt.Sprintf("%x", []byte(pkg))[:16]
	}
	return a
}

// PinnedKeys is the server signing key of set as the apps pin it, by kid.
func PinnedKeys(set *testpki.Set) map[string]*ecdsa.PublicKey {
	return map[string]*ecdsa.PublicKey{set.SigningKeyID: &set.Signing.PublicKey}
}
