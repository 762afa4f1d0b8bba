// LabSimulation: see docs/ARCHITECTURE.md.
