"""Reports: functions of the result record (text, JSON, Markdown, HTML, LaTeX, figures).

LaTeX (sympy's printer) and figures (matplotlib) are imported from their own modules,
`report.latex` and `report.figures`, so the plain reports load neither.
"""
