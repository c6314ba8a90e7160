"""Problems whose exact meta-objective and meta-gradient the package knows, to measure estimators against."""
