// LabData: see docs/ARCHITECTURE.md.
