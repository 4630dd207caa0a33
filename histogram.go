package poolpilot

// Histogram is a cumulative histogram (counts since the pool opened, never
// windowed), the shape Prometheus histograms need.
type Histogram struct {
	// Count is the number of observations.
	Count uint64
	// SumSeconds is the sum of all observations, in seconds.
	SumSeconds float64
	// Buckets maps each upper bound (seconds) to the cumulative number of
	// observations less than or equal to it. The +Inf bucket is implied by
	// Count and must not be included.
	Buckets map[float64]uint64
}

// WaitHistogrammer is implemented by a Pool that exposes the histogram of its
// acquire waits; the HTTP surface exports it as the Prometheus histogram
// poolpilot_pool_acquire_wait_seconds when the pool implements it.
type WaitHistogrammer interface {
	AcquireWaitHistogram() Histogram
}
