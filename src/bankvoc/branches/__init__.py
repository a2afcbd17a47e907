"""Outlet inspections and mystery-shopper visits scored against the service-standard checklist."""
