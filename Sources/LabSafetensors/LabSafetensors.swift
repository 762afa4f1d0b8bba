// LabSafetensors: see docs/ARCHITECTURE.md.
