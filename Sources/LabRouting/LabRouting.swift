// LabRouting: see docs/ARCHITECTURE.md.
