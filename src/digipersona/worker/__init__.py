"""The only place that knows the job engine: the embedded thread pool or Celery.

Domains declare jobs in their ``tasks.py`` with ``@task("domain.name")``; jobs take ids only and
re-fetch rows in their own sessions (CONVENTIONS.md rule 6).
"""
