/// The figures read run configs (`RunConfig`) and final windows through the analysis layer;
/// callers of LabPlots see its types without importing it themselves.
@_exported import LabAnalysis
