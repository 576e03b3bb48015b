package mmpush

import (
	"strconv"
	"strings"
)

// SigningVersions are the first server release of each line that signs
// every push: the mobile apps refuse NO_SIGNATURE from these versions on
// (and from any later major or minor than the first), and accept it from
// anything older (mattermost-mobile, PushNotification+Signature.swift).
var SigningVersions = [][3]int{{9, 8, 0}, {9, 7, 3}, {9, 6, 3}, {9, 5, 5}, {8, 1, 14}}

// ServerSigns reports whether a Mattermost server of version ("9.7.3",
// "10.11.0"; anything after the patch number is ignored) signs its pushes,
// judged as the apps judge a NO_SIGNATURE push. ok is false when version is
// not major.minor.patch, which the apps treat as "must have signed".
func ServerSigns(version string) (signs, ok bool) {
	parts := strings.SplitN(version, ".", 4)
	if len(parts) < 3 {
		return false, false
	}
	var v [3]int
	for i := range v {
		digits := parts[i]
		if i == 2 {
			// "3-rc1", "3+build" as a patch: its leading digits.
			end := strings.IndexFunc(digits, func(r rune) bool { return r < '0' || r > '9' })
			if end >= 0 {
				digits = digits[:end]
			}
		}
		n, err := strconv.Atoi(digits)
		if err != nil || n < 0 {
			return false, false
		}
		v[i] = n
	}
	for i, t := range SigningVersions {
		first := i == 0
		switch {
		case v[0] > t[0]:
			return first, true // newer than every line: only the first (highest) target decides
		case v[0] < t[0]:
			continue
		case v[1] > t[1]:
			return first, true
		case v[1] < t[1]:
			continue
		case v[2] >= t[2]:
			return true, true
		default:
			return false, true // same line, an earlier patch
		}
	}
	return false, true // older than every target
}
