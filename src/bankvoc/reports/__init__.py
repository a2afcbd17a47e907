"""The monthly Voice-of-Customer report, its quarterly review, regulatory statistics; HTML, PDF, XLSX."""
