"""The closed loop of a case: one table of (status, action) -> next status and role, and one
service call per action that checks role, org scope, state and version before it acts."""
