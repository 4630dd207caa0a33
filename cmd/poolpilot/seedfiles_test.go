package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/poolpilot/poolpilot/evidence"
)

// seedFiles are the seed's evidence files, which a run that changed
// something leaves whatever its driver (report/model.go lists them too).
var seedFiles = []string{
	evidence.FilePlan, evidence.FileChecklist, evidence.FileApproval,
	evidence.FilePreChangeMetrics, evidence.FilePreChangeConfig, evidence.FilePreChangeConnections,
	evidence.FilePreChangeErrorRate, evidence.FilePreChangeLatency,
	evidence.FileDeploymentLog, evidence.FileConfigDiff, evidence.FileRestartLog,
	evidence.FilePostChangeConfig, evidence.FileSyntheticLoadTest, evidence.FileSustainedMonitoring,
	evidence.FileErrorRateComparison, evidence.FileLatencyComparison, evidence.FileExecutionLog,
}

// allSeedFiles fails the test for every seed evidence file dir lacks.
func allSeedFiles(t *testing.T, dir string) {
	t.Helper()
	for _, name := range seedFiles {
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil || st.Size() == 0 {
			t.Errorf("seed evidence file %s: %v (empty or missing)", name, err)
		}
	}
}
