"""Reports over time: what changed since an earlier snapshot, trends and forecasts.

Nothing here imports the plotting library or WeasyPrint at module level; charts are
drawn only when a report asks for them.
"""
