package aws

import "testing"

// TestDefaultHTTPClientPool: the default client keeps an idle connection
// for every worker, and never fewer than the SDK's own pool.
func TestDefaultHTTPClientPool(t *testing.T) {
	cases := map[string]struct {
		concurrency, perHost, all int
	}{
		"Many workers": {concurrency: 128, perHost: 128, all: 128},
		"Default":      {concurrency: 16, perHost: 16, all: 100},
		"Few workers":  {concurrency: 4, perHost: 10, all: 100},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			tr := defaultHTTPClient(tc.concurrency).GetTransport()
			if tr.MaxIdleConnsPerHost != tc.perHost || tr.MaxIdleConns != tc.all {
				t.Errorf("concurrency %d: MaxIdleConnsPerHost %d, MaxIdleConns %d; want %d and %d",
					tc.concurrency, tr.MaxIdleConnsPerHost, tr.MaxIdleConns, tc.perHost, tc.all)
			}
			if tr.MaxConnsPerHost != 0 && tr.MaxConnsPerHost < tc.concurrency {
				t.Errorf("MaxConnsPerHost %d would serialise %d workers", tr.MaxConnsPerHost, tc.concurrency)
			}
		})
	}
}
