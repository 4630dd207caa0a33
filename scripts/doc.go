// Package scripts holds no code: its tests run the shell scripts beside
// them (release.sh, man.sh) as CI would, and check what they produce.
package scripts
