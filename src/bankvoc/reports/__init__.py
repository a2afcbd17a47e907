"""The monthly Voice-of-Customer report, its quarterly review and the regulatory statistics;
HTML, PDF and XLSX."""
