package verify

import "testing"

func TestParseAAPTOutput(t *testing.T) {
	res := []byte(`Package Groups (1)
Package Group 0 id=0x7f packageCount=1 name=com.example.chat
  Package 0 id=0x7f name=com.example.chat
    type 1 configCount=2 entryCount=2
      config fr:
        resource 0x7f020000 com.example.chat:string/app_name: t=0x03 d=0x00000002 (s=0x0008 r=0x00)
          (string16) "Discussion"
        resource 0x7f020001 com.example.chat:string/project_id: t=0x03 d=0x00000003 (s=0x0008 r=0x00)
          (string8) "chat-fr"
      config (default):
        resource 0x7f020000 com.example.chat:string/app_name: t=0x03 d=0x00000000 (s=0x0008 r=0x00)
          (string16) "Chat"
        resource 0x7f020001 com.example.chat:string/project_id: t=0x03 d=0x00000001 (s=0x0008 r=0x00)
          (string8) "chat-prod"
        resource 0x7f020002 com.example.chat:string/gcm_defaultSenderId: t=0x03 d=0x00000004 (s=0x0008 r=0x00)
          (string16) "1234"
`)
	got := parseResourceStrings(res)
	for k, want := range map[string]string{"app_name": "Chat", "project_id": "chat-prod", "gcm_defaultSenderId": "1234"} {
		if got[k] != want {
			t.Errorf("%s = %q, want %q (default configuration)", k, got[k], want)
		}
	}
	pkg, version := parseBadging([]byte("package: name='com.example.chat' versionCode='650' versionName='2.31.0' platformBuildVersionName='14'\nsdkVersion:'24'\n"))
	if pkg != "com.example.chat" || version != "2.31.0" {
		t.Errorf("badging: %q %q", pkg, version)
	}
	if pkg, _ := parseBadging([]byte("sdkVersion:'24'\n")); pkg != "" {
		t.Errorf("no package line, got %q", pkg)
	}
}
