// LabTraining: see docs/ARCHITECTURE.md.
