"""Voice-of-Customer numbers: the KPI registry (one definition each), the roll-ups kept up to
date as cases change, cuts, period comparisons, targets, drill-down and exports."""
