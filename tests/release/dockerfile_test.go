package release

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// The image cannot be built in CI (no registry); its Dockerfile is read
// instead: a build stage that links the version like release.sh, and a
// final stage on scratch (no shell) running the static binary as the
// non-root user deploy/kubernetes/job.yaml runs as.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var stages [][]string // each stage's instructions, comments and continuations joined
	for _, ins := range strings.Split(regexp.MustCompile(`\\\n\s*`).ReplaceAllString(string(b), " "), "\n") {
		ins = strings.TrimSpace(ins)
		if ins == "" || strings.HasPrefix(ins, "#") {
			continue
		}
		if strings.HasPrefix(ins, "FROM ") {
			stages = append(stages, nil)
		}
		if len(stages) == 0 {
			t.Fatalf("%q before the first FROM", ins)
		}
		stages[len(stages)-1] = append(stages[len(stages)-1], ins)
	}
	if len(stages) < 2 {
		t.Fatalf("%d stage(s): want a build stage and a final one", len(stages))
	}
	build := strings.Join(stages[0], "\n")
	for _, want := range []string{"CGO_ENABLED=0 go build", "-X main.version=${VERSION}", "-X main.commit=${COMMIT}", "./cmd/poolpilot"} {
		if !strings.Contains(build, want) {
			t.Errorf("the build stage lacks %q:\n%s", want, build)
		}
	}
	final := stages[len(stages)-1]
	if final[0] != "FROM scratch" {
		t.Errorf("final stage %q: want FROM scratch (no shell)", final[0])
	}
	var user, entry string
	for _, ins := range final {
		switch {
		case strings.HasPrefix(ins, "USER "):
			user = strings.TrimPrefix(ins, "USER ")
		case strings.HasPrefix(ins, "ENTRYPOINT "):
			entry = strings.TrimPrefix(ins, "ENTRYPOINT ")
		case strings.HasPrefix(ins, "RUN "):
			t.Errorf("final stage runs %q: scratch has no shell", ins)
		}
	}
	if user != "65532:65532" {
		t.Errorf("USER %q: want 65532:65532, the Job's runAsUser", user)
	}
	if entry != `["/usr/local/bin/poolpilot"]` {
		t.Errorf("ENTRYPOINT %s: want the exec form of the binary (no shell)", entry)
	}
	job, err := os.ReadFile("../../deploy/kubernetes/job.yaml")
	if err != nil || !strings.Contains(string(job), "runAsUser: 65532") {
		t.Errorf("job.yaml does not run as 65532: %v", err)
	}
}
