// Package release holds no code: its tests run the shell scripts of
// scripts/ (release.sh, man.sh) as CI would, and check what they produce.
package release
