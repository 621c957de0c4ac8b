"""Reports: one module per report (funnel, pipeline, managers, inquiries, sources, base),
each taking a `ReportFilter` and an actor and returning plain dataclasses that the web,
the bot and the API render alike; `drill` functions list the records behind a figure;
`export` writes any report table or drill-down as CSV or XLSX."""
