package verify

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"time"
)

// GoogleServices is a google-services.json: the Firebase project and the
// Android apps registered in it.
type GoogleServices struct {
	Path          string        `json:"path"`
	ProjectID     string        `json:"project_id"`
	ProjectNumber string        `json:"project_number"` // the FCM sender id
	Clients       []FirebaseApp `json:"clients"`
}

// FirebaseApp is one client entry of google-services.json.
type FirebaseApp struct {
	Package string `json:"package_name"`
	AppID   string `json:"mobilesdk_app_id"`
}

// Client returns the entry of package pkg.
func (g *GoogleServices) Client(pkg string) (FirebaseApp, bool) {
	for _, c := range g.Clients {
		if c.Package == pkg {
			return c, true
		}
	}
	return FirebaseApp{}, false
}

// Packages lists the package names of the clients.
func (g *GoogleServices) Packages() []string {
	out := make([]string, 0, len(g.Clients))
	for _, c := range g.Clients {
		out = append(out, c.Package)
	}
	return out
}

// ParseGoogleServices reads google-services.json as the Firebase console
// writes it.
func ParseGoogleServices(data []byte) (*GoogleServices, error) {
	var f struct {
		ProjectInfo *struct {
			ProjectNumber string `json:"project_number"`
			ProjectID     string `json:"project_id"`
		} `json:"project_info"`
		Client []struct {
			ClientInfo struct {
				MobileSDKAppID    string `json:"mobilesdk_app_id"`
				AndroidClientInfo struct {
					PackageName string `json:"package_name"`
				} `json:"android_client_info"`
			} `json:"client_info"`
		} `json:"client"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	if f.ProjectInfo == nil {
		return nil, errors.New("no project_info: not a google-services.json (a service-account key has private_key instead)")
	}
	g := &GoogleServices{ProjectID: f.ProjectInfo.ProjectID, ProjectNumber: f.ProjectInfo.ProjectNumber}
	if g.ProjectID == "" || g.ProjectNumber == "" {
		return nil, errors.New("project_info needs project_id and project_number")
	}
	for _, c := range f.Client {
		g.Clients = append(g.Clients, FirebaseApp{Package: c.ClientInfo.AndroidClientInfo.PackageName, AppID: c.ClientInfo.MobileSDKAppID})
	}
	if len(g.Clients) == 0 {
		return nil, errors.New("no client entries: register the Android app in the Firebase console and download the file again")
	}
	return g, nil
}

// ReadGoogleServices reads and parses a google-services.json file.
func ReadGoogleServices(path string) (*GoogleServices, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &InputError{File: path, Err: unwrapPathErr(err)}
	}
	g, err := ParseGoogleServices(b)
	if err != nil {
		return nil, &InputError{File: path, Err: err}
	}
	g.Path = path
	return g, nil
}

// APK is what an Android build has compiled in that push depends on: its
// package name and the string resources the google-services Gradle plugin
// generates from google-services.json.
type APK struct {
	Path        string `json:"path"`
	Package     string `json:"package"`
	VersionName string `json:"version_name,omitempty"`
	// The google-services values (resource names in parentheses).
	AppID     string `json:"google_app_id"`      // (google_app_id) = mobilesdk_app_id
	SenderID  string `json:"gcm_default_sender"` // (gcm_defaultSenderId) = project_number
	ProjectID string `json:"project_id"`         // (project_id)
	APIKey    bool   `json:"has_google_api_key"` // (google_api_key); the key itself is not reported
}

// ErrNoAAPT is returned by ReadAPK when aapt is not found.
var ErrNoAAPT = errors.New("reading an .apk needs aapt, which is not on PATH: install it with `apt-get install aapt` " +
	"(Debian/Ubuntu) or put the Android SDK's build-tools/<version>/ on PATH; or pass google-services.json alone")

// ErrAAB is returned for an .aab.
var ErrAAB = errors.New("an .aab is a bundle for Play, not an installable app: make a universal APK from it first " +
	"(bundletool build-apks --bundle=app.aab --output=app.apks --mode=universal && unzip -p app.apks universal.apk > app.apk) " +
	"and pass app.apk, or pass google-services.json alone")

// ReadAPK reads an .apk with aapt (aaptPath, or "aapt" on PATH).
func ReadAPK(ctx context.Context, path, aaptPath string) (*APK, error) {
	if strings.HasSuffix(strings.ToLower(path), ".aab") {
		return nil, &InputError{File: path, Err: ErrAAB}
	}
	if _, err := os.Stat(path); err != nil {
		return nil, &InputError{File: path, Err: unwrapPathErr(err)}
	}
	if aaptPath == "" {
		aaptPath = "aapt"
	}
	bin, err := exec.LookPath(aaptPath)
	if err != nil {
		return nil, &InputError{File: path, Err: ErrNoAAPT}
	}
	run := func(args ...string) ([]byte, error) {
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		var stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			msg := strings.TrimSpace(stderr.String())
			if msg == "" {
				msg = err.Error()
			}
			return nil, &InputError{File: path, Err: fmt.Errorf("aapt %s: %s", args[0]+" "+args[1], firstLine(msg))}
		}
		return out, nil
	}
	badging, err := run("dump", "badging", path)
	if err != nil {
		return nil, err
	}
	a := &APK{Path: path}
	a.Package, a.VersionName = parseBadging(badging)
	if a.Package == "" {
		return nil, inputErr(path, "aapt dump badging shows no package name")
	}
	res, err := run("dump", "--values", "resources", path)
	if err != nil {
		return nil, err
	}
	vals := parseResourceStrings(res)
	a.AppID, a.SenderID, a.ProjectID = vals["google_app_id"], vals["gcm_defaultSenderId"], vals["project_id"]
	a.APIKey = vals["google_api_key"] != ""
	return a, nil
}

var badgingPackage = regexp.MustCompile(`^package: name='([^']*)'`)

func parseBadging(out []byte) (pkg, version string) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if m := badgingPackage.FindStringSubmatch(sc.Text()); m != nil {
			pkg = m[1]
			if i := strings.Index(sc.Text(), "versionName='"); i >= 0 {
				rest := sc.Text()[i+len("versionName='"):]
				version, _, _ = strings.Cut(rest, "'")
			}
			return pkg, version
		}
	}
	return "", ""
}

// resourceLine matches "resource 0x7f020000 com.example:string/project_id: t=0x03 …".
var resourceLine = regexp.MustCompile(`^\s*resource 0x[0-9a-f]+ [^:]+:string/([A-Za-z0-9_]+):`)

// parseResourceStrings reads the string resources of `aapt dump --values
// resources` output, whose value is on the line after the resource's:
// (string8) "…" or (string16) "…". The default configuration's value wins;
// else the first one listed.
func parseResourceStrings(out []byte) map[string]string {
	vals, fromDefault := map[string]string{}, map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	pending, inDefault := "", false
	for sc.Scan() {
		line := sc.Text()
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "config ") {
			inDefault = strings.HasPrefix(t, "config (default)")
			continue
		}
		if m := resourceLine.FindStringSubmatch(line); m != nil {
			pending = m[1]
			continue
		}
		if pending == "" {
			continue
		}
		if strings.HasPrefix(t, "(string8) ") || strings.HasPrefix(t, "(string16) ") {
			_, v, _ := strings.Cut(t, ") ")
			v = strings.TrimSuffix(strings.TrimPrefix(v, `"`), `"`)
			if _, seen := vals[pending]; !seen || inDefault && !fromDefault[pending] {
				vals[pending], fromDefault[pending] = v, inDefault
			}
		}
		pending = ""
	}
	return vals
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
