"""The known-problem library (投诉问题库): root causes traced at closure (溯源整改), problems and
the cases linked to them, improvement actions with their measured effect, staff suggestions."""
