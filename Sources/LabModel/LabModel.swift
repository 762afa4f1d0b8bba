// LabModel: see docs/ARCHITECTURE.md.
