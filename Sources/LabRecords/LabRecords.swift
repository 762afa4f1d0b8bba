// LabRecords: see docs/ARCHITECTURE.md.
