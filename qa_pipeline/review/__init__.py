"""The review workbench: a web app where QA leads review flagged calls, supervisors read
scorecards and dispute verdicts. Library logic lives in plain modules (queue, actions, sla,
calibration, final); `app.py` is a thin FastAPI layer over them."""
