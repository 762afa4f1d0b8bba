// TestSupport: helpers shared by the test targets (finite differences, random data).
